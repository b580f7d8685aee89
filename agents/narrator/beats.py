"""Story beats: the moments the narrator reacts to, read each tick from the World's events and state.

The narrator's perception. The sim says what happened (a key picked up, damage, a sighting); the tracker
turns that into the ten beats of `agents.narrator.text.BEATS`, each fired once per occurrence:

| beat | fires when |
|---|---|
| intro | the first tick of a run |
| first_key | the player gets their first key (picked up, or handed over by a companion) |
| locked_door | the player stands next to a closed locked door holding no key (once per door) |
| ambush | an enemy sees the player within AMBUSH_RANGE steps, after AMBUSH_QUIET ticks without a sighting |
| low_health | the player's health falls to LOW_HEALTH or below from above it |
| lost | the player has not come closer to their objective for LOST_TICKS ticks (again after new progress) |
| treasure | the player picks up treasure |
| near_exit | the exit is NEAR_EXIT steps away or closer, for the first time this run |
| victory | the player reaches the exit |
| death | the player dies |

The objective is the one the scripted player pursues (`engine.sim.objective`): the exit when it can be
reached; else a locked door while holding a key; else the nearest key. "Closer" is the walking distance to it, so backtracking for a key
is progress as soon as the key becomes the objective.
"""

from __future__ import annotations

import numpy as np

from engine.level import Semantic
from engine.sim import events as sim
from engine.sim.grid import UNREACHED, bfs_distances
from engine.sim.objective import objective_groups
from engine.sim.world import World

LOW_HEALTH = 3
NEAR_EXIT = 4
LOST_TICKS = 64  # eight seconds at 8 ticks/s without getting any closer
AMBUSH_RANGE = 5
AMBUSH_QUIET = 40  # five seconds unseen before a sighting counts as a new ambush
_LOCKED = Semantic.LOCKED_DOOR.code
_NEIGHBOURS = ((0, -1), (0, 1), (-1, 0), (1, 0))


class BeatTracker:
    """Feed it every tick's events with `update(world, events)`; it returns the beats of that tick, in the
    order of BEATS' story (intro first, victory and death last)."""

    def __init__(self) -> None:
        self.started = False
        self.had_key = False
        self.doors_met: set[tuple[int, int]] = set()
        self.last_sighting = -AMBUSH_QUIET - 1
        self.best_distance: int | None = None
        self.since_progress = 0
        self.lost_said = False
        self.near_exit_said = False
        self._field_key: tuple[int, int, int] | None = None
        self._to_objective: np.ndarray | None = None
        self._to_exit: np.ndarray | None = None

    def update(self, world: World, events: list[sim.Event]) -> list[str]:
        beats: list[str] = []
        if not self.started:
            self.started = True
            beats.append("intro")
        p = world.player
        for event in events:
            match event:
                case sim.KeyPicked(by=sim.PLAYER_ID) | sim.KeyHandedOver() if not self.had_key:
                    self.had_key = True
                    beats.append("first_key")
                case sim.NpcSawPlayer(npc_kind="enemy", distance=d) if d <= AMBUSH_RANGE:
                    if world.tick - self.last_sighting > AMBUSH_QUIET:
                        beats.append("ambush")
                    self.last_sighting = world.tick
                case sim.NpcSawPlayer(npc_kind="enemy"):
                    self.last_sighting = world.tick
                case sim.DamageTaken(target=sim.PLAYER_ID, amount=a, health_left=h) if (
                    h + a > LOW_HEALTH >= h > 0
                ):
                    beats.append("low_health")
                case sim.TreasureFound():
                    beats.append("treasure")
        door = self._locked_door_met(world)
        if door is not None:
            self.doors_met.add(door)
            beats.append("locked_door")
        self._refresh_fields(world)
        if self._lost(world):
            beats.append("lost")
        assert self._to_exit is not None
        to_exit = int(self._to_exit[p.y, p.x])
        if not self.near_exit_said and to_exit != UNREACHED and to_exit <= NEAR_EXIT:
            self.near_exit_said = True
            beats.append("near_exit")
        for event in events:
            match event:
                case sim.ExitReached():
                    beats.append("victory")
                case sim.Death(entity=sim.PLAYER_ID):
                    beats.append("death")
        return beats

    def _locked_door_met(self, world: World) -> tuple[int, int] | None:
        p = world.player
        if p.keys > 0:
            return None
        for dx, dy in _NEIGHBOURS:
            x, y = p.x + dx, p.y + dy
            if world.in_bounds(x, y) and world.terrain[y, x] == _LOCKED and (x, y) not in self.doors_met:
                return x, y
        return None

    def _refresh_fields(self, world: World) -> None:
        """Distance fields to the objective and to the exit, rebuilt only when doors, keys or items change."""
        key = (world.terrain_version, world.player.keys, len(world.items))
        if key == self._field_key:
            return
        self._field_key = key
        walk = world.walkable()
        exits, locked, keys = objective_groups(world)
        self._to_exit = bfs_distances(walk, exits)
        p = world.player
        goals = exits if self._to_exit[p.y, p.x] != UNREACHED else locked or keys
        # a locked door is not walkable; the walk ends beside it, which counts as reaching it
        self._to_objective = bfs_distances(walk | (world.terrain == _LOCKED), goals)
        self.best_distance = None  # a new objective: progress is measured afresh

    def _lost(self, world: World) -> bool:
        assert self._to_objective is not None
        d = int(self._to_objective[world.player.y, world.player.x])
        if d == UNREACHED:
            return False
        if self.best_distance is None or d < self.best_distance:
            self.best_distance, self.since_progress, self.lost_said = d, 0, False
            return False
        self.since_progress += 1
        if self.since_progress >= LOST_TICKS and not self.lost_said:
            self.lost_said = True
            return True
        return False
