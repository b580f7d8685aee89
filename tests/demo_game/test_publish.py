"""Trainers write only under runs/, and `ludoforge publish RUN` ships a run's checked artefacts with their cards.

Every trainer's dry run leaves the package folders byte for byte as they were; publishing copies a run's files
and card into a package root (a temporary one here, never the real package), and refuses a run with no card, a
file that does not match its card, or a different shipped file without --force."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from demo_game.publish import REPO_ROOT, PublishError, publish
from procgen.core.weights import load_weights, save_weights

PACKAGE_FOLDERS = ("agents/policies", "procgen/weights", "docs/img")


def package_snapshot(root: Path = REPO_ROOT) -> dict[str, str]:
    """sha256 of every file in the folders the loaders read (and the docs' shipped curves)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in PACKAGE_FOLDERS
        for p in sorted((root / folder).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _q_learning(run: Path) -> Path:
    from agents.train.qlearning import main

    main(["--role", "hunter", "--dry-run", "--run-dir", str(run)])
    return run / "hunter"


def _ppo_npc(run: Path) -> Path:
    from agents.train.ppo_npc import main

    main(["--role", "guard", "--dry-run", "--run-dir", str(run)])
    return run / "guard"


def _ppo_narrator(run: Path) -> Path:
    from agents.train.ppo_narrator import main

    main(["--dry-run", "--run-dir", str(run)])
    return run


def _q_narrator(run: Path) -> Path:
    from agents.train.q_narrator import main

    main(["--dry-run", "--run-dir", str(run)])
    return run


def _player_model(run: Path) -> Path:
    from agents.train.fit_player_model import main

    main(["--dry-run", "--run-dir", str(run)])
    return run


AGENT_TRAINERS: dict[str, tuple[Callable[[Path], Path], set[str]]] = {
    "q": (_q_learning, {"agents/policies/hunter_q.safetensors", "agents/policies/hunter_q.json"}),
    "npc": (
        _ppo_npc,
        {
            "agents/policies/guard.onnx",
            "agents/policies/guard.safetensors",
            "agents/policies/guard.json",
            "docs/img/npc_guard_curve.png",
        },
    ),
    "narrator": (
        _ppo_narrator,
        {
            "agents/policies/narrator.onnx",
            "agents/policies/narrator.safetensors",
            "agents/policies/narrator.json",
        },
    ),
    "narrator-q": (
        _q_narrator,
        {"agents/policies/narrator_q.safetensors", "agents/policies/narrator_q.json"},
    ),
    "player-model": (_player_model, {"agents/policies/player_model.json"}),
}


@pytest.mark.parametrize("trainer", AGENT_TRAINERS)
def test_an_agent_trainer_writes_its_run_and_publish_ships_it(trainer: str, tmp_path: Path) -> None:
    train, shipped = AGENT_TRAINERS[trainer]
    before = package_snapshot()
    run = train(tmp_path / "runs")
    assert package_snapshot() == before  # nothing in agents/policies, procgen/weights or docs/img changed
    root = tmp_path / "package"
    steps = publish(run, root)
    assert {str(s.dest.relative_to(root)) for s in steps} == shipped
    card_path = next(root / name for name in shipped if name.endswith(".json"))
    card = json.loads(card_path.read_text())
    assert card["published"]["from_run"] == str(run) and "--dry-run" in card["command"]
    if card_path.with_suffix(".safetensors").exists():
        load_weights(card_path.with_suffix(""))  # the loaders' hash check passes on the published pair


def test_the_procgen_trainers_dry_runs_leave_the_package_alone(tmp_path: Path) -> None:
    from procgen.characters.train import Args as SpriteArgs
    from procgen.characters.train import train as train_sprites
    from procgen.characters.train_classifier import Args as ClassifierArgs
    from procgen.characters.train_classifier import train as train_classifier
    from procgen.levels.train import Args as LevelArgs
    from procgen.levels.train import train as train_levels
    from procgen.textures.train import Args as TextureArgs
    from procgen.textures.train import train as train_textures

    before = package_snapshot()
    paths = [
        train_levels(LevelArgs(corpus="dungeon", dry_run=True, device="cpu")),
        train_textures(TextureArgs(theme="lava", dry_run=True, device="cpu")),
        train_sprites(SpriteArgs(dry_run=True, device="cpu")),
        train_classifier(ClassifierArgs(dry_run=True)),
    ]
    assert package_snapshot() == before
    assert not any(Path(p).resolve().is_relative_to(REPO_ROOT) for p in paths), paths


def test_the_level_trainer_writes_its_generator_into_its_run(tmp_path: Path) -> None:
    """Not a dry run: the default output is the run folder, with the card saying where it ships."""
    from procgen.levels.train import Args, train

    before = package_snapshot()
    args = Args(
        corpus="dungeon",
        iterations=1,
        batch_size=8,
        pattern_batch=8,
        eval_samples=16,
        sample_every=1000,
        device="cpu",
        run_dir=str(tmp_path / "runs"),
    )
    path = train(args, command="test")
    assert package_snapshot() == before
    assert path == tmp_path / "runs" / "dungeon" / "generator.safetensors"
    steps = publish(tmp_path / "runs" / "dungeon", tmp_path / "package")
    assert {s.dest.name for s in steps} == {"levels_dungeon.safetensors", "levels_dungeon.json"}


def _run(folder: Path, publish_as: str = "procgen/weights/levels_mine", value: float = 0.0) -> Path:
    save_weights(
        folder / "generator", {"w": torch.full((3,), value)}, {"config": {}, "publish_as": publish_as}
    )
    return folder


def test_publish_copies_the_files_and_records_the_run_on_the_card(tmp_path: Path) -> None:
    run, root = _run(tmp_path / "run"), tmp_path / "package"
    dry = publish(run, root, dry_run=True)
    assert [s.action for s in dry] == ["copy", "copy"] and not root.exists()  # a dry run writes nothing
    publish(run, root)
    tensors, card = load_weights(root / "procgen/weights/levels_mine")
    assert tensors["w"].tolist() == [0.0, 0.0, 0.0]
    assert card["published"]["from_run"] == str(run) and card["published"]["card"] == "generator.json"
    assert {s.action for s in publish(run, root)} == {"unchanged"}  # publishing again changes nothing


def test_publish_refuses_a_run_without_a_card(tmp_path: Path) -> None:
    run = _run(tmp_path / "run")
    (run / "generator.json").unlink()
    with pytest.raises(PublishError, match="card"):
        publish(run, tmp_path / "package")
    # A run on a corpus of one's own: its card names no package destination, so it is not the package's.
    save_weights(run / "generator", {"w": torch.zeros(3)}, {"config": {}})
    with pytest.raises(PublishError, match="publish_as"):
        publish(run, tmp_path / "package")
    with pytest.raises(PublishError, match="not found"):
        publish(tmp_path / "no_such_run", tmp_path / "package")
    assert not (tmp_path / "package").exists()


def test_publish_refuses_files_that_do_not_match_their_card(tmp_path: Path) -> None:
    run = _run(tmp_path / "run")
    other = _run(tmp_path / "other", value=1.0)
    (run / "generator.safetensors").write_bytes((other / "generator.safetensors").read_bytes())
    with pytest.raises(PublishError, match="weights_sha256"):
        publish(run, tmp_path / "package")
    onnx_run = _run(tmp_path / "onnx")
    card = json.loads((onnx_run / "generator.json").read_text())
    (onnx_run / "generator.onnx").write_bytes(b"not the exported policy")
    (onnx_run / "generator.json").write_text(json.dumps(card | {"onnx_sha256": "0" * 64}))
    with pytest.raises(PublishError, match="onnx_sha256"):
        publish(onnx_run, tmp_path / "package")
    assert not (tmp_path / "package").exists()


def test_publish_replaces_a_different_shipped_file_only_when_forced(tmp_path: Path) -> None:
    root = tmp_path / "package"
    publish(_run(tmp_path / "first"), root)
    shipped = (root / "procgen/weights/levels_mine.safetensors").read_bytes()
    second = _run(tmp_path / "second", value=2.0)
    with pytest.raises(PublishError, match="--force"):
        publish(second, root)
    assert (root / "procgen/weights/levels_mine.safetensors").read_bytes() == shipped
    assert {s.action for s in publish(second, root, force=True)} == {"replace"}
    assert load_weights(root / "procgen/weights/levels_mine")[0]["w"].tolist() == [2.0, 2.0, 2.0]


def test_a_sibling_seed_ships_its_policy_and_card_but_not_its_training_tensors(tmp_path: Path) -> None:
    """A sibling seed is only played (the eval aggregates its ONNX), so its tensors stay in the run."""
    run = _run(tmp_path / "run", publish_as="agents/policies/seeds/hunter_seed2")
    card = json.loads((run / "generator.json").read_text())
    (run / "generator.onnx").write_bytes(b"an exported policy")
    digest = hashlib.sha256(b"an exported policy").hexdigest()
    (run / "generator.json").write_text(json.dumps(card | {"onnx_sha256": digest}))
    root = tmp_path / "package"
    steps = publish(run, root)
    assert {str(s.dest.relative_to(root)) for s in steps} == {
        "agents/policies/seeds/hunter_seed2.onnx",
        "agents/policies/seeds/hunter_seed2.json",
    }
    shipped = json.loads((root / "agents/policies/seeds/hunter_seed2.json").read_text())
    assert shipped["weights_sha256"] == card["weights_sha256"]  # the card still names the run's tensors


@pytest.mark.parametrize("target", ["engine/sim/levels_mine", "../outside", "procgen/weights/", "/tmp/x"])
def test_publish_only_writes_into_the_package_folders(tmp_path: Path, target: str) -> None:
    with pytest.raises(PublishError, match="publish_as"):
        publish(_run(tmp_path / "run", publish_as=target), tmp_path / "package")


def test_the_publish_command_prints_what_it_copies(tmp_path: Path, monkeypatch, capsys) -> None:
    import sys

    from demo_game.cli import main

    run, root = _run(tmp_path / "run"), tmp_path / "package"
    monkeypatch.setattr(sys, "argv", ["ludoforge", "publish", str(run), "--package-root", str(root)])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "procgen/weights/levels_mine.safetensors" in out and "2 of 2" in out
    assert (root / "procgen/weights/levels_mine.json").is_file()
