"""Grid rules shared by the sim, the player bot and the level tools: what is walkable, BFS distances, paths."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from engine.level import Semantic

# One definition of walkability, used by the sim, the playability checks and the bots.
WALKABLE_SEMANTICS = frozenset(
    {
        Semantic.FLOOR,
        Semantic.DOOR,
        Semantic.KEY,
        Semantic.START,
        Semantic.EXIT,
        Semantic.HAZARD,
        Semantic.ENEMY,
        Semantic.NPC,
        Semantic.TREASURE,
        Semantic.DECORATION,
        Semantic.PLATFORM,
        Semantic.LADDER,
    }
)
WALKABLE_LUT = np.zeros(256, dtype=bool)
WALKABLE_LUT[[s.code for s in WALKABLE_SEMANTICS]] = True

# One definition of what blocks sight (a locked door does until it is opened), read by the World and by the
# arena tables the batched env compiles.
SIGHT_BLOCKING_SEMANTICS = frozenset({Semantic.WALL, Semantic.LOCKED_DOOR, Semantic.VOID, Semantic.SOLID})
SIGHT_BLOCKERS = np.zeros(256, dtype=bool)
SIGHT_BLOCKERS[[s.code for s in SIGHT_BLOCKING_SEMANTICS]] = True

# (dx, dy) in the order of Action.UP, DOWN, LEFT, RIGHT.
STEPS: tuple[tuple[int, int], ...] = ((0, -1), (0, 1), (-1, 0), (1, 0))
UNREACHED = -1


def walkable_mask(semantic_grid: np.ndarray) -> np.ndarray:
    return WALKABLE_LUT[semantic_grid]


def bfs_distances(
    walkable: np.ndarray, sources: Iterable[tuple[int, int]], max_distance: int | None = None
) -> np.ndarray:
    """4-neighbour BFS distances (int32, UNREACHED where not reached) from (x, y) sources over `walkable`."""
    h, w = walkable.shape
    size = h * w
    dist = [UNREACHED] * size
    # Flat indices over Python lists: element access on numpy arrays costs several times more in this loop.
    open_ = walkable.ravel().tolist()
    frontier = []
    for x, y in sources:
        i = y * w + x
        if dist[i] == UNREACHED:
            dist[i] = 0
            frontier.append(i)
    limit = max_distance if max_distance is not None else size
    d = 0
    while frontier and d < limit:
        d += 1
        grown = []
        for i in frontier:
            x = i % w
            if i >= w and open_[i - w] and dist[i - w] == UNREACHED:
                dist[i - w] = d
                grown.append(i - w)
            if i < size - w and open_[i + w] and dist[i + w] == UNREACHED:
                dist[i + w] = d
                grown.append(i + w)
            if x > 0 and open_[i - 1] and dist[i - 1] == UNREACHED:
                dist[i - 1] = d
                grown.append(i - 1)
            if x < w - 1 and open_[i + 1] and dist[i + 1] == UNREACHED:
                dist[i + 1] = d
                grown.append(i + 1)
        frontier = grown
    return np.array(dist, dtype=np.int32).reshape(h, w)


def step_towards(dist: np.ndarray, x: int, y: int) -> int | None:
    """Index into STEPS of a neighbour one closer to the BFS source, or None if (x, y) is unreached or a source."""
    d = dist[y, x]
    if d <= 0:
        return None
    h, w = dist.shape
    for k, (dx, dy) in enumerate(STEPS):
        nx, ny = x + dx, y + dy
        if 0 <= nx < w and 0 <= ny < h and dist[ny, nx] == d - 1:
            return k
    return None


def shortest_path(
    walkable: np.ndarray, start: tuple[int, int], goals: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Cells from start (exclusive) to the nearest goal (inclusive); [] if none is reachable or start is a goal.

    Goal cells need not be walkable themselves (a locked door, an enemy): the path may end on them.
    """
    goals = list(goals)
    if not goals:
        return []
    walk = walkable.copy()
    for gx, gy in goals:
        walk[gy, gx] = True
    return path_down(bfs_distances(walk, goals), start)


def path_down(dist: np.ndarray, start: tuple[int, int]) -> list[tuple[int, int]]:
    """Cells from start (exclusive) down BFS distances `dist` to a source (inclusive), each step to the first
    neighbour in STEPS order one closer; [] if start is unreached or a source."""
    x, y = start
    if dist[y, x] == UNREACHED:
        return []
    path = []
    while (k := step_towards(dist, x, y)) is not None:
        x, y = x + STEPS[k][0], y + STEPS[k][1]
        path.append((x, y))
    return path


def line_cells(x0: int, y0: int, x1: int, y1: int) -> Iterator[tuple[int, int]]:
    """The cells strictly between two cells on their Bresenham line, from the first toward the second."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    x, y = x0, y0
    while (x, y) != (x1, y1):
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x += sx
        if e2 <= dx:
            err += dx
            y += sy
        if (x, y) != (x1, y1):
            yield x, y


def line_of_sight(blocks: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> bool:
    """True when no blocking cell lies strictly between the two cells on the Bresenham line."""
    return not any(blocks[y, x] for x, y in line_cells(x0, y0, x1, y1))
