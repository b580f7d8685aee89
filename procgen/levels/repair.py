"""Minimum-edit repair with OR-Tools CP-SAT: the fewest tile changes that make a level playable.

Two to four pieces to join are solved exactly by shortest paths (Dreyfus-Wagner for k <= 4); five or more go
to the CP-SAT model. The model is a flow. One unit of flow leaves the source (the start, or a room's first
door) for each target (the exit, or a room's other doors and pickups) and may cross a move u → v only while
the tiles that move needs are open after repair. The objective counts changed tiles, so the solver finds the cheapest set of tiles to open.
The moves are the solver's own (4-neighbour steps top-down; walk, fall, climb and jump arcs in a platformer), and
every repaired level is re-checked by `procgen.levels.solver` before it is returned.

Top-down repair opens tiles (a blocked tile becomes floor); a whole level first gets exactly one start and one
exit, and its locked doors count as blocked, so the path it guarantees needs no key. Platformer repair may turn
any tile into sky or into ground. Room borders stay as they are: the frame and its doors are the conditions.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
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
DEFAULT_TIME_LIMIT_S = 2.0


class RepairError(LudoforgeError, ValueError):
    """No playable level exists within the repair's bounds (edit budget, time limit, size)."""


@dataclass(frozen=True)
class RepairResult:
    tiles: np.ndarray
    """the repaired semantic grid"""
    edits: int
    seconds: float
    optimal: bool = True
    """False when the time limit ran out first: the edit count is then an upper bound"""

    @property
    def edit_fraction(self) -> float:
        return self.edits / self.tiles.size


def repair(
    sem: np.ndarray,
    genre: Genre = TOPDOWN,
    room: bool = False,
    max_edit_fraction: float = 1.0,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> RepairResult:
    """A playable copy of `sem` with the fewest tile changes; RepairError when none is found within the bounds."""
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
        for door in border_doors(
            sem
        ):  # the tile inside each door must be open: a forced edit, before the search
            x, y = inside_of(door, sem.shape)
            if not WALKABLE_LUT[sem[y, x]]:
                sem[y, x] = FLOOR
        targets = room_targets(sem)
        source, sinks = targets[0], targets[1:]
    else:
        source, sink = _ensure_endpoints(sem, genre)
        sinks = [sink]
    if is_playable(sem, genre, room):
        return _result(sem, original, t0, max_edit_fraction)
    budget = int(np.floor(max_edit_fraction * h * w)) - int((sem != original).sum())
    if genre.name == "platformer":
        assert genre.jump is not None
        sem, optimal = _solve_platformer(sem, source, sinks[0], genre, budget, time_limit_s)
    else:
        sem, optimal = _solve_topdown(sem, source, sinks, room, budget, time_limit_s), True
    if not is_playable(
        sem, genre, room
    ):  # the flow model and the solver disagree: a bug, never a silent pass
        raise AssertionError("repair produced a level the solver rejects")
    return _result(sem, original, t0, max_edit_fraction, optimal)


def _result(
    sem: np.ndarray, original: np.ndarray, t0: float, max_edit_fraction: float, optimal: bool = True
) -> RepairResult:
    edits = int((sem != original).sum())
    if edits > max_edit_fraction * sem.size:
        raise RepairError(
            f"max_edit_fraction: needs {edits} edits, more than {max_edit_fraction:.0%} of the tiles"
        )
    return RepairResult(sem, edits, time.perf_counter() - t0, optimal)


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
    model: cp_model.CpModel, time_limit_s: float, fallback_ok: bool = False
) -> cp_model.CpSolver | None:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1  # one worker: the same level always gets the same repair
    solver.parameters.random_seed = 0
    status = solver.Solve(model)
    solver.optimal = status == cp_model.OPTIMAL  # type: ignore[attr-defined]
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if fallback_ok and status != cp_model.INFEASIBLE:
            return None
        reason = "infeasible" if status == cp_model.INFEASIBLE else f"no solution within {time_limit_s:g} s"
        raise RepairError(f"repair: no playable level within the bounds ({reason})")
    return solver


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
    sem: np.ndarray, source: Cell, sinks: list[Cell], room: bool, budget: int, time_limit_s: float
) -> np.ndarray:
    h, w = sem.shape
    walk = WALKABLE_LUT[sem]
    changeable = ~walk
    if room:
        changeable[[0, -1], :] = False
        changeable[:, [0, -1]] = False
    labels, _ = ndimage.label(walk, structure=FOUR_NEIGHBOURS)
    parts = {int(labels[y, x]) for x, y in [source, *sinks]}
    if len(parts) <= 4:
        # Up to four pieces, the cheapest join is found exactly by shortest paths (Dreyfus-Wagner for k <= 4): two
        # pieces by a 0-1 shortest path, three by a star around one meeting tile, four by two meeting tiles joined
        # by a path. ~100x faster than the CP-SAT model below, which covers five pieces and more.
        pieces = [labels == p for p in sorted(parts)]
        join = {2: _cheapest_join, 3: _star_join, 4: _double_star_join}[len(parts)]
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
        return out

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
    solver = _solve(model, time_limit_s)
    out = sem.copy()
    for (x, y), var in opened.items():
        if solver.Value(var):
            out[y, x] = FLOOR
    return out


def _open_costs(part: np.ndarray, walk: np.ndarray, changeable: np.ndarray) -> tuple[np.ndarray, dict]:
    """0-1 BFS from a piece: for every tile, the fewest blocked tiles on a route to it (itself included)."""
    h, w = walk.shape
    cost = np.full((h, w), h * w + 1, dtype=np.int32)
    parent: dict[Cell, Cell] = {}
    queue: deque[Cell] = deque()
    for y, x in np.argwhere(part):
        cost[y, x] = 0
        queue.append((int(x), int(y)))
    while queue:
        x, y = queue.popleft()
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < w and 0 <= ny < h and (walk[ny, nx] or changeable[ny, nx]):
                step = 0 if walk[ny, nx] else 1
                if cost[y, x] + step < cost[ny, nx]:
                    cost[ny, nx] = cost[y, x] + step
                    parent[(nx, ny)] = (x, y)
                    (queue.appendleft if step == 0 else queue.append)((nx, ny))
    return cost, parent


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
    cost = start_cost.astype(np.int64).copy()
    parent: dict[Cell, Cell] = {}
    heap = [(int(cost[y, x]), int(x), int(y)) for y, x in np.argwhere(cost < walk.size)]
    heapq.heapify(heap)
    while heap:
        c, x, y = heapq.heappop(heap)
        if c > cost[y, x]:
            continue
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < w and 0 <= ny < h and (walk[ny, nx] or changeable[ny, nx]):
                nc = c + (0 if walk[ny, nx] else 1)
                if nc < cost[ny, nx]:
                    cost[ny, nx] = nc
                    parent[(nx, ny)] = (x, y)
                    heapq.heappush(heap, (nc, nx, ny))
    return cost, parent


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
    climbing at most a jump's height per column. CP-SAT starts from it, and falls back on it at the time limit."""
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
    sem: np.ndarray, source: Cell, sink: Cell, genre: Genre, budget: int, time_limit_s: float
) -> tuple[np.ndarray, bool]:
    assert genre.jump is not None
    jump = genre.jump
    quick = _staircase(sem, source, sink, jump)
    h, w = sem.shape
    passable0 = PLATFORMER_PASSABLE_LUT[sem]
    support0 = PLATFORMER_SUPPORT_LUT[sem]
    ladder0 = sem == LADDER
    fixed = {source, sink}
    model = cp_model.CpModel()
    to_air: dict[Cell, cp_model.IntVar] = {}
    to_solid: dict[Cell, cp_model.IntVar] = {}
    for y in range(h):
        for x in range(w):
            if (x, y) in fixed:
                continue
            holds_ladder = y > 0 and ladder0[y - 1, x] and not ladder0[y, x]
            if sem[y, x] != FLOOR and not holds_ladder:  # never pull the ground from under a ladder
                to_air[(x, y)] = model.NewBoolVar("")
            if sem[y, x] != SOLID:
                to_solid[(x, y)] = model.NewBoolVar("")
            if (x, y) in to_air and (x, y) in to_solid:
                model.Add(to_air[(x, y)] + to_solid[(x, y)] <= 1)

    def passable(x: int, y: int):
        if not (0 <= x < w and 0 <= y < h):
            return 0
        if passable0[y, x]:
            return 1 - to_solid[(x, y)] if (x, y) in to_solid else 1
        return to_air.get((x, y), 0)

    def support(x: int, y: int):
        if not (0 <= x < w and 0 <= y < h):
            return 0
        changed = [v for v in (to_air.get((x, y)), to_solid.get((x, y))) if v is not None]
        if support0[y, x]:
            return 1 - sum(changed) if changed else 1
        return to_solid.get((x, y), 0)

    def ladder(x: int, y: int):
        if not (0 <= x < w and 0 <= y < h) or not ladder0[y, x]:
            return 0
        changed = [v for v in (to_air.get((x, y)), to_solid.get((x, y))) if v is not None]
        return 1 - sum(changed) if changed else 1

    edges: list[tuple[int, int, list]] = []

    def add(u: Cell, v: Cell, needs: list) -> None:
        if any(isinstance(n, int) and n == 0 for n in needs):
            return
        edges.append((u[1] * w + u[0], v[1] * w + v[0], [n for n in needs if not isinstance(n, int)]))

    for y in range(h):
        for x in range(w):
            if isinstance(passable(x, y), int) and passable(x, y) == 0:
                continue
            here = passable(x, y)
            grounded = model.NewBoolVar("")
            below_support, on_ladder = support(x, y + 1), ladder(x, y)
            model.Add(grounded <= below_support + on_ladder)
            # fall: nothing holds the body up
            add((x, y), (x, y + 1), [here, passable(x, y + 1), 1 - below_support, 1 - on_ladder])
            for dx in (-1, 1):  # walk
                add((x, y), (x + dx, y), [here, grounded, passable(x + dx, y)])
            add((x, y), (x, y - 1), [here, on_ladder, passable(x, y - 1)])  # climb up
            add((x, y), (x, y + 1), [here, grounded, ladder(x, y + 1)])  # climb down onto a ladder
            add((x, y), (x, y + 1), [here, on_ladder, passable(x, y + 1)])  # climb down a ladder
            column: list = [here, grounded]
            for rise in range(1, jump.max_jump_height + 1):
                column = [*column, passable(x, y - rise)]
                add((x, y), (x, y - rise), column)
                for dx in (-1, 1):
                    arc = list(column)
                    for glide in range(1, jump.max_jump_width + 1):
                        arc = [*arc, passable(x + dx * glide, y - rise)]
                        add((x, y), (x + dx * glide, y - rise), arc)
    _add_flow(model, edges, h * w, source[1] * w + source[0], [sink[1] * w + sink[0]])
    changes = [*to_air.values(), *to_solid.values()]
    model.Minimize(sum(changes))
    if budget >= 0:
        model.Add(sum(changes) <= budget)
    if quick is not None:
        for (x, y), var in to_air.items():
            model.AddHint(var, int(quick[y, x] == FLOOR))
        for (x, y), var in to_solid.items():
            model.AddHint(var, int(quick[y, x] == SOLID))
    solver = _solve(model, time_limit_s, fallback_ok=quick is not None)
    if solver is None:
        assert quick is not None
        return quick, False
    out = sem.copy()
    for (x, y), var in to_air.items():
        if solver.Value(var):
            out[y, x] = FLOOR
    for (x, y), var in to_solid.items():
        if solver.Value(var):
            out[y, x] = SOLID
    optimal = bool(solver.optimal)  # type: ignore[attr-defined]
    if quick is not None and (quick != sem).sum() < (out != sem).sum():
        return quick, False
    return out, optimal
