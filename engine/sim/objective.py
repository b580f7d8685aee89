"""The player's objective, defined once: the scripted player walks to it, the narrator's hints show the way
to it and the story beats measure progress toward it.

The objective is the exit when it can be reached; otherwise a locked door while holding a key; otherwise the
nearest key. Paths keep off hazards when they can and cross them only when there is no other way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.level import Semantic
from engine.sim.grid import shortest_path

if TYPE_CHECKING:
    from engine.sim.world import World

Cell = tuple[int, int]
_HAZARD, _EXIT, _LOCKED = Semantic.HAZARD.code, Semantic.EXIT.code, Semantic.LOCKED_DOOR.code


def cells_of(terrain: np.ndarray, code: int) -> list[Cell]:
    """(x, y) of every cell holding `code`, row by row."""
    ys, xs = np.nonzero(terrain == code)
    return [(int(x), int(y)) for x, y in zip(xs, ys, strict=True)]


def objective_groups(world: World) -> tuple[list[Cell], list[Cell], list[Cell]]:
    """The candidate goals in order of preference: the exits, the locked doors (only while holding a key),
    the keys lying on the floor. The objective is the first group with a reachable cell."""
    locked = cells_of(world.terrain, _LOCKED) if world.player.keys > 0 else []
    keys = [pos for pos, kind in world.items.items() if kind is Semantic.KEY]
    return cells_of(world.terrain, _EXIT), locked, keys


def path_to_objective(world: World) -> list[Cell]:
    """Cells from the player (exclusive) to the objective (inclusive): safe when possible, else across
    hazards; [] when nothing is reachable."""
    p = world.player
    walk = world.walkable()
    safe = walk & (world.terrain != _HAZARD)
    for goals in objective_groups(world):
        for mask in (safe, walk):
            path = shortest_path(mask, (p.x, p.y), goals)
            if path:
                return path
    return []
