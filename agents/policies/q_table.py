"""The tabular Q-learning baseline at play time: its coarse state, greedy action and the table file it reads.

`agents.train.qlearning` trains a table into runs/; `ludoforge publish` ships it as agents/policies/<role>_q
(safetensors + JSON card), which evaluation loads here and never trains.

The observation is far too big for a table, so the learner sees a coarse state: the rules' hint toward the
player (none or one of four moves), whether the player is seen and, if so, its offset clipped to ±3, and which
of the four neighbouring cells are blocked or hazardous. That is 5 * 2 * 7 * 7 * 16 = 7,840 states.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.observation import CHANNELS, FEATURE_INDEX, OBS_RADIUS, WINDOW
from agents.policies.onnx_policy import POLICY_DIR
from engine.sim.policy import Role

CLIP = 3
N_STATES = 5 * 2 * (2 * CLIP + 1) ** 2 * 16
N_ACTIONS = 5

_NEIGHBOUR_SLOTS = [
    (OBS_RADIUS + dy) * WINDOW + OBS_RADIUS + dx for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0))
]
_BLOCKED, _HAZARD = CHANNELS.index("blocked"), CHANNELS.index("hazard")


def coarse_state(obs: np.ndarray) -> np.ndarray:
    """(N,) state indices in 0..N_STATES-1 for (N, OBS_SIZE) observations."""
    f = FEATURE_INDEX
    hint = obs[:, f["toward_player_up"] : f["toward_player_up"] + 4]
    toward = np.where(hint.any(axis=1), hint.argmax(axis=1) + 1, 0)
    seen = obs[:, f["player_visible"]].astype(np.int64)
    dx = np.clip(np.rint(obs[:, f["player_dx"]] * 7), -CLIP, CLIP).astype(np.int64) + CLIP
    dy = np.clip(np.rint(obs[:, f["player_dy"]] * 7), -CLIP, CLIP).astype(np.int64) + CLIP
    window = obs[:, : WINDOW * WINDOW * len(CHANNELS)].reshape(len(obs), WINDOW * WINDOW, len(CHANNELS))
    walls = window[:, _NEIGHBOUR_SLOTS, _BLOCKED] + window[:, _NEIGHBOUR_SLOTS, _HAZARD]
    bits = (walls > 0).astype(np.int64) @ np.array([1, 2, 4, 8])
    side = 2 * CLIP + 1
    return (((toward * 2 + seen) * side + dx) * side + dy) * 16 + bits


def greedy(q: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """(N,) greedy actions of table `q` for (N, OBS_SIZE) observations."""
    return q[coarse_state(obs)].argmax(axis=1)


def q_table_stem(role: Role | str) -> Path:
    """Where the shipped table for `role` lives: agents/policies/<role>_q.safetensors and .json."""
    return POLICY_DIR / f"{Role(role).value}_q"


def load_q_table(stem: str | Path) -> np.ndarray:
    """The (N_STATES, N_ACTIONS) table of a weights pair, its card's hash checked; a missing file or a table of
    another shape is a WeightsError naming the file."""
    from procgen.core.weights import WeightsError, load_weights

    tensors, _ = load_weights(stem)
    q = tensors.get("q")
    if q is None or tuple(q.shape) != (N_STATES, N_ACTIONS):
        shape = None if q is None else tuple(q.shape)
        raise WeightsError(
            Path(stem).with_suffix(".safetensors"),
            "q",
            f"expected a ({N_STATES}, {N_ACTIONS}) table, got {shape}",
        )
    return q.numpy()
