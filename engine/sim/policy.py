"""The one interface every NPC acts through, `act(observation) -> action`, and the scripted policies.

Trained policies (ONNX) plug in later behind the same Protocol; the World never knows which kind it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, runtime_checkable

import numpy as np

OBS_RADIUS = 4  # the local window is (2r+1) x (2r+1) semantic codes, centred on the NPC


class Action(IntEnum):
    NOOP = 0
    UP = 1
    DOWN = 2
    LEFT = 3
    RIGHT = 4
    INTERACT = 5

    @property
    def delta(self) -> tuple[int, int]:
        return _DELTAS[self]


_DELTAS = {
    Action.NOOP: (0, 0),
    Action.UP: (0, -1),
    Action.DOWN: (0, 1),
    Action.LEFT: (-1, 0),
    Action.RIGHT: (1, 0),
    Action.INTERACT: (0, 0),
}
MOVES: tuple[Action, ...] = (Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT)  # same order as grid.STEPS


@dataclass(frozen=True)
class NpcObservation:
    """What one NPC perceives on one tick.

    `toward_player` is the first move of a shortest path to the player, given only while the player is seen.
    `noise` is a deterministic 64-bit random number for this NPC and tick, so stochastic scripted policies
    need no state of their own and a saved game replays exactly.
    """

    tick: int
    x: int
    y: int
    health: int
    local_tiles: np.ndarray
    player_visible: bool
    player_offset: tuple[int, int] | None
    toward_player: Action | None
    noise: int


@runtime_checkable
class Policy(Protocol):
    def act(self, observation: NpcObservation) -> Action: ...


class WanderPolicy:
    """Idles or takes a random step; friendly NPCs use it until trained policies replace it."""

    def act(self, observation: NpcObservation) -> Action:
        choice = observation.noise % 8
        return MOVES[choice] if choice < 4 else Action.NOOP


class ChasePolicy:
    """Scripted enemy: follows the shortest path to the player once it sees them, else wanders."""

    def __init__(self) -> None:
        self._wander = WanderPolicy()

    def act(self, observation: NpcObservation) -> Action:
        if observation.toward_player is not None:
            return observation.toward_player
        return self._wander.act(observation)
