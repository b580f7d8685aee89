"""The one interface every NPC acts through, `act(observation) -> action`, and the scripted policies.

Trained policies (ONNX, in `agents.policies`) plug in behind the same Protocol; the World never knows which
kind it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from engine.level import Semantic

OBS_RADIUS = 4  # the local window is (2r+1) x (2r+1) semantic codes, centred on the NPC
GUARD_ZONE_RADIUS = 4  # a guard's zone: cells within this Chebyshev distance of its post


class Role(StrEnum):
    """What an NPC is for. A level spawn picks one with the property `role`; otherwise enemies hunt and
    friendly NPCs are villagers."""

    HUNTER = "hunter"  # an enemy that catches the player
    GUARD = "guard"  # an enemy that keeps a zone around its post
    COMPANION = "companion"  # a friend that follows, carries keys to the player, may cross hazards (and hurt)
    VILLAGER = "villager"  # a friend that wanders


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
_KEY_CODE = Semantic.KEY.code


@dataclass(frozen=True)
class NpcObservation:
    """What one NPC perceives on one tick.

    `local_tiles` holds semantic codes with items and other NPCs drawn in, but not the player: the player is
    `player_offset`, given only while the NPC sees them. The `toward_*` fields are the first move of a shortest
    hazard-free path: to the player while the NPC is alerted (a companion always knows), to the nearest key on the
    floor, and back home (the NPC's spawn cell, a guard's post). `noise` is a deterministic 64-bit random
    number for this NPC and tick, so stochastic scripted policies need no state of their own and a saved game
    replays exactly.
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
    role: Role = Role.HUNTER
    max_health: int = 1
    alerted: bool = False
    toward_key: Action | None = None
    toward_home: Action | None = None
    home_offset: tuple[int, int] = (0, 0)
    zone_radius: int = GUARD_ZONE_RADIUS
    keys_carried: int = 0
    player_keys: int = 0

    def player_in_zone(self) -> bool:
        """Whether the player is seen inside the zone around home (what a guard calls an intruder)."""
        if self.player_offset is None:
            return False
        dx, dy = self.player_offset[0] - self.home_offset[0], self.player_offset[1] - self.home_offset[1]
        return max(abs(dx), abs(dy)) <= self.zone_radius


@runtime_checkable
class Policy(Protocol):
    def act(self, observation: NpcObservation) -> Action: ...


class WanderPolicy:
    """Idles or takes a random step; friendly NPCs use it until trained policies replace it."""

    def act(self, observation: NpcObservation) -> Action:
        choice = observation.noise % 8
        return MOVES[choice] if choice < 4 else Action.NOOP


class ChasePolicy:
    """Scripted hunter: follows the shortest path to the player once it sees them, else wanders."""

    def __init__(self) -> None:
        self._wander = WanderPolicy()

    def act(self, observation: NpcObservation) -> Action:
        if observation.toward_player is not None:
            return observation.toward_player
        return self._wander.act(observation)


class GuardPolicy:
    """Scripted guard: charges a player seen inside its zone, otherwise walks back to its post and, once there,
    patrols with random steps that stay inside the zone."""

    def act(self, observation: NpcObservation) -> Action:
        o = observation
        if o.player_in_zone() and o.toward_player is not None:
            return o.toward_player
        hx, hy = o.home_offset
        if max(abs(hx), abs(hy)) > o.zone_radius // 2 and o.toward_home is not None:
            return o.toward_home
        choice = o.noise % 8
        if choice >= 4:
            return Action.NOOP
        dx, dy = MOVES[choice].delta
        return MOVES[choice] if max(abs(hx - dx), abs(hy - dy)) <= o.zone_radius // 2 else Action.NOOP


class FollowPolicy:
    """Scripted companion: picks up a key it can see in its window, otherwise keeps within two steps of the
    player along a hazard-free path."""

    def act(self, observation: NpcObservation) -> Action:
        o = observation
        if o.toward_key is not None and o.keys_carried == 0 and bool((o.local_tiles == _KEY_CODE).any()):
            return o.toward_key
        near = o.player_offset is not None and abs(o.player_offset[0]) + abs(o.player_offset[1]) <= 2
        if not near and o.toward_player is not None:
            return o.toward_player
        return Action.NOOP


SCRIPTED_POLICIES: dict[Role, type[Policy]] = {
    Role.HUNTER: ChasePolicy,
    Role.GUARD: GuardPolicy,
    Role.COMPANION: FollowPolicy,
    Role.VILLAGER: WanderPolicy,
}
"""role → the scripted policy the game uses when no trained one is given"""
