"""Mutation fuzzing of every reader of outside data, with a seed corpus of valid files made here.

Each target is a reader and the typed errors it may raise. A mutation either flips, inserts, deletes or
repeats bytes, splices in a hostile token (a huge or fractional number, NaN, a deep bracket run, a path out of
the folder), or, for JSON, replaces one value anywhere in the document with a hostile one. An input passes when
the reader returns or raises one of its typed errors; anything else (an IndexError, a RecursionError, a hang
cut by the OS) is a finding, printed with the input that caused it.

pytest runs every target for a fixed number of inputs (tests/fuzz/test_fuzz.py); a longer run:

    .venv/bin/python -m tests.fuzz.readers --inputs 20000 --seed 7
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOSTILE_TOKENS = [
    b"-1",
    b"0",
    b"-5",
    b"2.9",
    b"1e400",
    b"-1e400",
    b"NaN",
    b"Infinity",
    b"9" * 5000,
    b"4294967296",
    b"18446744073709551616",
    b"true",
    b"null",
    b'""',
    b"[]",
    b"{}",
    b"[" * 5000,
    b'{"a":' * 3000,
    b"../../etc/passwd",
    b"/dev/zero",
    b"\x00",
    b"\xff\xfe",
    b"<!--",
    b"<![CDATA[",
    b"&amp;",
    b'"',
]
HOSTILE_VALUES: list[Any] = [
    -1,
    0,
    -5,
    2.9,
    1e300,
    -1e300,
    2**70,
    2**31,
    2**32 + 1,
    True,
    None,
    "",
    "48",
    "../../etc/passwd",
    "/dev/zero",
    [],
    {},
    [[[[]]]],
    {"name": None},
    "x" * 10_000,
    [0] * 1000,
]


@dataclass(frozen=True)
class Target:
    name: str
    suffix: str
    read: Callable[[Path], object]
    typed: tuple[type[BaseException], ...]
    seeds: Callable[[Path], list[Path]]
    """writes the valid seed files into a folder and returns them"""


def _level():
    import numpy as np

    from engine.level import Level, Spawn
    from engine.level import Semantic as S

    tiles = np.array([[1, 1, 1, 1, 1], [1, 5, 0, 3, 1], [1, 0, 0, 6, 1], [1, 1, 1, 1, 1]], dtype=np.uint8)
    return Level(tiles=tiles, spawns=(Spawn(S.ENEMY, 2, 2, {"hp": 2}),)).validate()


def _level_seeds(suffix: str, tileset: str = "embedded") -> Callable[[Path], list[Path]]:
    def make(folder: Path) -> list[Path]:
        from engine.formats import write_level
        from engine.formats.tiled import write_tiled

        path = folder / f"seed{suffix}"
        if suffix in (".tmj", ".tmx"):
            write_tiled(_level(), path, tileset=tileset)  # type: ignore[arg-type]
        else:
            write_level(_level(), path)
        return [path]

    return make


def _save_seeds(folder: Path) -> list[Path]:
    from engine.app.saves import write_save
    from engine.sim import Action, World

    world = World(_level(), seed=3)
    for i in range(12):
        world.step(Action(i % 5))
    write_save(folder / "save.json", world)
    return [folder / "save.json"]


def _settings_seeds(folder: Path) -> list[Path]:
    (folder / "settings.json").write_text('{"language": "zh", "narrator": true}\n')
    return [folder / "settings.json"]


def _card_seeds(folder: Path) -> list[Path]:
    from procgen.core.weights import WEIGHTS_DIR

    for suffix in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"sprites_classifier{suffix}", folder / f"classifier{suffix}")
    return [folder / "classifier.json"]


def _policy_seeds(folder: Path) -> list[Path]:
    from agents.policies.onnx_policy import POLICY_DIR

    shutil.copy(POLICY_DIR / "narrator.onnx", folder / "policy.onnx")
    return [folder / "policy.onnx"]


def _grammar_seeds(folder: Path) -> list[Path]:
    from agents.narrator.text import LINES_DIR

    shutil.copy(LINES_DIR / "en.json", folder / "grammar.json")
    return [folder / "grammar.json"]


def _read_grammar(path: Path) -> object:
    from agents.narrator.text import Grammar

    return Grammar.load("en", path)


def _read_card(path: Path) -> object:
    from procgen.characters.classifier import SpriteClassifier

    return SpriteClassifier.from_weights(path.with_suffix(""))


def _read_policy(path: Path) -> object:
    from agents.narrator.policy import _session

    _session.cache_clear()
    return _session(path)


def _level_then_world(path: Path) -> object:
    """Read a level, and if it loads, run it: a level the reader accepts must be one the World can play."""
    from engine.errors import LevelValidationError
    from engine.formats import read_level
    from engine.sim import Action, World

    level = read_level(path)
    try:
        world = World(level, seed=1)
    except LevelValidationError:  # a level without what a run needs (a start): typed, and fine
        return level
    world.check_state()
    for i in range(20):
        world.step(Action(i % 5))
    return world


def _save_then_steps(path: Path) -> object:
    """Read a save and continue it: a save that loads must keep the World's invariants as it runs."""
    from engine.app.saves import read_save
    from engine.sim import Action

    world = read_save(path)
    for i in range(20):
        world.step(Action(i % 5))
    world.check_state()
    return world


def targets() -> list[Target]:
    from agents.narrator.text import GrammarError
    from agents.policies.onnx_policy import PolicyFileError
    from demo_game.narration import Settings
    from engine.errors import LevelFormatError, SaveError
    from procgen.core.weights import WeightsError

    level = (LevelFormatError,)
    return [
        Target("json level", ".json", _level_then_world, level, _level_seeds(".json")),
        Target("tmj", ".tmj", _level_then_world, level, _level_seeds(".tmj")),
        Target("tmx", ".tmx", _level_then_world, level, _level_seeds(".tmx")),
        Target("tmx, external tileset", ".tmx", _level_then_world, level, _level_seeds(".tmx", "external")),
        Target("tmj, external tileset", ".tmj", _level_then_world, level, _level_seeds(".tmj", "external")),
        Target("vglc text", ".txt", _level_then_world, level, _level_seeds(".txt")),
        Target("save", ".json", _save_then_steps, (SaveError,), _save_seeds),
        Target("settings", ".json", Settings.load, (SaveError,), _settings_seeds),
        Target("weights card", ".json", _read_card, (WeightsError,), _card_seeds),
        Target("onnx policy", ".onnx", _read_policy, (PolicyFileError,), _policy_seeds),
        Target("grammar", ".json", _read_grammar, (GrammarError,), _grammar_seeds),
    ]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four byte-level or structural mutations of `data`; half of the JSON inputs get only structural
    ones, so they still parse and reach the reader's checks."""
    if data[:1] in (b"{", b"[") and rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            data = _mutate_json(data, rng)
        return data
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.4 and data[:1] in (b"{", b"["):
            data = _mutate_json(data, rng)
            continue
        i = rng.randrange(len(data) + 1)
        choice = rng.randrange(6)
        if choice == 0 and data:  # flip a byte
            i = min(i, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
        elif choice == 1:  # splice in a hostile token, replacing a short run
            data = data[:i] + rng.choice(HOSTILE_TOKENS) + data[i + rng.randrange(8) :]
        elif choice == 2:  # delete a run
            data = data[:i] + data[i + rng.randrange(1, 64) :]
        elif choice == 3:  # repeat a run
            run = data[i : i + rng.randrange(1, 64)]
            data = data[:i] + run * rng.randrange(2, 50) + data[i:]
        elif choice == 4:  # truncate
            data = data[:i]
        else:  # a digit run grows
            data = data[:i] + b"9" * rng.randrange(1, 30) + data[i:]
    return data


def _mutate_json(data: bytes, rng: random.Random) -> bytes:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return data
    slots: list[tuple[Any, Any]] = []  # (container, key) of every value in the document

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            slots.append((node, key))
            walk(child)

    walk(doc)
    if not slots:
        return data
    container, key = rng.choice(slots)
    if isinstance(container, dict) and rng.random() < 0.15:
        del container[key]
    else:
        container[key] = rng.choice(HOSTILE_VALUES)
    return json.dumps(doc).encode()


INPUT_SECONDS = 10


class _Hang(BaseException):
    """Raised by the alarm; a BaseException, so no reader's `except Exception` swallows it."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _Hang


@dataclass
class Finding:
    target: str
    error: str
    input_file: Path


def fuzz(target: Target, inputs: int, seed: int, keep: Path | None = None) -> tuple[int, list[Finding]]:
    """Run `inputs` mutated files through `target`; returns (inputs run, untyped exceptions found)."""
    rng = random.Random(f"{target.name}:{seed}")
    findings: list[Finding] = []
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seeds = target.seeds(folder)
        originals = {p: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        for n in range(inputs):
            victim = rng.choice(seeds) if rng.random() < 0.8 else rng.choice(list(originals))
            for path, data in originals.items():  # every file as it was, then one mutated
                _restore(path)
                path.write_bytes(data)
            mutated = mutate(originals[victim], rng)
            victim.unlink()
            if rng.random() < 0.03:  # the file becomes something that is not a regular file
                kind = rng.choice(["loop", "fifo", "folder", "device"])
                if kind == "loop":
                    os.symlink(victim.name, victim)
                elif kind == "fifo":
                    os.mkfifo(victim)
                elif kind == "folder":
                    victim.mkdir()
                else:
                    os.symlink("/dev/zero", victim)
                mutated = kind.encode()
            else:
                victim.write_bytes(mutated)
            signal.alarm(INPUT_SECONDS)  # a hang in Python code becomes a finding, not a stalled run
            try:
                target.read(seeds[0])
            except target.typed:
                pass
            except _Hang:
                findings.append(
                    _finding(target, n, mutated, f"Hang at input {n}: over {INPUT_SECONDS} s", keep)
                )
            except Exception as exc:  # any type but the typed ones is what the fuzzer looks for
                where = traceback.extract_tb(exc.__traceback__)[-1]
                error = f"{type(exc).__name__} at {where.filename}:{where.lineno}: {exc}"[:300]
                findings.append(_finding(target, n, mutated, error, keep))
            finally:
                signal.alarm(0)
            _restore(victim)
        for path, data in originals.items():
            _restore(path)
            path.write_bytes(data)
    signal.signal(signal.SIGALRM, previous)
    return inputs, findings


def _finding(target: Target, n: int, mutated: bytes, error: str, keep: Path | None) -> Finding:
    """A finding, with the input that caused it saved for a regression test."""
    saved = (keep or Path(tempfile.gettempdir())) / f"fuzz_{target.name.replace(' ', '_')}_{n}"
    saved.write_bytes(mutated)
    return Finding(target.name, error, saved)


def _restore(path: Path) -> None:
    """Remove whatever a mutation left at `path` (a file, a link, a FIFO or a folder)."""
    if path.is_symlink() or path.is_file() or path.is_fifo():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=2000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", action="append", help="a target's name (default: all)")
    args = parser.parse_args(argv)
    total = 0
    for target in targets():
        if args.target and target.name not in args.target:
            continue
        n, findings = fuzz(target, args.inputs, args.seed)
        total += len(findings)
        sites = sorted({f.error.split(":")[0] + ":" + f.error.split(":")[1] for f in findings})
        print(f"{target.name}: {n} inputs, {len(findings)} untyped exceptions from {len(sites)} sites")
        for finding in findings[:5]:
            print(f"  {finding.error} ({finding.input_file})")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
