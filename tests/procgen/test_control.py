"""Latent search (CMA-ES) against its baseline at an equal budget: the best of as many random latents, the same
targets, seeds and conditions, every generator forward + measure counted as one evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from procgen.levels.control import search, search_budgets
from procgen.levels.evaluate import control_targets
from procgen.levels.generator import LevelGenerator
from procgen.levels.solver import is_playable

BUDGET = 100
TARGETS_N = 12


@pytest.fixture(scope="module")
def gen():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batches of 12: the thread pool costs more than it saves
    yield LevelGenerator.pretrained("dungeon", device="cpu")
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def searched(gen):
    targets = control_targets(gen, TARGETS_N, 0)
    return {
        method: [search_budgets(gen, t, (1, BUDGET), seed=i, method=method) for i, t in enumerate(targets)]
        for method in ("cma-es", "random")
    }


def _normalised_error(result) -> float:
    return sum(result.errors[k] / max(1.0, abs(result.targets[k])) for k in result.targets)


def test_one_evaluation_is_conditioning_alone_for_both_methods(searched) -> None:
    for cma, rnd in zip(searched["cma-es"], searched["random"], strict=True):
        assert cma[0].evaluations == rnd[0].evaluations == 1
        assert np.array_equal(cma[0].level.tiles, rnd[0].level.tiles)


def test_both_methods_spend_at_most_the_budget_and_return_playable_levels(searched) -> None:
    for runs in searched.values():
        for _, found in runs:
            assert found.evaluations <= BUDGET
            assert found.evaluations == BUDGET or found.hit  # only a hit stops a run early
            assert is_playable(found.level, room=True)  # repaired like every other sample


def test_search_beats_conditioning_alone_at_the_same_seeds(searched) -> None:
    for runs in searched.values():
        alone = np.mean([_normalised_error(r[0]) for r in runs])
        found = np.mean([_normalised_error(r[1]) for r in runs])
        assert found < alone
        assert sum(r[1].hit for r in runs) > sum(r[0].hit for r in runs)


def test_cma_es_is_no_worse_than_the_best_of_as_many_random_latents(searched) -> None:
    cma = [r[1] for r in searched["cma-es"]]
    rnd = [r[1] for r in searched["random"]]
    assert sum(r.hit for r in cma) >= sum(r.hit for r in rnd)


def test_search_rejects_unknown_targets_and_methods(gen) -> None:
    with pytest.raises(ValueError, match="targets"):
        search(gen, {"fun": 3})
    with pytest.raises(ValueError, match="method"):
        search(gen, {"enemies": 1}, method="grid")
