"""Minimum-edit repair: the fewest tile changes that make a level playable, with a proven lower bound.

Top-down: two to eight pieces to join are solved exactly by shortest paths (special cases up to four, the
general Dreyfus-Wagner table from five); more go to an OR-Tools CP-SAT model. The model is a flow. One unit of flow leaves the source (the start, or a
room's first door) for each target (the exit, or a room's other doors and pickups) and may cross a move u → v
only while the tiles that move needs are open after repair. The objective counts changed tiles. CP-SAT runs
with one worker under a deterministic time limit, so the same level gets the same repair on any machine; the
wall-clock limit is only a safety net far behind it.

Platformer: an exact best-first search over (body cell, set of edits) labels (`_EditSearch`). A move of the
jump model needs some tiles in some state (the cells a jump passes through open, the tile under a take-off
solid); the edits a label carries are the union of what its moves needed, so an edit shared by two moves counts
once. A label whose edit set contains another's at the same cell is dropped (it can do nothing the other
cannot, at no lower cost), and a node-charge lower bound to the exit orders the search (A*). The first label to
reach the exit is a minimum of a relaxation of the problem, so its edit count is a proven lower bound; the
solver then checks the edited level, and when it is playable the repair is optimal. The search stops after a
fixed number of labels (a deterministic limit, never the clock) and then returns its best playable level with
the bound it proved (`RepairResult.optimal`, `.lower_bound`, `.gap`).

Every repaired level is re-checked by `procgen.levels.solver` before it is returned. Top-down repair opens tiles
(a blocked tile becomes floor); a whole level first gets exactly one start and one exit, and its locked doors
count as blocked, so the path it guarantees needs no key. Platformer repair may turn any tile into sky or into
ground, except the start, the exit and the tile holding up a ladder. Room borders stay as they are: the frame
and its doors are the conditions.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model
from scipy import ndimage

from engine.errors import LudoforgeError
from engine.level import Semantic
from engine.sim.grid import WALKABLE_LUT
from procgen.levels.genre import TOPDOWN, Genre, JumpModel
from procgen.levels.solver import (
    FOUR_NEIGHBOURS,
    LADDER,
    PLATFORMER_PASSABLE_LUT,
    PLATFORMER_SUPPORT_LUT,
    border_doors,
    inside_of,
    is_playable,
    room_targets,
)

Cell = tuple[int, int]
FLOOR, SOLID = Semantic.FLOOR.code, Semantic.SOLID.code
START, EXIT = Semantic.START.code, Semantic.EXIT.code
MAX_REPAIR_CELLS = 64 * 64
DEFAULT_TIME_LIMIT_S = 60.0
"""wall-clock safety net only: the deterministic limits below stop a search long before it on any machine"""
DEFAULT_DETERMINISTIC_LIMIT = 10.0
"""CP-SAT's deterministic time (its own work units, independent of the machine) for a top-down model"""
DEFAULT_MAX_LABELS = 2_000
"""labels the platformer search expands before it settles for its best level and the bound it proved"""
EXACT_JOIN_MAX_PIECES = 8
"""pieces a top-down repair joins by exact shortest-path tables; more go to CP-SAT (the table grows as 3^pieces)"""
_INF = 10**6


class RepairError(LudoforgeError, ValueError):
    """No playable level exists within the repair's bounds (edit budget, time limit, size)."""


@dataclass(frozen=True)
class RepairResult:
    tiles: np.ndarray
    """the repaired semantic grid"""
    edits: int
    seconds: float
    optimal: bool = True
    """True when `edits` is proven minimal; False when a search limit came first (then see `lower_bound`)"""
    lower_bound: int = 0
    """a proven lower bound on the fewest edits (equal to `edits` when optimal)"""

    @property
    def edit_fraction(self) -> float:
        return self.edits / self.tiles.size

    @property
    def gap(self) -> int:
        """edits above the proven minimum bound: 0 when optimal"""
        return self.edits - self.lower_bound


def repair(
    sem: np.ndarray,
    genre: Genre = TOPDOWN,
    room: bool = False,
    max_edit_fraction: float = 1.0,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    deterministic_limit: float = DEFAULT_DETERMINISTIC_LIMIT,
    max_labels: int = DEFAULT_MAX_LABELS,
) -> RepairResult:
    """A playable copy of `sem` with the fewest tile changes; RepairError when none is found within the bounds.

    The search is bounded by work, not time: the shortest-path joins (up to EXACT_JOIN_MAX_PIECES pieces) are
    exact tables, `deterministic_limit` bounds CP-SAT (top-down models of more pieces) and `max_labels` the
    platformer search, so a level's repair is the same on any machine under any load. `time_limit_s` is a
    wall-clock safety net behind them."""
    t0 = time.perf_counter()
    sem = np.array(sem, dtype=np.uint8, copy=True)
    original = sem.copy()
    h, w = sem.shape
    if h * w > MAX_REPAIR_CELLS:
        raise RepairError(f"size: {w}x{h} is more than the repair bound of {MAX_REPAIR_CELLS} tiles")
    if not 0.0 <= max_edit_fraction <= 1.0:
        raise ValueError(f"max_edit_fraction: expected 0..1, got {max_edit_fraction}")
    if room and genre.name == "topdown":
        if not border_doors(sem):
            raise RepairError("doors: a room needs at least one door on its border to be repaired")
        _open_door_insides(sem)
        targets = room_targets(sem)
        source, sinks = targets[0], targets[1:]
    else:
        source, sink = _ensure_endpoints(sem, genre)
        sinks = [sink]
    forced = int((sem != original).sum())  # endpoints and door tiles: part of the edits and of the bound
    if is_playable(sem, genre, room):
        return _result(sem, original, t0, max_edit_fraction, True, forced)
    budget = int(np.floor(max_edit_fraction * h * w)) - forced
    if genre.name == "platformer":
        assert genre.jump is not None
        sem, optimal, bound = _solve_platformer(sem, source, sinks[0], genre.jump, budget, max_labels)
    else:
        sem, optimal, bound = _solve_topdown(
            sem, source, sinks, room, budget, deterministic_limit, time_limit_s
        )
    if not is_playable(sem, genre, room):  # the search and the solver disagree: a bug, never a silent pass
        raise AssertionError("repair produced a level the solver rejects")
    return _result(sem, original, t0, max_edit_fraction, optimal, forced + bound)


def _open_door_insides(sem: np.ndarray) -> None:
    """The tile inside each border door must be open: a forced edit, made in place."""
    for door in border_doors(sem):
        x, y = inside_of(door, sem.shape)
        if not WALKABLE_LUT[sem[y, x]]:
            sem[y, x] = FLOOR


def pieces_to_join(room: np.ndarray) -> int:
    """How many separate walkable pieces hold a room's targets once the tile inside each door is open: what
    decides how a top-down repair joins them (shortest paths up to EXACT_JOIN_MAX_PIECES, CP-SAT beyond)."""
    sem = np.array(room, dtype=np.uint8, copy=True)
    _open_door_insides(sem)
    labels, _ = ndimage.label(WALKABLE_LUT[sem], structure=FOUR_NEIGHBOURS)
    return len({int(labels[y, x]) for x, y in room_targets(sem)})


def _result(
    sem: np.ndarray,
    original: np.ndarray,
    t0: float,
    max_edit_fraction: float,
    optimal: bool,
    lower_bound: int,
) -> RepairResult:
    edits = int((sem != original).sum())
    if edits > max_edit_fraction * sem.size:
        raise RepairError(
            f"max_edit_fraction: needs {edits} edits, more than {max_edit_fraction:.0%} of the tiles"
        )
    lower_bound = edits if optimal else min(lower_bound, edits)
    return RepairResult(sem, edits, time.perf_counter() - t0, optimal, lower_bound)


def _ensure_endpoints(sem: np.ndarray, genre: Genre) -> tuple[Cell, Cell]:
    """Exactly one start (the first in row-major order) and one exit (the last); missing ones are placed on the
    first / last tile a player could occupy, or in a corner of a level with none."""
    passable = PLATFORMER_PASSABLE_LUT[sem] if genre.name == "platformer" else WALKABLE_LUT[sem]
    h, w = sem.shape
    cells = []
    for code, pick in ((START, 0), (EXIT, -1)):
        found = np.argwhere(sem == code)
        for y, x in found[1:] if pick == 0 else found[:-1]:
            sem[y, x] = FLOOR
        if len(found):
            y, x = found[pick]
        else:
            free = np.argwhere(passable & (sem != START))
            y, x = free[pick] if len(free) else ((0, 0) if pick == 0 else (h - 1, w - 1))
            sem[y, x] = code
        cells.append((int(x), int(y)))
    return cells[0], cells[1]


def _solve(
    model: cp_model.CpModel, deterministic_limit: float, time_limit_s: float
) -> tuple[cp_model.CpSolver, bool]:
    """CP-SAT bounded by its deterministic time, so the answer never depends on the machine's speed or load.
    One worker with a fixed seed: a parallel portfolio would race its workers against each other."""
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = deterministic_limit
    solver.parameters.max_time_in_seconds = time_limit_s  # a safety net only, far behind the limit above
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        reason = "infeasible" if status == cp_model.INFEASIBLE else "no solution within the search limit"
        raise RepairError(f"repair: no playable level within the bounds ({reason})")
    return solver, status == cp_model.OPTIMAL


def _add_flow(
    model: cp_model.CpModel,
    edges: list[tuple[int, int, list]],
    n_cells: int,
    source: int,
    sinks: list[int],
) -> None:
    """Flow conservation over `edges` (u, v, [0/1 expressions the move needs]); one unit per sink."""
    units = len(sinks)
    out_flow: list[list] = [[] for _ in range(n_cells)]
    in_flow: list[list] = [[] for _ in range(n_cells)]
    for u, v, needs in edges:
        f = model.NewBoolVar("") if units == 1 else model.NewIntVar(0, units, "")
        for need in needs:
            model.Add(f <= units * need)
        out_flow[u].append(f)
        in_flow[v].append(f)
    demand = dict.fromkeys(range(n_cells), 0)
    demand[source] += units
    for s in sinks:
        demand[s] -= 1
    for c in range(n_cells):
        if out_flow[c] or in_flow[c] or demand[c]:
            model.Add(sum(out_flow[c]) - sum(in_flow[c]) == demand[c])


def _solve_topdown(
    sem: np.ndarray,
    source: Cell,
    sinks: list[Cell],
    room: bool,
    budget: int,
    deterministic_limit: float,
    time_limit_s: float,
) -> tuple[np.ndarray, bool, int]:
    """The repaired grid, whether it is proven minimal, and a lower bound on the edits this search makes."""
    h, w = sem.shape
    walk = WALKABLE_LUT[sem]
    changeable = ~walk
    if room:
        changeable[[0, -1], :] = False
        changeable[:, [0, -1]] = False
    labels, _ = ndimage.label(walk, structure=FOUR_NEIGHBOURS)
    parts = {int(labels[y, x]) for x, y in [source, *sinks]}
    if len(parts) < 2:
        # Every target already shares one piece and the level still fails (a 1x1 level whose start is its exit,
        # locks before their keys): opening tiles cannot fix that.
        raise RepairError(
            "repair: the level fails for a reason opening tiles cannot fix (its targets are joined)"
        )
    if len(parts) <= EXACT_JOIN_MAX_PIECES:
        # Up to four pieces, the cheapest join is found exactly by shortest paths: two pieces by a 0-1 shortest
        # path, three by a star around one meeting tile, four by two meeting tiles joined by a path. Five to
        # EXACT_JOIN_MAX_PIECES go to the general Dreyfus-Wagner table (`_steiner_join`). Both are exact and far
        # faster than the CP-SAT model below (which took seconds on some five-piece rooms); it covers the rest.
        pieces = [labels == p for p in sorted(parts)]
        join = {2: _cheapest_join, 3: _star_join, 4: _double_star_join}.get(len(parts), _steiner_join)
        cells = join(pieces, walk, changeable)
        if cells is None:
            raise RepairError("repair: no playable level within the bounds (the pieces cannot be joined)")
        if budget >= 0 and len(cells) > budget:
            raise RepairError(
                f"max_edit_fraction: needs {len(cells)} edits, more than the budget of {budget}"
            )
        out = sem.copy()
        for x, y in cells:
            out[y, x] = FLOOR
        return out, True, len(cells)

    # Each walkable piece is one node (moving inside it is free); every blocked tile that may open is a node with
    # cost 1. One unit of flow runs from the source's piece to each other piece holding a target.
    n_parts = int(labels.max())
    node = np.where(walk, labels - 1, -1)
    blocked_cells = [(int(x), int(y)) for y, x in np.argwhere(changeable)]
    for i, (x, y) in enumerate(blocked_cells):
        node[y, x] = n_parts + i
    model = cp_model.CpModel()
    opened = {cell: model.NewBoolVar("") for cell in blocked_cells}
    is_open = [1] * n_parts + [opened[c] for c in blocked_cells]
    edges = set()
    for y in range(h):
        for x in range(w):
            u = node[y, x]
            if u < 0:
                continue
            for nx, ny in ((x + 1, y), (x, y + 1)):
                if nx < w and ny < h and node[ny, nx] >= 0 and node[ny, nx] != u:
                    v = int(node[ny, nx])
                    edges.update({(int(u), v), (v, int(u))})
    flow_edges = [
        (u, v, [e for e in (is_open[u], is_open[v]) if not isinstance(e, int)]) for u, v in sorted(edges)
    ]
    src = int(labels[source[1], source[0]]) - 1
    sink_parts = sorted(parts - {src + 1})
    _add_flow(model, flow_edges, n_parts + len(blocked_cells), src, [p - 1 for p in sink_parts])
    model.Minimize(sum(opened.values()))
    if budget >= 0:
        model.Add(sum(opened.values()) <= budget)
    solver, optimal = _solve(model, deterministic_limit, time_limit_s)
    out = sem.copy()
    for (x, y), var in opened.items():
        if solver.Value(var):
            out[y, x] = FLOOR
    return out, optimal, int(np.ceil(solver.BestObjectiveBound() - 1e-6))


def _open_costs(part: np.ndarray, walk: np.ndarray, changeable: np.ndarray) -> tuple[np.ndarray, dict]:
    """0-1 BFS from a piece: for every tile, the fewest blocked tiles on a route to it (itself included)."""
    h, w = walk.shape
    cost = np.full((h, w), h * w + 1, dtype=np.int32)
    for y, x in np.argwhere(part):
        cost[y, x] = 0
    # Python lists, not array indexing, in the loop: the same search several times faster
    costs, open_, usable = cost.tolist(), walk.tolist(), (walk | changeable).tolist()
    parent: dict[Cell, Cell] = {}
    queue: deque[Cell] = deque((int(x), int(y)) for y, x in np.argwhere(part))
    while queue:
        x, y = queue.popleft()
        here = costs[y][x]
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < w and 0 <= ny < h and usable[ny][nx]:
                step = 0 if open_[ny][nx] else 1
                if here + step < costs[ny][nx]:
                    costs[ny][nx] = here + step
                    parent[(nx, ny)] = (x, y)
                    (queue.appendleft if step == 0 else queue.append)((nx, ny))
    return np.array(costs, dtype=np.int32), parent


def _star_join(parts: list[np.ndarray], walk: np.ndarray, changeable: np.ndarray) -> set[Cell] | None:
    """Blocked tiles to open so that three pieces meet at the cheapest tile (node-weighted Steiner, 3 terminals)."""
    runs = [_open_costs(p, walk, changeable) for p in parts]
    total = sum(c.astype(np.int64) for c, _ in runs) - 2 * (changeable & ~walk)
    total[~(walk | changeable)] = np.iinfo(np.int64).max
    y, x = np.unravel_index(int(np.argmin(total)), total.shape)
    if total[y, x] > walk.size:
        return None
    return {c for _, parent in runs for c in _blocked_on_route((int(x), int(y)), parent, changeable)}


def _spread(start_cost: np.ndarray, walk: np.ndarray, changeable: np.ndarray) -> tuple[np.ndarray, dict]:
    """Dijkstra from every tile at once, each starting at `start_cost`; entering a blocked tile costs 1."""
    h, w = walk.shape
    costs = start_cost.astype(np.int64).tolist()
    open_, usable = walk.tolist(), (walk | changeable).tolist()
    parent: dict[Cell, Cell] = {}
    heap = [(int(start_cost[y, x]), int(x), int(y)) for y, x in np.argwhere(start_cost < walk.size)]
    heapq.heapify(heap)
    while heap:
        c, x, y = heapq.heappop(heap)
        if c > costs[y][x]:
            continue
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < w and 0 <= ny < h and usable[ny][nx]:
                nc = c + (0 if open_[ny][nx] else 1)
                if nc < costs[ny][nx]:
                    costs[ny][nx] = nc
                    parent[(nx, ny)] = (x, y)
                    heapq.heappush(heap, (nc, nx, ny))
    return np.array(costs, dtype=np.int64), parent


def _double_star_join(parts: list[np.ndarray], walk: np.ndarray, changeable: np.ndarray) -> set[Cell] | None:
    """Four pieces: for each way to pair them, pair A+B meet at u, C+D at v, and a path joins u to v."""
    big = walk.size + 1
    runs = [_open_costs(p, walk, changeable) for p in parts]
    blocked = (changeable & ~walk).astype(np.int64)
    usable = walk | changeable
    best: tuple[int, list] | None = None
    for (a, b), (c, d) in (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))):
        meet_ab = runs[a][0].astype(np.int64) + runs[b][0] - blocked
        meet_ab[~usable] = big
        carried, carry_parent = _spread(np.minimum(meet_ab, big), walk, changeable)
        total = carried + runs[c][0] + runs[d][0] - 2 * blocked
        total[~usable] = np.iinfo(np.int64).max
        y, x = np.unravel_index(int(np.argmin(total)), total.shape)
        if total[y, x] < big and (best is None or total[y, x] < best[0]):
            v = (int(x), int(y))
            u = v
            while u in carry_parent:  # back along the path to the tile where A and B met
                u = carry_parent[u]
            path = _blocked_on_route(v, {k: p for k, p in carry_parent.items()}, changeable)
            best = (
                int(total[y, x]),
                [(u, runs[a][1]), (u, runs[b][1]), (v, runs[c][1]), (v, runs[d][1]), path],
            )
    if best is None:
        return None
    opened: set[Cell] = set(best[1][4])
    for end, parent in best[1][:4]:
        opened.update(_blocked_on_route(end, parent, changeable))
    return opened


_STEINER_SCALE = 1 << 32  # a key is cost * scale + cells entered: the second term only breaks ties
_STEINER_INF = 1 << 60


def _steiner_join(parts: list[np.ndarray], walk: np.ndarray, changeable: np.ndarray) -> set[Cell] | None:
    """The fewest blocked tiles to open so that every piece joins one, for any number of pieces: Dreyfus-Wagner
    over the grid with tile costs (0 open, 1 blocked), as whole-grid array steps.

    table[S][v] is the cheapest connected set holding tile v and touching every piece in S, its key being
    (opened tiles, tiles entered) so that every step back through the table strictly descends and the walk back
    cannot loop. One piece: a shortest-path spread from it. More: the best split of S into two at v, then a
    spread from there. The answer is the best tile of the full set's table, walked back into the tiles it opens."""
    k = len(parts)
    full = (1 << k) - 1
    enter = np.where(walk, 1, np.where(changeable, _STEINER_SCALE + 1, _STEINER_INF)).astype(np.int64)
    blocked_cost = np.where(changeable & ~walk, _STEINER_SCALE, 0).astype(np.int64)
    table = np.full((full + 1, *walk.shape), _STEINER_INF, dtype=np.int64)
    merged = np.full_like(table, _STEINER_INF)
    singles = [1 << i for i in range(k)]
    for i, part in enumerate(parts):
        table[1 << i][part] = 0
    table[singles] = _spread_keys(table[singles], enter)
    for size in range(2, k + 1):
        sets = [m for m in range(1, full + 1) if m.bit_count() == size]
        for m in sets:
            low = m & -m
            for a in _subsets_with(m, low):
                both = table[a] + table[m ^ a]  # >= INF exactly when either half cannot reach v
                merged[m] = np.minimum(
                    merged[m], np.where(both >= _STEINER_INF, _STEINER_INF, both - blocked_cost)
                )
        table[sets] = _spread_keys(merged[sets], enter)
    best = int(np.argmin(table[full]))
    y, x = divmod(best, walk.shape[1])
    if table[full, y, x] >= _STEINER_INF:
        return None
    opened: set[Cell] = set()
    todo = [(full, x, y)]
    h, w = walk.shape
    while todo:
        m, x, y = todo.pop()
        key = table[m, y, x]
        if m in singles and key == 0:  # inside its piece
            continue
        if m not in singles and key == merged[m, y, x]:  # the set splits here
            low = m & -m
            a = next(
                a
                for a in _subsets_with(m, low)
                if table[a, y, x] + table[m ^ a, y, x] - blocked_cost[y, x] == key
            )
            todo += [(a, x, y), (m ^ a, x, y)]
            continue
        if changeable[y, x] and not walk[y, x]:
            opened.add((x, y))
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < w and 0 <= ny < h and table[m, ny, nx] + enter[y, x] == key:
                todo.append((m, nx, ny))
                break
        else:  # pragma: no cover - the table is consistent by construction
            raise AssertionError("repair: the Steiner table has a tile with no way back")
    return opened


def _subsets_with(m: int, low: int) -> Iterator[int]:
    """The proper, non-empty subsets of bit set `m` that hold bit `low` (each split of `m` in two, once)."""
    rest = m ^ low
    sub = rest
    while True:
        if low | sub != m:
            yield low | sub
        if sub == 0:
            return
        sub = (sub - 1) & rest


def _spread_keys(keys: np.ndarray, enter: np.ndarray) -> np.ndarray:
    """Shortest-path spread of a stack (L, H, W) of start keys over the grid, where entering tile v adds
    enter[v]: repeated 4-neighbour relaxation until nothing improves (Bellman-Ford, one array step per round)."""
    keys = keys.copy()
    while True:
        best = keys.copy()
        np.minimum(best[:, 1:], keys[:, :-1] + enter[1:], out=best[:, 1:])
        np.minimum(best[:, :-1], keys[:, 1:] + enter[:-1], out=best[:, :-1])
        np.minimum(best[:, :, 1:], keys[:, :, :-1] + enter[:, 1:], out=best[:, :, 1:])
        np.minimum(best[:, :, :-1], keys[:, :, 1:] + enter[:, :-1], out=best[:, :, :-1])
        np.minimum(best, _STEINER_INF, out=best)
        if np.array_equal(best, keys):
            return keys
        keys = best


def _cheapest_join(parts: list[np.ndarray], walk: np.ndarray, changeable: np.ndarray) -> list[Cell] | None:
    """Blocked tiles to open on the cheapest route between two pieces (0-1 BFS), or None."""
    part_a, part_b = parts
    cost, parent = _open_costs(part_a, walk, changeable)
    reach_b = np.where(part_b, cost, np.iinfo(np.int32).max)
    y, x = np.unravel_index(int(np.argmin(reach_b)), reach_b.shape)
    if reach_b[y, x] > walk.size:
        return None
    return _blocked_on_route((int(x), int(y)), parent, changeable)


def _blocked_on_route(end: Cell, parent: dict[Cell, Cell], changeable: np.ndarray) -> list[Cell]:
    """Walk a 0-1 BFS route back from `end`, keeping the blocked tiles it crosses."""
    opened = []
    cell: Cell | None = end
    while cell is not None:
        if changeable[cell[1], cell[0]]:
            opened.append(cell)
        cell = parent.get(cell)
    return opened


def _staircase(sem: np.ndarray, source: Cell, sink: Cell, jump: JumpModel) -> np.ndarray | None:
    """A quick playable (not minimal) repair: ground and headroom column by column from the start to the exit,
    climbing at most a jump's height per column. A fallback when the exact search stops at its label limit."""
    out = sem.copy()
    h = out.shape[0]
    (xs, ys), (xe, ye) = source, sink
    if xs == xe:
        return None
    keep = {source, sink}

    def air(x: int, y: int) -> None:
        if 0 <= y < h and (x, y) not in keep and not PLATFORMER_PASSABLE_LUT[out[y, x]]:
            out[y, x] = FLOOR

    def ground(x: int, y: int) -> None:
        if 0 <= y < h and (x, y) not in keep and not PLATFORMER_SUPPORT_LUT[out[y, x]]:
            out[y, x] = SOLID

    y, target = min(ys, h - 2), min(ye, h - 2)
    ground(xs, y + 1)
    step = 1 if xe > xs else -1
    columns = list(range(xs, xe + step, step))
    for i, (x, nx) in enumerate(itertools.pairwise(columns)):
        remaining = len(columns) - 1 - i
        dy = target - y
        if dy < 0:
            k = min(jump.max_jump_height, -(dy // remaining))
            for r in range(1, k + 1):
                air(x, y - r)
            air(nx, y - k)
            y -= k
        else:
            air(nx, y)
            k = -(-dy // remaining) if dy else 0
            for r in range(1, k + 1):
                air(nx, y + r)
            y += k
        ground(nx, y + 1)
    return out if is_playable(out, Genre("platformer", jump)) else None


def _solve_platformer(
    sem: np.ndarray, source: Cell, sink: Cell, jump: JumpModel, budget: int, max_labels: int
) -> tuple[np.ndarray, bool, int]:
    """The repaired grid, whether it is proven minimal, and the lower bound the exact search proved."""
    genre = Genre("platformer", jump)
    search = _EditSearch(sem, source, sink, jump, budget)
    lower: int | None = None
    for cost, edits in search.goals(max_labels):
        # Goals come in order of edit count, and the first is the relaxation's minimum: a lower bound. The
        # relaxation lets a move rely on a tile that a later move edits, so the solver has the last word.
        lower = cost if lower is None else lower
        tiles = search.apply(edits)
        if is_playable(tiles, genre):
            return tiles, cost == lower, lower
    if lower is None and search.bound is None:
        if search.over_budget:
            raise RepairError(f"max_edit_fraction: needs more than the budget of {budget} edits")
        raise RepairError("repair: infeasible (no edits repair may make join the start to the exit)")
    # The search stopped at its label limit. Everything cheaper than its open frontier was searched, so that is
    # still a lower bound; the level comes from a greedy search and the staircase, whichever edits less.
    lower = lower if lower is not None else search.bound
    assert lower is not None
    candidates = []
    for _, edits in _EditSearch(sem, source, sink, jump, budget, greedy=True).goals(max_labels):
        tiles = search.apply(edits)
        if is_playable(tiles, genre):
            candidates.append(tiles)
            break
    quick = _staircase(sem, source, sink, jump)
    if quick is not None and (budget < 0 or int((quick != sem).sum()) <= budget):
        candidates.append(quick)
    if not candidates:
        raise RepairError(f"repair: no playable level found within {max_labels} search labels")
    best = min(candidates, key=lambda t: int((t != sem).sum()))
    return best, int((best != sem).sum()) == lower, lower


class _EditSearch:
    """Best-first search over labels (body cell, edit set) for the fewest edits that let a body reach the sink.

    An edit is a bit of a Python int: bit 2i turns cell i into sky (FLOOR), bit 2i+1 into ground (SOLID). Each
    move of the jump model (the solver's own: fall, walk, jump arcs, ladders) is precomputed per cell as
    (destination, need, forbid): the edits it needs, and the edits that would break it. A label may take a move
    when its edits hold nothing the move forbids; its edits become the union with what the move needs.

    The problem it solves exactly is a relaxation of repair: a move's `forbid` is checked against the edits made
    so far, not against edits a later move adds. Its minimum is therefore a lower bound on the true one, and
    equal to it whenever the solver accepts the edited level."""

    def __init__(
        self, sem: np.ndarray, source: Cell, sink: Cell, jump: JumpModel, budget: int, greedy: bool = False
    ) -> None:
        self.sem, self.jump, self.budget, self.greedy = sem, jump, budget, greedy
        h, w = self.h, self.w = sem.shape
        passable, support = PLATFORMER_PASSABLE_LUT[sem], PLATFORMER_SUPPORT_LUT[sem]
        ladder = sem == LADDER
        fixed = np.zeros((h, w), dtype=bool)
        for x, y in (source, sink):
            fixed[y, x] = True
        holds_ladder = np.zeros((h, w), dtype=bool)
        holds_ladder[1:] = ladder[:-1] & ~ladder[1:]  # never pull the ground from under a ladder
        can_air = (sem != FLOOR) & ~holds_ladder & ~fixed
        can_solid = (sem != SOLID) & ~fixed
        self.source, self.sink = source[1] * w + source[0], sink[1] * w + sink[0]
        pv, sv, lv = passable.ravel().tolist(), support.ravel().tolist(), ladder.ravel().tolist()
        ca, cs = can_air.ravel().tolist(), can_solid.ravel().tolist()
        self.ladder = lv

        def rule(i: int, orig_ok: bool, sky_ok: bool, ground_ok: bool) -> tuple[int, int] | None:
            """(need, forbid) for cell i to be in a state the move accepts, or None when no state is."""
            sky, ground = 1 << (2 * i), 1 << (2 * i + 1)
            if orig_ok:
                return 0, (0 if sky_ok else sky) | (0 if ground_ok else ground)
            if sky_ok and ca[i]:
                return sky, ground
            if ground_ok and cs[i]:
                return ground, sky
            return None

        n = h * w
        self.open = [rule(i, pv[i], True, False) for i in range(n)]  # a body may be here
        self.air = [rule(i, pv[i] and not sv[i], True, False) for i in range(n)]  # a body falls into it
        self.floor = [rule(i, sv[i], False, True) for i in range(n)]  # it holds a body up
        self.on_ladder = [(0, 3 << (2 * i)) if lv[i] else None for i in range(n)]  # still a ladder
        self.off_ladder = [rule(i, pv[i] and not lv[i], True, False) for i in range(n)]  # open, no ladder
        self._moves: dict[int, list[tuple[int, int, int]]] = {}
        self.heuristic = _charge_distances(sem, self.sink, jump, can_air, can_solid).tolist()
        xs, ys = sink
        self.distance = [
            abs(i % w - xs) + abs(i // w - ys) for i in range(n)
        ]  # tie-break only: toward the exit
        self.expanded = 0
        self.over_budget = False
        """a label was dropped for needing more edits than the budget"""
        self.bound: int | None = None
        """when the label limit stopped the search: the lowest estimate left open (a lower bound)"""

    def moves(self, u: int) -> list[tuple[int, int, int]]:
        """(destination, need, forbid) for every move out of cell u, built on first use."""
        got = self._moves.get(u)
        if got is not None:
            return got
        w, h, jump = self.w, self.h, self.jump
        y, x = divmod(u, w)
        out: list[tuple[int, int, int]] = []
        self._moves[u] = out
        here = self.open[u]
        if here is None:
            return out

        def add(v: int, *rules: tuple[int, int] | None) -> None:
            need = forbid = 0
            for r in rules:
                if r is None:
                    return
                need, forbid = need | r[0], forbid | r[1]
            if not need & forbid:
                out.append((v, need, forbid))

        if y + 1 < h:  # fall: nothing below holds the body, and it is not on a ladder
            add(u + w, self.off_ladder[u], self.air[u + w])
        holds = [self.on_ladder[u]] if self.ladder[u] else []
        if y + 1 < h:
            holds.append(self.floor[u + w])
        for hold in holds:  # everything a body standing (on ground or a ladder) may do
            if hold is None:
                continue
            base = (here[0] | hold[0], here[1] | hold[1])
            for dx in (-1, 1):
                if 0 <= x + dx < w:
                    add(u + dx, base, self.open[u + dx])
            column = base
            for rise in range(1, jump.max_jump_height + 1):
                if y - rise < 0 or (top := self.open[u - rise * w]) is None:
                    break
                column = (column[0] | top[0], column[1] | top[1])
                add(u - rise * w, column)
                for dx in (-1, 1):
                    arc = column
                    for glide in range(1, jump.max_jump_width + 1):
                        cell = u - rise * w + dx * glide
                        if not 0 <= x + dx * glide < w or (step := self.open[cell]) is None:
                            break
                        arc = (arc[0] | step[0], arc[1] | step[1])
                        add(cell, arc)
        if y + 1 < h and self.ladder[u + w]:  # climb down onto a ladder
            add(u + w, here, self.on_ladder[u + w])
        if self.ladder[u]:  # climb up or down the ladder it is on
            if y > 0:
                add(u - w, here, self.on_ladder[u], self.open[u - w])
            if y + 1 < h:
                add(u + w, here, self.on_ladder[u], self.open[u + w])
        return out

    def goals(self, max_labels: int) -> Iterator[tuple[int, int]]:
        """(edit count, edits) of labels reaching the sink, fewest edits first (greedy: nearest first)."""
        n = self.h * self.w
        labels: list[set[int]] = [set() for _ in range(n)]
        labels[self.source].add(0)
        heap = [(0, 0, 0, 0, 0, self.source)]
        tie = 1
        while heap:
            f, _, neg_g, _, edits, u = heapq.heappop(heap)
            here = labels[u]
            if edits not in here or _holds_subset(edits, here, strict=True):
                continue  # a cheaper label reached this cell after this one was queued
            if u == self.sink:
                yield -neg_g, edits
                continue
            self.expanded += 1
            if self.expanded > max_labels:
                self.bound = f if not self.greedy else None
                return
            for v, need, forbid in self.moves(u):
                if edits & forbid:
                    continue
                after = edits | need
                there = labels[v]
                # Only the cheap checks here: most labels pushed are never popped, and the full subset check
                # runs when one is (above).
                if after in there or 0 in there:
                    continue
                estimate = self.heuristic[v]
                g = after.bit_count()
                if estimate >= _INF:
                    continue
                if self.budget >= 0 and max(g, estimate) > self.budget:
                    self.over_budget = True
                    continue
                there.add(after)
                # f = max(g, estimate) is admissible: the edits so far all count, and the rest of the route
                # needs at least `estimate` on its own. Ties go to the label nearer the exit.
                key = self.distance[v] + estimate
                f = 4 * g + key if self.greedy else max(g, estimate)
                heapq.heappush(heap, (f, key, -g, tie, after, v))
                tie += 1

    def apply(self, edits: int) -> np.ndarray:
        out = self.sem.copy().ravel()
        while edits:
            bit = edits & -edits
            i = bit.bit_length() - 1
            out[i // 2] = FLOOR if i % 2 == 0 else SOLID
            edits ^= bit
        return out.reshape(self.sem.shape)


def _holds_subset(edits: int, labels: set[int], strict: bool) -> bool:
    """Does `labels` hold a subset of `edits` (a proper one when `strict`)? Exact for few labels or few edits;
    past that only the subsets one edit smaller are looked up, so a dominated label may survive (it costs time,
    never a wrong answer) and the check stays O(edits) where a full one would cost 2^edits."""
    if edits in labels:
        if not strict:
            return True
        if len(labels) == 1:
            return False
    if 0 in labels:
        return edits != 0
    k = edits.bit_count()
    if k > 3 and len(labels) <= 16:
        return any(other & edits == other and other != edits for other in labels)
    bits = []
    rest = edits
    while rest:
        bit = rest & -rest
        bits.append(bit)
        rest ^= bit
    if k <= 5:
        return any(sum(c) in labels for r in range(1, k) for c in itertools.combinations(bits, r))
    return any(edits ^ bit in labels for bit in bits)


def _charge_distances(
    sem: np.ndarray, sink: int, jump: JumpModel, can_air: np.ndarray, can_solid: np.ndarray
) -> np.ndarray:
    """For every cell, a lower bound on the edits a route from it to the sink needs (the A* heuristic).

    Each move is charged only for the cell it lands on (open, or falling-through air) and for the tile under its
    take-off (ground, unless on a ladder). On a route that visits no cell twice those are all different tiles,
    or tiles asked to be both open and ground, which no route can use; so the charge never exceeds the edits.
    The cells a jump passes through are left out: two moves may share them. Bellman-Ford over the move
    templates, vectorised with numpy."""
    h, w = sem.shape
    passable, support = PLATFORMER_PASSABLE_LUT[sem], PLATFORMER_SUPPORT_LUT[sem]
    ladder = sem == LADDER
    open_cost = np.where(passable, 0, np.where(can_air, 1, _INF))
    floor_cost = np.where(support, 0, np.where(can_solid, 1, _INF))
    air_cost = np.where(passable & ~support, 0, np.where(can_air, 1, _INF))
    take_off = np.full((h, w), _INF)
    take_off[:-1] = floor_cost[1:]
    take_off[ladder] = 0
    can_open = open_cost < _INF

    def shift(a: np.ndarray, dx: int, dy: int, fill: int | bool) -> np.ndarray:
        """out[y, x] = a[y + dy, x + dx], `fill` off the grid."""
        out = np.full_like(a, fill)
        out[max(0, -dy) : min(h, h - dy), max(0, -dx) : min(w, w - dx)] = a[
            max(0, dy) : min(h, h + dy), max(0, dx) : min(w, w + dx)
        ]
        return out

    sources, targets, charges = [], [], []

    def add(valid: np.ndarray, dx: int, dy: int, charge: np.ndarray) -> None:
        idx = np.flatnonzero(valid & (charge < _INF))
        sources.append(idx)
        targets.append(idx + dy * w + dx)
        charges.append(charge.ravel()[idx])

    leave_ladder = np.where(ladder, np.where(can_air, 1, _INF), 0)
    add(can_open, 0, 1, shift(air_cost, 0, 1, _INF) + leave_ladder)  # fall
    for dx in (-1, 1):
        add(can_open, dx, 0, take_off + shift(open_cost, dx, 0, _INF))  # walk
    column = can_open
    for rise in range(1, jump.max_jump_height + 1):
        column = column & shift(can_open, 0, -rise, False)
        add(column, 0, -rise, take_off + shift(open_cost, 0, -rise, _INF))
        for dx in (-1, 1):
            arc = column
            for glide in range(1, jump.max_jump_width + 1):
                arc = arc & shift(can_open, dx * glide, -rise, False)
                add(arc, dx * glide, -rise, take_off + shift(open_cost, dx * glide, -rise, _INF))
    add(can_open & shift(ladder, 0, 1, False), 0, 1, np.zeros((h, w), dtype=np.int64))  # onto a ladder below
    add(can_open & ladder, 0, -1, shift(open_cost, 0, -1, _INF))  # climb up
    add(can_open & ladder, 0, 1, shift(open_cost, 0, 1, _INF))  # climb down
    src, dst, charge = np.concatenate(sources), np.concatenate(targets), np.concatenate(charges)
    order = np.argsort(src, kind="stable")
    src, dst, charge = src[order], dst[order], charge[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    heads = src[starts]
    dist = np.full(h * w, _INF, dtype=np.int64)
    dist[sink] = 0
    for _ in range(h * w):
        best = np.minimum.reduceat(charge + dist[dst], starts)
        new = dist.copy()
        new[heads] = np.minimum(dist[heads], best)
        new[sink] = 0
        if np.array_equal(new, dist):
            break
        dist = new
    return np.minimum(dist, _INF)
