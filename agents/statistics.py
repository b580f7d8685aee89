"""RL statistics as the field reports them (Agarwal et al. 2021, rliable): the interquartile mean over runs and
episode blocks, with a stratified-bootstrap 95% confidence interval, for the NPC and narrator tables.

A "run" is one training seed (a scripted or fixed policy has one run); a "task" is a fixed block of episodes,
the same blocks for every policy, so the bootstrap resamples both the seeds and the episodes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

EPISODE_BLOCKS = 10
BOOTSTRAP_REPS = 2000


@dataclass(frozen=True)
class Interval:
    """An aggregate with its 95% confidence interval, over `runs` runs of `episodes` episodes each."""

    value: float
    low: float
    high: float
    runs: int
    episodes: int

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high


def block_scores(per_episode: np.ndarray, blocks: int = EPISODE_BLOCKS) -> np.ndarray:
    """(runs, episodes) per-episode scores → (runs, blocks) block means; episodes split in order, so every
    policy's block k holds the same episodes."""
    scores = np.atleast_2d(np.asarray(per_episode, np.float64))
    if scores.shape[1] < blocks:
        raise ValueError(f"episodes: expected at least {blocks} per run, got {scores.shape[1]}")
    return np.stack([part.mean(axis=1) for part in np.array_split(scores, blocks, axis=1)], axis=1)


def iqm_intervals(
    per_episode: Mapping[str, np.ndarray], reps: int = BOOTSTRAP_REPS, seed: int = 0
) -> dict[str, Interval]:
    """policy name → IQM of its (runs × blocks) block scores with a stratified-bootstrap 95% CI (rliable).

    `per_episode[name]` is (runs, episodes): the same episodes in the same order for every policy."""
    from rliable import library as rly
    from rliable import metrics

    scores = {name: block_scores(values) for name, values in per_episode.items()}
    points, cis = {}, {}
    for name, score in scores.items():
        # rliable's stratified bootstrap draws its resamples from numpy's global generator whatever
        # random_state says, so seed that, per row (a row's interval must not depend on the rows before it),
        # and put it back after: the same intervals every time, in any process.
        saved = np.random.get_state()
        np.random.seed(seed)
        try:
            with warnings.catch_warnings():  # arch warns that rliable still passes a RandomState
                warnings.simplefilter("ignore", FutureWarning)
                point, ci = rly.get_interval_estimates(
                    {name: score},
                    lambda s: np.array([metrics.aggregate_iqm(s)]),
                    reps=reps,
                    task_bootstrap=True,
                    random_state=np.random.RandomState(seed),
                )
        finally:
            np.random.set_state(saved)
        points[name], cis[name] = point[name], ci[name]
    return {
        name: Interval(
            value=float(points[name][0]),
            low=float(cis[name][0, 0]),
            high=float(cis[name][1, 0]),
            runs=int(np.atleast_2d(per_episode[name]).shape[0]),
            episodes=int(np.atleast_2d(per_episode[name]).shape[1]),
        )
        for name in scores
    }
