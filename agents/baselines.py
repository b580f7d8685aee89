"""The strongest scripted NPC baselines we could write, the yardstick every trained role is held to.

Each sees only what the trained policy sees (the `NpcObservation` its vector is built from) and may also
remember its earlier observations, which the memoryless trained MLP cannot: a hunter that waits on the exit it
has seen, a guard that meets an intruder where their route enters the zone, and (in engine.sim.policy) a
companion that walks to the nearest key wherever it lies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.level import Semantic
from engine.sim.grid import STEPS, UNREACHED, WALKABLE_LUT, bfs_distances, step_towards
from engine.sim.policy import MOVES, OBS_RADIUS, SCRIPTED_POLICIES, Action, NpcObservation, Policy, Role

LOOKAHEAD_TICKS = 12  # how far ahead the player's straight-line motion is extrapolated
# Enemies keep off hazards and cannot walk through other NPCs; the window draws both.
_ENEMY_WALKABLE = WALKABLE_LUT.copy()
_ENEMY_WALKABLE[[Semantic.HAZARD.code, Semantic.ENEMY.code, Semantic.NPC.code]] = False


@dataclass
class _Sighting:
    x: int
    y: int
    tick: int


class _Tracker:
    """Memory of the player across one NPC's decisions: the last sighting, a smoothed velocity per tick, the
    NPC's own move period (ticks between its decisions) and a wander heading. A tick that goes backwards
    means a new episode, and everything is forgotten."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seen: _Sighting | None = None
        self.velocity = np.zeros(2)
        self.last_tick = -1
        self.period = 2
        self.heading: int | None = None

    def update(self, o: NpcObservation) -> None:
        if o.tick <= self.last_tick:
            self.reset()
        if self.last_tick >= 0:
            self.period = int(np.clip(o.tick - self.last_tick, 1, 4))
        self.last_tick = o.tick
        if o.player_offset is None:
            return
        px, py = o.x + o.player_offset[0], o.y + o.player_offset[1]
        if self.seen is not None and 0 < o.tick - self.seen.tick <= 2 * self.period + 2:
            dt = o.tick - self.seen.tick
            step = np.array([px - self.seen.x, py - self.seen.y]) / dt
            self.velocity = 0.5 * self.velocity + 0.5 * step
        elif self.seen is None or o.tick - self.seen.tick > 2 * self.period + 2:
            self.velocity = np.zeros(2)
        self.seen = _Sighting(px, py, o.tick)


def _window_walkable(o: NpcObservation) -> np.ndarray:
    walk = _ENEMY_WALKABLE[o.local_tiles]
    walk[OBS_RADIUS, OBS_RADIUS] = True  # the NPC's own cell
    return walk


def _move_to(walk: np.ndarray, target: tuple[int, int]) -> Action | None:
    """The first move of a shortest path inside the window from its centre to `target` (window coords)."""
    tx, ty = target
    if (tx, ty) == (OBS_RADIUS, OBS_RADIUS):
        return None
    goal = walk.copy()
    goal[ty, tx] = True  # the player's cell may be drawn as floor or not at all: always a valid end
    k = step_towards(bfs_distances(goal, [(tx, ty)]), OBS_RADIUS, OBS_RADIUS)
    return None if k is None else MOVES[k]


def intercept(o: NpcObservation, tracker: _Tracker, inside: np.ndarray | None = None) -> Action | None:
    """Lead the player: the earliest cell on their extrapolated path (straight line, stopping at walls) that
    this NPC can reach no later than they do, optionally only among `inside` cells (window coords); None if
    the player is not seen or no such cell is in the window."""
    if o.player_offset is None:
        return None
    r = OBS_RADIUS
    walk = _window_walkable(o)
    dist = bfs_distances(walk, [(r, r)])
    size = 2 * r + 1
    px, py = o.player_offset[0] + r, o.player_offset[1] + r
    last = (px, py)
    for t in range(0, LOOKAHEAD_TICKS + 1):
        qx = round(px + float(tracker.velocity[0]) * t)
        qy = round(py + float(tracker.velocity[1]) * t)
        inside_window = 0 <= qx < size and 0 <= qy < size
        if inside_window and not walk[qy, qx] and (qx, qy) != (px, py):
            qx, qy = last  # the player stops at a wall: wait where they were
            inside_window = 0 <= qx < size and 0 <= qy < size
        last = (qx, qy)
        if not inside_window:
            continue  # the player sees farther than the window shows: plan only where the tiles are known
        if inside is not None and not inside[qy, qx]:
            continue
        d = 0 if (qx, qy) == (r, r) else int(dist[qy, qx])
        reach = d if d != UNREACHED else None
        if (qx, qy) == (px, py) and reach is None and max(abs(qx - r), abs(qy - r)) <= 1:
            reach = 1  # adjacent, drawn as not walkable (floor under the player is not marked): bump
        if reach is not None and reach * tracker.period <= max(t, 1):
            return _move_to(walk, (qx, qy))
    return None


def _wander(o: NpcObservation, tracker: _Tracker) -> Action:
    """Keep a heading until it is blocked, then turn (never straight back if another way is open): covers
    more ground than a random step per tick, so a lost player is found sooner."""
    walk = _window_walkable(o)
    r = OBS_RADIUS
    open_moves = [k for k, (dx, dy) in enumerate(STEPS) if walk[r + dy, r + dx]]
    if not open_moves:
        return Action.NOOP
    if tracker.heading in open_moves:
        return MOVES[tracker.heading]
    back = {0: 1, 1: 0, 2: 3, 3: 2}.get(tracker.heading) if tracker.heading is not None else None
    choices = [k for k in open_moves if k != back] or open_moves
    tracker.heading = choices[o.noise % len(choices)]
    return MOVES[tracker.heading]


class _MapMemory:
    """The tiles this NPC has seen, in level coordinates, and where it saw the exit: a scripted NPC with
    memory knows the level as far as it has looked, which is all a trained MLP could learn from its window."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.walkable: dict[tuple[int, int], bool] = {}
        self.exit: tuple[int, int] | None = None

    def update(self, o: NpcObservation) -> None:
        r = OBS_RADIUS
        walk = _ENEMY_WALKABLE[o.local_tiles]
        for wy in range(2 * r + 1):
            for wx in range(2 * r + 1):
                self.walkable[(o.x + wx - r, o.y + wy - r)] = bool(walk[wy, wx])
        exits = np.argwhere(o.local_tiles == _EXIT_CODE)
        if len(exits):
            wy, wx = exits[0]
            self.exit = (o.x + int(wx) - r, o.y + int(wy) - r)

    def toward(self, start: tuple[int, int], goal: tuple[int, int]) -> Action | None:
        """The first move of a shortest path over remembered walkable cells (the goal itself may be any)."""
        if start == goal:
            return None
        parent: dict[tuple[int, int], tuple[int, int]] = {goal: goal}
        frontier = [goal]
        while frontier:
            nxt = []
            for cx, cy in frontier:
                for dx, dy in STEPS:
                    cell = (cx + dx, cy + dy)
                    if cell in parent or not (self.walkable.get(cell, False) or cell == start):
                        continue
                    parent[cell] = (cx, cy)
                    if cell == start:
                        px, py = cx, cy
                        return MOVES[STEPS.index((px - start[0], py - start[1]))]
                    nxt.append(cell)
            frontier = nxt
        return None


_EXIT_CODE = Semantic.EXIT.code


class AmbushHunter:
    """Hunter: follows the path to the player while alerted; otherwise, once it has seen the exit, waits on it,
    where every player must come; otherwise sweeps the level with a kept heading.

    Tried and dropped, on 600 training-level episodes: leading a seen player (`intercept`) gave 0.343 with the
    ambush against 0.385 without, and walking to the last sighting added nothing.
    """

    def __init__(self) -> None:
        self.tracker, self.map = _Tracker(), _MapMemory()

    def act(self, observation: NpcObservation) -> Action:
        o, tr = observation, self.tracker
        if o.tick <= tr.last_tick:
            self.map.reset()
        tr.update(o)
        self.map.update(o)
        if o.toward_player is not None:
            return o.toward_player
        if self.map.exit is not None:
            if (o.x, o.y) == self.map.exit:
                return Action.NOOP
            move = self.map.toward((o.x, o.y), self.map.exit)
            if move is not None:
                return move
        return _wander(o, tr)


class InterceptGuard:
    """Guard: meets an intruder at the first cell of their extrapolated route that lies inside the zone
    (a hit counts only there), charges one already inside, and otherwise waits at its post, where the routes
    through the zone are shortest to reach."""

    def __init__(self) -> None:
        self.tracker = _Tracker()

    def _zone(self, o: NpcObservation) -> np.ndarray:
        r = OBS_RADIUS
        ys, xs = np.mgrid[-r : r + 1, -r : r + 1]
        hx, hy = o.home_offset
        return np.maximum(np.abs(xs - hx), np.abs(ys - hy)) <= o.zone_radius

    def act(self, observation: NpcObservation) -> Action:
        o, tr = observation, self.tracker
        tr.update(o)
        move = intercept(o, tr, inside=self._zone(o))
        if move is None and o.player_in_zone():
            move = o.toward_player
        if move is not None:
            return move
        hx, hy = o.home_offset
        if (hx, hy) != (0, 0) and o.toward_home is not None:
            return o.toward_home
        return Action.NOOP


STRONG_POLICIES: dict[Role, type[Policy]] = {
    Role.HUNTER: AmbushHunter,
    Role.GUARD: InterceptGuard,
    Role.COMPANION: SCRIPTED_POLICIES[Role.COMPANION],
}
"""role → the strongest scripted baseline (the companion's is the game's own, which already uses every field)"""
