"""Playability, exactly as DESIGN.md defines it, with the path, its length and the critical tiles.

Three questions, one per kind of level:
- a whole top-down level (`solve_topdown`): one start, one exit, every key needed is reachable before its lock,
  the exit reachable by 4-neighbour moves with the doors opened in key order;
- a top-down room, the unit the level GAN makes (`solve_room`): every door on its border reaches every other
  door and every pickup, so the room works wherever the dungeon graph puts it;
- a platformer level (`solve_platformer`): the exit is reachable from the start under the genre's jump model.

Walkability is `engine.sim.grid`'s: the solver and the game cannot disagree about what a player can stand on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from engine.level import Level, Semantic
from engine.sim.grid import UNREACHED, WALKABLE_LUT, bfs_distances, path_down, shortest_path
from procgen.levels.genre import TOPDOWN, Genre, JumpModel

Cell = tuple[int, int]  # (x, y)

_code = {s: s.code for s in Semantic}
DOOR, LOCKED, KEY = _code[Semantic.DOOR], _code[Semantic.LOCKED_DOOR], _code[Semantic.KEY]
START, EXIT = _code[Semantic.START], _code[Semantic.EXIT]
PICKUPS = (KEY, _code[Semantic.TREASURE])

# Platformer movement: what a body may occupy, and what holds it up from below.
PLATFORMER_PASSABLE_LUT = WALKABLE_LUT.copy()
PLATFORMER_PASSABLE_LUT[_code[Semantic.HAZARD]] = False  # spikes and lava kill in a platformer
PLATFORMER_SUPPORT_LUT = np.zeros(256, dtype=bool)
PLATFORMER_SUPPORT_LUT[
    [
        _code[s]
        for s in (Semantic.SOLID, Semantic.WALL, Semantic.PLATFORM, Semantic.LADDER, Semantic.LOCKED_DOOR)
    ]
] = True
LADDER = _code[Semantic.LADDER]

FOUR_NEIGHBOURS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


@dataclass(frozen=True)
class Solution:
    """The verdict, and when playable the path the solver found (cells after the first, in order)."""

    playable: bool
    reason: str = ""
    path: tuple[Cell, ...] = ()
    critical: frozenset[Cell] = field(default_factory=frozenset)
    """tiles every route passes through: blocking any one of them makes the level unplayable"""

    @property
    def length(self) -> int:
        return len(self.path)


# ---------------------------------------------------------------------------------------------------- top-down


def border_doors(sem: np.ndarray) -> list[Cell]:
    """Door tiles on a room's border (corners excluded), in row-major order."""

    ring = np.zeros_like(sem, dtype=bool)
    ring[[0, -1], 1:-1] = True
    ring[1:-1, [0, -1]] = True
    ys, xs = np.nonzero(ring & (sem == DOOR))
    return [(int(x), int(y)) for y, x in zip(ys, xs, strict=True)]


def inside_of(door: Cell, shape: tuple[int, int]) -> Cell:
    """The tile just inside a border door: where a player stands after walking in."""
    x, y = door
    h, w = shape
    return (x, 1) if y == 0 else (x, h - 2) if y == h - 1 else (1, y) if x == 0 else (w - 2, y)


def room_targets(sem: np.ndarray) -> list[Cell]:
    """What a room must connect: its border doors first, the tile inside each door, then its pickups."""
    ys, xs = np.nonzero(np.isin(sem, PICKUPS))
    doors = border_doors(sem)
    return (
        doors
        + [inside_of(d, sem.shape) for d in doors]
        + [(int(x), int(y)) for y, x in zip(ys, xs, strict=True)]
    )


def room_playable(sem: np.ndarray) -> bool:
    """`solve_room(...).playable`, fast: one connected-component labelling, no path."""
    if min(sem.shape) < 3:  # as solve_rooms: too small to be a room
        return False
    targets = room_targets(sem)
    if not border_doors(sem):
        return False
    labels, _ = ndimage.label(WALKABLE_LUT[sem], structure=FOUR_NEIGHBOURS)
    first = labels[targets[0][1], targets[0][0]]
    return bool(first) and all(labels[y, x] == first for x, y in targets)


def rooms_playable(sems: np.ndarray) -> np.ndarray:
    """`room_playable` over a batch (N, H, W) of semantic grids, with one labelling for the whole batch."""
    sems = np.asarray(sems)
    if len(sems) == 0 or min(sems.shape[1:]) < 3:  # as solve_rooms: too small to be a room
        return np.zeros(len(sems), dtype=bool)
    labels, _ = ndimage.label(WALKABLE_LUT[sems], structure=_IN_PLANE)
    out = np.zeros(len(sems), dtype=bool)
    for i, targets in enumerate(_batch_targets(sems)):
        if targets:
            first = labels[i, targets[0][1], targets[0][0]]
            out[i] = bool(first) and all(labels[i, y, x] == first for x, y in targets)
    return out


def solve_room(sem: np.ndarray, critical: bool = True) -> Solution:
    """A room is playable when its first door reaches every other door, the tile inside every door, and every
    pickup. The path returned runs from the first door to the farthest target."""
    return solve_rooms(sem[None], critical)[0]


def solve_rooms(sems: np.ndarray, critical: bool = True) -> list[Solution]:
    """`solve_room` for each room of a batch (N, H, W). The critical-tile test, the costly part, is one pass for
    the whole batch: every copy of every room with one path cell blocked, labelled at once. This is the
    backend's batched solver pass."""
    sems = np.asarray(sems)
    h, w = sems.shape[1:]
    if h < 3 or w < 3:  # no tile inside a border door: nothing to walk into
        return [Solution(False, f"a room needs at least 3x3 tiles, this one is {w}x{h}")] * len(sems)
    walk = WALKABLE_LUT[sems]
    all_targets = _batch_targets(sems)
    out: list[Solution | None] = [None] * len(sems)
    paths: dict[int, tuple[Cell, ...]] = {}
    doors = {i: targets[0] for i, targets in enumerate(all_targets) if targets}
    for i, targets in enumerate(all_targets):
        if not targets:
            out[i] = Solution(False, "no door on the room's border")
    from_door = _distances(walk, doors)
    far: dict[int, Cell] = {}
    for i, door in doors.items():
        dist, rest = from_door[i], all_targets[i][1:]
        cut_off = [t for t in rest if dist[t[1], t[0]] == UNREACHED]
        inside = inside_of(door, (h, w))
        if not walk[i, inside[1], inside[0]]:
            cut_off.insert(0, inside)
        if cut_off:
            out[i] = Solution(False, f"cut off from the door at {door}: {cut_off[:4]}")
            continue
        far[i] = max(rest, key=lambda t: dist[t[1], t[0]], default=door)
    # `shortest_path(walk, door, [far])`: distances from the far target (which may itself be closed), then
    # down them from the door
    goal_open = walk.copy()
    for i, (x, y) in far.items():
        goal_open[i, y, x] = True
    from_far = _distances(goal_open, far)
    for i in far:
        paths[i] = tuple(path_down(from_far[i], doors[i]))
    crit = _batch_articulation_cells(walk, all_targets, paths) if critical else {}
    for i, path in paths.items():
        out[i] = Solution(True, "", path, crit.get(i, frozenset()))
    return out  # type: ignore[return-value]


_STEP_BATCH_MAX_CELLS = 1024
"""grids of at most this many cells, two or more at once, get their distances as whole-batch numpy steps (one
step per distance, for every grid at once: the GAN's rooms, 7x faster than grid by grid in a batch of 32); bigger or single ones
(a client's 64x64 maze would take thousands of steps) get `bfs_distances`, grid by grid"""


def _distances(walk: np.ndarray, sources: dict[int, Cell]) -> dict[int, np.ndarray]:
    """`bfs_distances(walk[i], [sources[i]])` for each grid i named in `sources`."""
    h, w = walk.shape[1:]
    if len(sources) < 2 or h * w > _STEP_BATCH_MAX_CELLS:
        return {i: bfs_distances(walk[i], [cell]) for i, cell in sources.items()}
    rooms = list(sources)
    dist = _step_distances(walk[rooms], np.array([sources[i] for i in rooms]))
    return dict(zip(rooms, dist, strict=True))


def _step_distances(walk: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """4-neighbour BFS distances (N, H, W) from one (x, y) source per grid, as `bfs_distances` gives them: the
    source is at 0 whether open or not, and each step reaches the open unseen neighbours of the last one.

    The grids are framed with closed cells and laid end to end in one flat array, so a step is four shifted
    ORs of it (the frame keeps a step from wrapping into the next row or grid)."""
    n, h, w = walk.shape
    row = w + 2
    open_ = np.zeros((n, h + 2, row), dtype=bool)
    open_[:, 1:-1, 1:-1] = walk
    frontier3 = np.zeros_like(open_)
    frontier3[np.arange(n), sources[:, 1] + 1, sources[:, 0] + 1] = True
    dist = np.full(open_.shape, UNREACHED, dtype=np.int32)
    dist[frontier3] = 0
    unseen = (open_ & ~frontier3).ravel()
    frontier, flat = frontier3.ravel(), dist.ravel()
    d = 0
    while True:
        d += 1
        grown = np.zeros_like(frontier)
        grown[1:] = frontier[:-1]
        grown[:-1] |= frontier[1:]
        grown[row:] |= frontier[:-row]
        grown[:-row] |= frontier[row:]
        grown &= unseen
        if not grown.any():
            return dist[:, 1:-1, 1:-1]
        unseen ^= grown
        np.putmask(flat, grown, d)
        frontier = grown


def _batch_doors(sems: np.ndarray) -> list[list[Cell]]:
    """`border_doors` of each room of a batch."""
    ring = np.zeros(sems.shape[1:], dtype=bool)
    ring[[0, -1], 1:-1] = True
    ring[1:-1, [0, -1]] = True
    return _cells_by_room(ring & (sems == DOOR), len(sems))


def _batch_targets(sems: np.ndarray) -> list[list[Cell]]:
    """`room_targets` of each room of a batch; empty for a room with no door (it has nothing to connect)."""
    shape = sems.shape[1:]
    pickups = _cells_by_room(np.isin(sems, PICKUPS), len(sems))
    return [
        doors + [inside_of(d, shape) for d in doors] + mine if doors else []
        for doors, mine in zip(_batch_doors(sems), pickups, strict=True)
    ]


def _cells_by_room(mask: np.ndarray, n: int) -> list[list[Cell]]:
    """The (x, y) cells set in each room of a (N, H, W) mask, row-major within a room."""
    out: list[list[Cell]] = [[] for _ in range(n)]
    for i, y, x in zip(*(a.tolist() for a in np.nonzero(mask)), strict=True):
        out[i].append((x, y))
    return out


_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[1] = FOUR_NEIGHBOURS  # a batch (N, H, W) labelled room by room: nothing connects across rooms
_COPIES_PER_LABEL = 4096  # blocked copies labelled in one call: bounds the memory whatever the batch


def _batch_articulation_cells(
    walk: np.ndarray, all_targets: list[list[Cell]], paths: dict[int, tuple[Cell, ...]]
) -> dict[int, frozenset]:
    """`_articulation_cells` for each room in `paths` (source: its first door; targets: the rest): every path cell
    that is not a target becomes one copy of its room with that cell blocked, and all copies are labelled at once."""
    out: dict[int, set] = {i: set() for i in paths}
    copies: list[tuple[int, Cell]] = []
    for i, path in paths.items():
        rest = all_targets[i][1:]
        for cell in path:
            if cell in rest:
                out[i].add(cell)
            else:
                copies.append((i, cell))
    if not copies:
        return {i: frozenset(cells) for i, cells in out.items()}
    # each room's source and targets as a padded table, so a copy's checks are one gather
    most = max(len(all_targets[i]) for i in paths)
    table = np.zeros((len(walk), most, 2), dtype=np.intp)
    counted = np.zeros((len(walk), most), dtype=bool)
    for i in paths:
        table[i, : len(all_targets[i])] = all_targets[i]
        counted[i, 1 : len(all_targets[i])] = True
    for start in range(0, len(copies), _COPIES_PER_LABEL):
        chunk = copies[start : start + _COPIES_PER_LABEL]
        rooms = np.array([i for i, _ in chunk])
        cells = np.array([c for _, c in chunk]).reshape(-1, 2)
        blocked = walk[rooms]
        at = np.arange(len(chunk))
        blocked[at, cells[:, 1], cells[:, 0]] = False
        labels, _ = ndimage.label(blocked, structure=_IN_PLANE)
        mine = table[rooms]  # (copies, targets, xy); target 0 is the source
        seen = labels[at[:, None], mine[:, :, 1], mine[:, :, 0]]
        apart = ((seen != seen[:, :1]) & counted[rooms]).any(axis=1)
        for k in np.nonzero(apart)[0].tolist():
            i, cell = chunk[k]
            out[i].add(cell)
    return {i: frozenset(cells) for i, cells in out.items()}


def solve_topdown(sem: np.ndarray, critical: bool = True) -> Solution:
    """DESIGN.md's top-down playability: one start, one exit, keys reachable before their locks, the exit reachable
    with doors opened in key order. Any key opens any lock; a lock opens only once a key has been picked up."""
    starts, exits = np.argwhere(sem == START), np.argwhere(sem == EXIT)
    if len(starts) != 1 or len(exits) != 1:
        return Solution(False, f"needs exactly one start and one exit, has {len(starts)} and {len(exits)}")
    start = (int(starts[0][1]), int(starts[0][0]))
    goal = (int(exits[0][1]), int(exits[0][0]))
    locked = sem == LOCKED
    walk = WALKABLE_LUT[sem]
    opened = np.zeros_like(locked)
    held: list[Cell] = []
    taken: set[Cell] = set()
    waypoints: list[Cell] = []  # key, door, key, door, ..., exit: the order the player must follow
    keys = [(int(x), int(y)) for y, x in np.argwhere(sem == KEY)]
    while True:
        dist = bfs_distances(walk | opened, [start])
        for k in keys:
            if k not in taken and dist[k[1], k[0]] != UNREACHED:
                taken.add(k)
                held.append(k)
        if dist[goal[1], goal[0]] != UNREACHED:
            break
        frontier = _reachable_locks(locked & ~opened, dist)
        if not frontier:
            return Solution(False, "the exit is unreachable from the start")
        if not held:
            return Solution(False, f"the locked door at {frontier[0]} is met before any key")
        door = frontier[0]
        waypoints += [held.pop(0), door]
        opened[door[1], door[0]] = True
    waypoints.append(goal)

    path: list[Cell] = []
    here, open_so_far = start, np.zeros_like(locked)
    for i, point in enumerate(waypoints):
        if i % 2 == 1 and i < len(waypoints) - 1:  # a door: walk into it, it opens
            open_so_far[point[1], point[0]] = True
        path += shortest_path(walk | open_so_far, here, [point])
        here = point
    crit = _articulation_cells(walk | opened, start, [goal], tuple(path)) if critical else frozenset()
    return Solution(True, "", tuple(path), crit)


def _reachable_locks(closed: np.ndarray, dist: np.ndarray) -> list[Cell]:
    reached = dist != UNREACHED
    touching = ndimage.binary_dilation(reached, structure=FOUR_NEIGHBOURS) & closed
    return [(int(x), int(y)) for y, x in np.argwhere(touching)]


def _articulation_cells(
    walk: np.ndarray, source: Cell, targets: list[Cell], path: tuple[Cell, ...]
) -> frozenset:
    """Cells of `path` that every route from `source` to some target must cross."""
    out = set()
    for cell in path:
        if cell in targets:
            out.add(cell)
            continue
        blocked = walk.copy()
        blocked[cell[1], cell[0]] = False
        labels, _ = ndimage.label(blocked, structure=FOUR_NEIGHBOURS)
        home = labels[source[1], source[0]]
        if any(labels[y, x] != home for x, y in targets):
            out.add(cell)
    return frozenset(out)


# -------------------------------------------------------------------------------------------------- platformer


def platformer_moves(sem: np.ndarray, jump: JumpModel) -> Callable[[Cell], Iterator[Cell]]:
    """The jump model as a successor function over the cells a body can occupy."""
    h, w = sem.shape
    passable = PLATFORMER_PASSABLE_LUT[sem]
    support = PLATFORMER_SUPPORT_LUT[sem]
    ladder = sem == LADDER

    def free(x: int, y: int) -> bool:
        return 0 <= x < w and 0 <= y < h and bool(passable[y, x])

    def moves(cell: Cell) -> Iterator[Cell]:
        x, y = cell
        on_ladder = bool(ladder[y, x])
        grounded = on_ladder or (y + 1 < h and bool(support[y + 1, x]))
        if not grounded:
            for fall in range(1, jump.gravity + 1):  # gravity tiles per tick, stopped by what is below
                if not free(x, y + fall):
                    break
                yield (x, y + fall)
                if y + fall + 1 < h and support[y + fall + 1, x]:
                    break
            return
        for dx in (-1, 1):
            if free(x + dx, y):
                yield (x + dx, y)
        if on_ladder or (y + 1 < h and ladder[y + 1, x]):
            if free(x, y + 1):
                yield (x, y + 1)
            if on_ladder and free(x, y - 1):
                yield (x, y - 1)
        for rise in range(1, jump.max_jump_height + 1):
            if not free(x, y - rise):
                break
            yield (x, y - rise)
            for dx in (-1, 1):
                for glide in range(1, jump.max_jump_width + 1):
                    if not free(x + dx * glide, y - rise):
                        break
                    yield (x + dx * glide, y - rise)

    return moves


def _bfs_states(
    moves: Callable[[Cell], Iterator[Cell]], start: Cell, blocked: Cell | None = None
) -> dict[Cell, Cell | None]:
    parent: dict[Cell, Cell | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for nxt in moves(cell):
            if nxt not in parent and nxt != blocked:
                parent[nxt] = cell
                queue.append(nxt)
    return parent


def solve_platformer(sem: np.ndarray, jump: JumpModel, critical: bool = True) -> Solution:
    """The exit is reachable from the start under `jump`. The path is the sequence of body cells (jumps included)."""
    starts, exits = np.argwhere(sem == START), np.argwhere(sem == EXIT)
    if len(starts) != 1 or len(exits) != 1:
        return Solution(False, f"needs exactly one start and one exit, has {len(starts)} and {len(exits)}")
    start = (int(starts[0][1]), int(starts[0][0]))
    goal = (int(exits[0][1]), int(exits[0][0]))
    moves = platformer_moves(sem, jump)
    parent = _bfs_states(moves, start)
    if goal not in parent:
        return Solution(False, "the exit is out of reach under the jump model")
    path: list[Cell] = []
    cell: Cell | None = goal
    while cell is not None and cell != start:
        path.append(cell)
        cell = parent[cell]
    path.reverse()
    crit = frozenset()
    if critical:
        crit = frozenset(c for c in path if c == goal or goal not in _bfs_states(moves, start, blocked=c))
    return Solution(True, "", tuple(path), crit)


# ------------------------------------------------------------------------------------------------------ levels


def solve(
    level: Level | np.ndarray, genre: Genre = TOPDOWN, room: bool = False, critical: bool = True
) -> Solution:
    """Playability of a Level (or a semantic grid) for its genre; `room=True` asks the room question instead."""
    sem = level.semantic_grid() if isinstance(level, Level) else level
    if genre.name == "platformer":
        assert genre.jump is not None
        return solve_platformer(sem, genre.jump, critical)
    return solve_room(sem, critical) if room else solve_topdown(sem, critical)


def solve_batch(
    sems: np.ndarray, genre: Genre = TOPDOWN, room: bool = False, critical: bool = True
) -> list[Solution]:
    """`solve` for each grid of a batch (N, H, W): top-down rooms in one batched pass (`solve_rooms`), the rest
    one by one."""
    if room and genre.name == "topdown":
        return solve_rooms(sems, critical)
    return [solve(s, genre, room, critical) for s in sems]


def is_playable(level: Level | np.ndarray, genre: Genre = TOPDOWN, room: bool = False) -> bool:
    sem = level.semantic_grid() if isinstance(level, Level) else level
    if room and genre.name == "topdown":
        return room_playable(sem)
    return solve(sem, genre, room, critical=False).playable


__all__ = [
    "Solution",
    "border_doors",
    "is_playable",
    "platformer_moves",
    "room_playable",
    "room_targets",
    "rooms_playable",
    "solve",
    "solve_batch",
    "solve_platformer",
    "solve_room",
    "solve_rooms",
    "solve_topdown",
]
