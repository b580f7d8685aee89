"""Latent search (CMA-ES) gets closer to targets than conditioning alone."""

from __future__ import annotations

import numpy as np
import pytest

from procgen.levels.control import TARGETS, measure, search
from procgen.levels.generator import LevelGenerator
from procgen.levels.solver import is_playable


@pytest.fixture(scope="module")
def gen() -> LevelGenerator:
    return LevelGenerator.pretrained("dungeon", device="cpu")


def test_cma_es_beats_conditioning_alone_on_training_room_targets(gen) -> None:
    rng = np.random.default_rng(0)
    rooms = gen.corpus.originals[rng.choice(len(gen.corpus.originals), 8, replace=False)]
    plain_err, searched_err, plain_hits, searched_hits = [], [], 0, 0
    for i, room in enumerate(rooms):
        targets = {k: v for k, v in measure(room, gen).items() if k in TARGETS}
        plain = search(gen, targets, seed=i, use_search=False)
        found = search(gen, targets, seed=i, max_evaluations=240)
        assert is_playable(found.level, room=True)  # the result is repaired like every other sample
        plain_err.append(sum(plain.errors[k] / max(1.0, targets[k]) for k in targets))
        searched_err.append(sum(found.errors[k] / max(1.0, targets[k]) for k in targets))
        plain_hits += plain.hit
        searched_hits += found.hit
    assert np.mean(searched_err) < np.mean(plain_err)
    assert searched_hits >= plain_hits


def test_search_rejects_unknown_targets(gen) -> None:
    with pytest.raises(ValueError, match="targets"):
        search(gen, {"fun": 3})
