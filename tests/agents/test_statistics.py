"""The RL statistics of the NPC and narrator reports (agents.statistics): the IQM and its bootstrap interval are
the same every time, whatever numpy's global random state, and the interval covers the point."""

from __future__ import annotations

import numpy as np

from agents.statistics import iqm_intervals


def test_intervals_do_not_depend_on_the_global_random_state_and_leave_it_alone() -> None:
    rng = np.random.default_rng(0)
    scores = {"a": rng.random((3, 200)) < 0.5, "b": rng.random((1, 200)) < 0.6}
    answers = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        before = np.random.random()
        np.random.seed(global_seed)
        answers.append(iqm_intervals({k: v.astype(float) for k, v in scores.items()}, reps=300))
        assert np.random.random() == before  # the caller's stream goes on as if nothing had drawn from it
    assert answers[0] == answers[1]
    for interval in answers[0].values():
        assert interval.low <= interval.value <= interval.high
    assert answers[0]["a"].runs == 3 and answers[0]["b"].episodes == 200
    # a row's interval does not depend on which rows come before it
    alone = iqm_intervals({"b": scores["b"].astype(float)}, reps=300)
    assert alone["b"] == answers[0]["b"]
