"""The tabular Q-learning narrator at play time: its coarse state, greedy action and the table file it reads.

`agents.train.q_narrator` trains a table into runs/; `ludoforge publish` ships it as agents/policies/narrator_q
(safetensors + JSON card), which the narrator evaluation loads here and never trains.

The table cannot take the 41 floats of the observation, so the learner sees a coarse state: the player's
health (3 levels), whether they have stalled, tension below / on / above the pacing curve, whether the
narrator spoke twice or more in the last minute, whether enemies hunt nearby, and whether a beat just fired.
That is 3 x 2 x 3 x 2 x 2 x 2 = 144 states by 11 interventions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.narrator.session import INTERVENTIONS, OBSERVATION
from agents.narrator.text import BEATS
from agents.policies.onnx_policy import POLICY_DIR
from procgen.core.weights import load_weights

N_STATES = 3 * 2 * 3 * 2 * 2 * 2
N_ACTIONS = len(INTERVENTIONS)
Q_TABLE = POLICY_DIR / "narrator_q"
_AT = {name: i for i, name in enumerate(OBSERVATION)}
_BEAT_SLOTS = [_AT[f"beat_{b}"] for b in BEATS]


def coarse_state(obs: np.ndarray) -> int:
    """The state index, 0..N_STATES-1, of one observation."""
    health = 0 if obs[_AT["health"]] <= 0.375 else 1 if obs[_AT["health"]] <= 0.625 else 2
    stalled = int(obs[_AT["stalled"]] >= 0.25)
    gap = obs[_AT["tension"]] - obs[_AT["target_tension"]]
    pace = 0 if gap < -0.15 else 1 if gap <= 0.15 else 2
    talked = int(obs[_AT["lines_last_minute"]] * 6 >= 2)
    hunted = int(obs[_AT["hunting_near"]] > 0)
    beat = int(obs[_BEAT_SLOTS].any())
    return ((((health * 2 + stalled) * 3 + pace) * 2 + talked) * 2 + hunted) * 2 + beat


class QNarrator:
    """Greedy over a Q table."""

    name = "q-learning"

    def __init__(self, q: np.ndarray) -> None:
        self.q = q

    @classmethod
    def load(cls, stem: str | Path = Q_TABLE) -> QNarrator:
        tensors, _ = load_weights(stem)
        return cls(tensors["q"].numpy())

    def act(self, obs: np.ndarray) -> int:
        return int(self.q[coarse_state(obs)].argmax())
