"""The level trainer's pattern loss and resuming: the loss is DESIGN.md's 2×2 tile-pattern KL when the tiles are
certain, and a resumed run goes on from its checkpoint and says so in the card."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from procgen.levels.corpus import shipped_corpus
from procgen.levels.gan import one_hot
from procgen.levels.train import Args, PatternLoss, train
from procgen.metrics.levels import tile_pattern_kl


def test_pattern_loss_is_the_tile_pattern_kl_on_one_hot_rooms() -> None:
    corpus = shipped_corpus("dungeon")
    examples = corpus.examples
    loss = PatternLoss(examples, corpus.channels, torch.device("cpu"))
    assert loss(one_hot(examples, corpus.channels)).item() == pytest.approx(0.0, abs=1e-4)
    # every pattern present, in other proportions (the two differ only in how they smooth absent patterns)
    skewed = np.concatenate([examples, *[examples[:150]] * 6])
    assert loss(one_hot(skewed, corpus.channels)).item() == pytest.approx(
        tile_pattern_kl(examples, skewed, 2), rel=0.03
    )
    assert tile_pattern_kl(examples, skewed, 2) > 0.002  # a real difference, not two zeros


def test_pattern_loss_falls_as_rooms_approach_the_corpus() -> None:
    corpus = shipped_corpus("dungeon")
    loss = PatternLoss(corpus.examples, corpus.channels, torch.device("cpu"))
    rooms = one_hot(corpus.examples[:40], corpus.channels)
    noise = torch.rand_like(rooms).softmax(1)
    losses = [loss(mix * rooms + (1 - mix) * noise).item() for mix in (0.0, 0.5, 0.9, 1.0)]
    assert losses == sorted(losses, reverse=True), losses


def _small(tmp_path, **overrides) -> Args:
    base = dict(
        corpus="dungeon",
        iterations=2,
        batch_size=8,
        pattern_batch=8,
        eval_samples=16,
        sample_every=1000,
        checkpoint_every=1,
        device="cpu",
        run_dir=str(tmp_path / "runs"),
        weights_out=str(tmp_path / "generator"),
    )
    return Args(**{**base, **overrides})


def test_a_resumed_run_goes_on_from_its_checkpoint_and_records_it(tmp_path) -> None:
    train(_small(tmp_path), command="first")
    checkpoint = tmp_path / "runs" / "dungeon" / "checkpoints" / "iter_000002"
    assert json.loads(checkpoint.with_suffix(".json").read_text())["command"] == "first"
    train(_small(tmp_path, resume_from=str(checkpoint), iterations=3, pattern_weight=10.0), command="second")
    card = json.loads((tmp_path / "generator.json").read_text())
    assert card["command"] == "second"
    assert card["resumed_from"]["checkpoint"] == str(checkpoint)
    assert card["resumed_from"]["iteration"] == 2 and card["resumed_from"]["command"] == "first"
    later = json.loads((tmp_path / "runs" / "dungeon" / "checkpoints" / "iter_000003.json").read_text())
    assert later["iteration"] == 3 and later["resumed_from"]["command"] == "first"


def test_resuming_refuses_a_checkpoint_of_another_model_or_no_iterations_left(tmp_path) -> None:
    train(_small(tmp_path), command="first")
    checkpoint = str(tmp_path / "runs" / "dungeon" / "checkpoints" / "iter_000002")
    with pytest.raises(ValueError, match="config"):
        train(_small(tmp_path, resume_from=checkpoint, iterations=3, z_dim=16))
    with pytest.raises(ValueError, match="iterations"):
        train(_small(tmp_path, resume_from=checkpoint, iterations=2))


def test_generated_levels_are_compared_in_the_training_examples_form() -> None:
    from engine.level import Semantic

    platformer, dungeon = shipped_corpus("platformer"), shipped_corpus("dungeon")
    segment = platformer.examples[:1].copy()
    segment[0, -2, 0], segment[0, -2, -1] = Semantic.START.code, Semantic.EXIT.code
    kept = platformer.as_examples(segment)
    assert kept[0, -2, 0] == kept[0, -2, -1] == Semantic.FLOOR.code
    assert (kept == platformer.examples[:1]).sum() >= segment.size - 2
    room = dungeon.examples[:3].copy()
    room[:, 5, 5] = Semantic.START.code  # a room keeps every tile
    assert (dungeon.as_examples(room) == room).all()
