"""The platformer repair this bench measures against: the CP-SAT flow model that shipped before issue 17
(procgen/levels/repair.py at commit 68b7041), under the generator's 0.5 s wall-clock limit.

Kept here only as the benchmark's baseline, byte for byte the old model: one Boolean per edit, one flow
variable per move, a move allowed only while the tiles it needs are in the right state, and the quick staircase
as a hint and as the fallback when the clock runs out. Its answer depends on how fast the machine is that day.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from procgen.levels.genre import Genre
from procgen.levels.repair import (
    FLOOR,
    SOLID,
    RepairError,
    _add_flow,
    _ensure_endpoints,
    _staircase,
)
from procgen.levels.solver import LADDER, PLATFORMER_PASSABLE_LUT, PLATFORMER_SUPPORT_LUT, is_playable

Cell = tuple[int, int]
TIME_LIMIT_S = 0.5
"""what LevelGenerator.repair_codes passed to repair() before issue 17"""


def repair_cpsat(
    sem: np.ndarray, genre: Genre, time_limit_s: float = TIME_LIMIT_S
) -> tuple[np.ndarray, int, bool]:
    """(tiles, edits, optimal) as the old `repair(sem, genre, time_limit_s=0.5)` returned them."""
    sem = np.array(sem, dtype=np.uint8, copy=True)
    original = sem.copy()
    source, sink = _ensure_endpoints(sem, genre)
    optimal = True
    if not is_playable(sem, genre):
        sem, optimal = _solve_platformer(sem, source, sink, genre, -1, time_limit_s)
    return sem, int((sem != original).sum()), optimal


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
