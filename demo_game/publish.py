"""`ludoforge publish RUN`: copy a training run's artefacts into the package folders that the loaders read.

Trainers write only under runs/. Each artefact in a run folder is a card, `<stem>.json`, whose `publish_as`
names where it ships (for example "agents/policies/hunter"), beside its files (`<stem>.safetensors`,
`<stem>.onnx`). Publishing checks every file against the sha256 its card records, refuses to replace a different
shipped file unless forced, and writes the card with a `published` record of the run it came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from engine.atomic import atomic_write_bytes, json_text
from engine.errors import LudoforgeError

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("agents/policies", "agents/policies/seeds", "procgen/weights")
"""where a card's `publish_as` may point: the folders the policy and weights loaders read"""
EXTRA_DIRS = ("docs/img",)
"""where a card's `publish_extras` (a learning curve, say) may go"""
FILE_HASHES = {".safetensors": "weights_sha256", ".onnx": "onnx_sha256"}
"""an artefact's file suffix → the card field holding its sha256"""
ONNX_ONLY_DIRS = ("agents/policies/seeds",)
"""where only the policy ships: a sibling seed is played (its ONNX) to aggregate over training seeds, never
trained on, so its tensors (twice the ONNX's size: the value net and all) stay in its run, hashed on its card"""


class PublishError(LudoforgeError, ValueError):
    """A run that cannot be published: names the file, the field and what was expected."""

    def __init__(self, path: str | Path, field: str, message: str) -> None:
        self.path, self.field = Path(path), field
        super().__init__(f"{path}: {field}: {message}")


@dataclass(frozen=True)
class Step:
    """One file publishing writes (or, when `action` is "unchanged", finds already there)."""

    source: Path
    dest: Path
    data: bytes
    action: Literal["copy", "replace", "unchanged"]
    card: bool = False

    def describe(self, root: Path) -> str:
        dest = self.dest.relative_to(root) if self.dest.is_relative_to(root) else self.dest
        return f"{self.action:9} {self.source} -> {dest}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_card(path: Path) -> dict[str, Any] | None:
    """The card at `path`, or None for a JSON file that is not an artefact's card (a curve, a list)."""
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishError(path, "card", f"not readable JSON ({exc})") from exc
    return card if isinstance(card, dict) and "publish_as" in card else None


def _cards(run: Path) -> list[tuple[Path, dict[str, Any]]]:
    if run.is_file() and run.suffix == ".json":
        card = _read_card(run)
        found = [] if card is None else [(run, card)]
    elif run.is_dir():
        found = [(p, c) for p in sorted(run.glob("*.json")) if (c := _read_card(p)) is not None]
    else:
        raise PublishError(
            run, "run", "not found; expected a run folder a trainer wrote, e.g. runs/npc/hunter"
        )
    if not found:
        raise PublishError(
            run,
            "card",
            "no <stem>.json card with publish_as here; expected the folder a trainer wrote from the shipped "
            "data (a run on your own corpus is not the package's: load it by path with --weights)",
        )
    return found


def _destination(card_path: Path, field: str, value: object, allowed: tuple[str, ...], root: Path) -> Path:
    """`value` ("agents/policies/hunter") under `root`, if it is a plain name in one of the `allowed` folders."""
    path = PurePosixPath(value) if isinstance(value, str) else None
    if path is None or str(path.parent) not in allowed or path.name in ("", ".", ".."):
        raise PublishError(
            card_path, field, f"expected <folder>/<name> with the folder one of {allowed}, got {value!r}"
        )
    return root / path


def _check_files(card_path: Path, card: dict[str, Any]) -> list[Path]:
    """The artefact's files beside its card, each matching the sha256 the card records."""
    stem = card_path.with_suffix("")
    files = []
    for suffix, field in FILE_HASHES.items():
        path = stem.with_suffix(suffix)
        if not path.is_file():
            if field in card:
                raise PublishError(path, "file", f"not found, though {card_path.name} records its {field}")
            continue
        if field not in card:
            raise PublishError(card_path, field, f"missing; expected the sha256 of {path.name}")
        digest = _sha256(path.read_bytes())
        if card[field] != digest:
            raise PublishError(card_path, field, f"does not match {path.name} (sha256 {digest[:12]}…)")
        if suffix == ".safetensors":
            from procgen.core.weights import load_weights

            load_weights(stem)  # the loaders' own check too: a card with a config, a readable tensor file
        files.append(path)
    return files


def _same_card(dest: Path, card: dict[str, Any]) -> bool:
    """Whether the shipped card at `dest` says what `card` says, apart from the record of publishing."""
    try:
        shipped = json.loads(dest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    strip = lambda c: {k: v for k, v in c.items() if k != "published"}  # noqa: E731
    return isinstance(shipped, dict) and strip(shipped) == strip(card)


def plan(run: str | Path, root: str | Path = REPO_ROOT) -> list[Step]:
    """Every file that publishing `run` writes under `root` (the repository, by default), validated."""
    run, root = Path(run), Path(root)
    steps: list[Step] = []
    for card_path, card in _cards(run):
        dest_stem = _destination(card_path, "publish_as", card["publish_as"], PACKAGE_DIRS, root)
        onnx_only = str(PurePosixPath(card["publish_as"]).parent) in ONNX_ONLY_DIRS
        for path in _check_files(card_path, card):
            if onnx_only and path.suffix != ".onnx":
                continue
            steps.append(_step(path, dest_stem.with_suffix(path.suffix), path.read_bytes()))
        extras = card.get("publish_extras", {})
        if not isinstance(extras, dict):
            raise PublishError(card_path, "publish_extras", "expected an object of run file → package path")
        for name, target in extras.items():
            source = card_path.parent / str(name)
            if source.parent != card_path.parent or not source.is_file():
                raise PublishError(card_path, f"publish_extras.{name}", "expected a file beside the card")
            dest = _destination(card_path, f"publish_extras.{name}", target, EXTRA_DIRS, root)
            steps.append(_step(source, dest, source.read_bytes()))
        dest_card = dest_stem.with_suffix(".json")
        published = card | {
            "published": {
                "from_run": str(card_path.parent),
                "card": card_path.name,
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
        }
        data = json_text(published, indent=1).encode("utf-8")
        action = (
            "copy" if not dest_card.exists() else "unchanged" if _same_card(dest_card, card) else "replace"
        )
        steps.append(Step(card_path, dest_card, data, action, card=True))
    return steps


def _step(source: Path, dest: Path, data: bytes) -> Step:
    if not dest.exists():
        return Step(source, dest, data, "copy")
    return Step(source, dest, data, "unchanged" if dest.read_bytes() == data else "replace")


def publish(
    run: str | Path, root: str | Path = REPO_ROOT, *, dry_run: bool = False, force: bool = False
) -> list[Step]:
    """Copy `run`'s artefacts and cards into the package under `root`; returns what it wrote (or, with
    `dry_run`, would write). Replacing a different shipped file needs `force`."""
    root = Path(root)
    steps = plan(run, root)
    replaced = [s for s in steps if s.action == "replace"]
    if replaced and not force:
        names = ", ".join(str(s.dest.relative_to(root)) for s in replaced)
        raise PublishError(
            replaced[0].dest, "file", f"a different file is shipped there ({names}); use --force to replace"
        )
    if not dry_run:
        # Cards last: if publishing stops half-way, a shipped card still names its old files, and the loaders'
        # hash check says so, instead of a new card vouching for files that never arrived.
        for step in sorted(steps, key=lambda s: s.card):
            if step.action != "unchanged":
                atomic_write_bytes(step.dest, step.data)
    return steps
