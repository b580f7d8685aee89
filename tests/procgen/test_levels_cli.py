"""`ludoforge levels ...` from a developer's point of view: train --dry-run on their own folder, sample to every
format, evaluate into a report, export a GAN dungeon; bad input gives a one-line error."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from demo_game.cli import app
from engine.formats import read_level
from procgen.core.weights import WeightsError, load_weights, save_weights
from procgen.levels.solver import is_playable, solve

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_train_dry_run_on_a_developers_own_folder(tmp_path) -> None:
    corpus = tmp_path / "my_rooms"
    corpus.mkdir()
    (corpus / "legend.json").write_text(
        json.dumps({"tiles": {".": ["floor"], "W": ["wall"], "D": ["door"], "e": ["enemy"]}})
    )
    rooms = ["WWDWWW\nW....W\nD.e..D\nW....W\nWWWDWW", "WWWDWW\nW.W..W\nD....W\nW..e.W\nWWDWWW"]
    for i, text in enumerate(rooms):
        (corpus / f"room_{i}.txt").write_text(text + "\n")
    result = run("levels", "train", "--corpus", str(corpus), "--dry-run", "--run-dir", str(tmp_path / "runs"))
    assert "weights:" in result.output and "playable_raw" in result.output


def test_train_dry_run_on_the_shipped_platformer_corpus(tmp_path) -> None:
    from procgen.levels.train import Args, train

    path = train(Args(corpus="platformer", dry_run=True, run_dir=str(tmp_path)))
    assert path.name == "generator.safetensors"
    assert not list(tmp_path.iterdir())  # a dry run leaves nothing behind


@pytest.mark.parametrize("fmt", ["json", "tmj", "tmx", "txt", "png"])
def test_sample_one_room_to_each_format(tmp_path, fmt: str) -> None:
    out = tmp_path / f"room.{fmt}"
    run("levels", "sample", "--seed", "7", "--out", str(out))
    assert out.exists() and out.stat().st_size > 0
    if fmt != "png":
        assert is_playable(read_level(out), room=True)


def test_sample_many_with_conditions_and_targets(tmp_path) -> None:
    run(
        "levels",
        "sample",
        "--n",
        "5",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "a"),
        "--format",
        "json",
        "--doors",
        "north=7,south=7",
        "--density",
        "enemies=2",
    )
    files = sorted((tmp_path / "a").glob("level_*.json"))
    assert len(files) == 5 and (tmp_path / "a" / "preview.png").exists()
    result = run(
        "levels", "sample", "--n", "1", "--seed", "2", "--out", str(tmp_path / "b"), "--target", "enemies=2"
    )
    assert "enemies" in result.output
    run("levels", "sample", "--corpus", "platformer", "--seed", "3", "--out", str(tmp_path / "seg.json"))
    level = read_level(tmp_path / "seg.json")
    from procgen.levels.corpus import PLATFORMER_LEVELS_DIR
    from procgen.levels.genre import read_genre

    assert solve(level, read_genre(PLATFORMER_LEVELS_DIR)).playable


def test_eval_writes_a_report_with_every_row(tmp_path) -> None:
    run(
        "levels",
        "eval",
        "--n",
        "40",
        "--wfc-samples",
        "4",
        "--control-targets",
        "2",
        "--out",
        str(tmp_path),
        "--no-update-card",
    )
    report = (tmp_path / "levels_eval_dungeon.md").read_text()
    from procgen.levels.evaluate import GAN_FINISHED, GAN_RAW, GAN_REPAIRED

    for row in ("training set", "random tiles", "WFC", GAN_RAW, GAN_FINISHED, GAN_REPAIRED, "CMA-ES"):
        assert row in report
    assert (tmp_path / "img" / "levels_dungeon_kl.png").exists()


def test_export_a_gan_dungeon(tmp_path) -> None:
    out = tmp_path / "dungeon.tmj"
    run("levels", "export", "--seed", "5", "--out", str(out), "--rooms", "4", "--locked-doors", "1")
    assert solve(read_level(out)).playable


def test_bad_input_is_one_clear_line() -> None:
    result = runner.invoke(app, ["levels", "sample", "--density", "enemies"])
    assert result.exit_code != 0 and "name=number" in result.output
    result = runner.invoke(app, ["levels", "sample", "--doors", "up=3"])
    assert result.exit_code != 0


def test_tampered_weights_are_refused(tmp_path) -> None:
    import torch

    save_weights(tmp_path / "w", {"a": torch.ones(3)}, {"config": {}})
    card = json.loads((tmp_path / "w.json").read_text())
    card["weights_sha256"] = "0" * 64
    (tmp_path / "w.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="weights_sha256"):
        load_weights(tmp_path / "w")
    (tmp_path / "w.json").unlink()
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "w")


def test_weights_from_a_checkpoint_of_a_stopped_run(tmp_path) -> None:
    """A run stopped early still gives weights: its checkpoint's EMA generator, calibrated, with a card."""
    from procgen.levels.train import Args, train

    args = dict(corpus="dungeon", iterations=2, checkpoint_every=1, eval_samples=16, run_dir=str(tmp_path))
    train(Args(**args, weights_out=str(tmp_path / "full")))
    path = train(Args(**args, from_checkpoint="iter_000001", weights_out=str(tmp_path / "early")))
    full, _ = load_weights(tmp_path / "full")
    early, card = load_weights(path.with_suffix(""))
    assert card["args"]["from_checkpoint"] == "iter_000001" and card["args"]["iterations"] == 1
    assert card["train_seconds"] is not None and card["metrics"]["samples"] == 16
    assert not all(torch.equal(early[k], full[k]) for k in early)  # iteration 1's EMA, not the end's
