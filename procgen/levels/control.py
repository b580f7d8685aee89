"""Control: CMA-ES in the generator's latent space toward targets for path length, enemies, hazard, openness,
and its baseline at an equal budget (the best of as many random latents).

The density condition already asks the generator for enemies, hazard and openness; the search then moves the
latent vector until the finished, repaired level measures what was asked, and adds the one target the
conditions cannot express: the length of the path through the level.

    from procgen.levels.control import search
    result = search(LevelGenerator.pretrained("dungeon"), {"path_length": 24, "enemies": 2}, seed=3)
    result.level, result.measures, result.hit
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cma
import numpy as np
import torch

from engine.level import Level, Semantic
from engine.sim.grid import WALKABLE_LUT
from procgen.levels.generator import LevelGenerator
from procgen.levels.repair import repair
from procgen.levels.solver import solve
from procgen.levels.structure import finish

TARGETS = ("path_length", "enemies", "hazard", "openness")
SCALE = {"path_length": 4.0, "enemies": 1.0, "hazard": 0.04, "openness": 0.06}
"""how far off counts as one unit of error in the search objective"""
TOLERANCE = {"path_length": 2.0, "enemies": 0.0, "hazard": 0.02, "openness": 0.05}
"""a target is hit when the measure is within this of it"""
MAX_EVALUATIONS = 5000
MAX_TARGET = 10_000.0
"""a measure of a room is a count or a fraction of its cells: no target beyond this can be met"""
METHODS = ("cma-es", "random")
"""CMA-ES in the latent space, and its equal-budget baseline: the best of as many random latents"""
UNPLAYABLE_PENALTY = 4.0


def measure(sem: np.ndarray, generator: LevelGenerator) -> dict[str, float]:
    """The four controllable measures of one level (path length from the solver, -1 when unplayable)."""
    room = generator.genre.name == "topdown"
    solution = solve(sem, generator.genre, room=room, critical=False)
    return {
        "path_length": float(solution.length) if solution.playable else -1.0,
        "enemies": float((sem == Semantic.ENEMY.code).sum()),
        "hazard": float((sem == Semantic.HAZARD.code).mean()),
        "openness": float(WALKABLE_LUT[sem].mean()),
    }


def _error(measures: Mapping[str, float], targets: Mapping[str, float]) -> float:
    err = sum(((measures[k] - v) / SCALE[k]) ** 2 for k, v in targets.items())
    return float(err + (UNPLAYABLE_PENALTY if measures["path_length"] < 0 else 0.0))


def hits(measures: Mapping[str, float], targets: Mapping[str, float]) -> bool:
    return all(abs(measures[k] - v) <= TOLERANCE[k] + 1e-9 for k, v in targets.items())


@dataclass(frozen=True)
class SearchResult:
    level: Level
    measures: dict[str, float]
    targets: dict[str, float]
    evaluations: int

    @property
    def hit(self) -> bool:
        return hits(self.measures, self.targets)

    @property
    def errors(self) -> dict[str, float]:
        return {k: abs(self.measures[k] - v) for k, v in self.targets.items()}


def _conditions(generator: LevelGenerator, targets: Mapping[str, float], conditions: Mapping | None) -> dict:
    """Put the targets the density condition can express into it (DENSITY_NAMES: openness, hazard, enemies)."""
    out = dict(conditions or {})
    density = dict(out.get("density") or {})
    for key in ("openness", "hazard", "enemies"):
        if key in targets and key not in density:
            density[key] = targets[key]
    if density:
        out["density"] = density
    return out


def _evaluate(generator, zs, density, doors, targets) -> list[float]:
    """One evaluation per latent: a generator forward, the genre's finishing step and `measure`."""
    n = len(zs)
    raw = generator.raw(
        torch.from_numpy(np.asarray(zs, np.float32)), np.repeat(density, n, 0), np.repeat(doors, n, 0)
    )
    sems = finish(raw, np.repeat(doors, n, 0), generator.genre.name)
    return [_error(measure(s, generator), targets) for s in sems]


def _anytime_search(
    generator: LevelGenerator,
    targets: Mapping[str, float],
    seed: int,
    density: np.ndarray,
    doors: np.ndarray,
    budgets: Sequence[int],
    method: str,
    population: int,
) -> list[tuple[np.ndarray, int]]:
    """(best latent, evaluations used) after each budget in `budgets`, from one run of `max(budgets)`.

    Both methods spend their first evaluation on the seed's own latent (what conditioning alone gives), so a
    budget of 1 is conditioning alone for either; every further generator forward + `measure` counts one. A run
    stops early when it hits the objective's zero. A CMA-ES generation that would overrun the budget is
    evaluated only as far as the budget allows (and not told), so every budget is spent exactly.
    """
    budgets = sorted(budgets)
    z0 = generator.latents(1, seed).numpy()[0]
    best_z, best_err, used = z0, _evaluate(generator, z0[None], density, doors, targets)[0], 1
    out: list[tuple[np.ndarray, int]] = []

    def record(zs: np.ndarray, errs: Sequence[float]) -> None:
        nonlocal best_z, best_err, used
        for z, err in zip(zs, errs, strict=True):
            used += 1
            if err < best_err:
                best_z, best_err = z, err
            while len(out) < len(budgets) and used >= budgets[len(out)]:
                out.append((best_z, used))

    while len(out) < len(budgets) and used >= budgets[len(out)]:
        out.append((best_z, used))
    if method == "random":
        stream = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, 1]).generate_state(1)[0]))
        while len(out) < len(budgets) and best_err > 0.0:
            zs = torch.randn(population, len(z0), generator=stream).numpy()[: budgets[-1] - used]
            record(zs, _evaluate(generator, zs, density, doors, targets))
    else:
        options = {"seed": seed + 1, "popsize": population, "verbose": -9, "tolfun": 1e-9, "maxiter": 10**6}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            es = cma.CMAEvolutionStrategy(z0.astype(np.float64), 0.7, options)
            while len(out) < len(budgets) and best_err > 0.0 and not es.stop():
                zs = np.asarray(es.ask(), dtype=np.float32)
                zs = zs[: budgets[-1] - used]
                errs = _evaluate(generator, zs, density, doors, targets)
                if len(zs) == population:
                    es.tell(list(zs.astype(np.float64)), errs)
                record(zs, errs)
    while len(out) < len(budgets):  # stopped early: the best so far stands for every larger budget
        out.append((best_z, used))
    return out


def search_budgets(
    generator: LevelGenerator,
    targets: Mapping[str, float],
    budgets: Sequence[int],
    seed: int = 0,
    conditions: Mapping | None = None,
    method: str = "cma-es",
    population: int = 12,
) -> list[SearchResult]:
    """`search` at each of `budgets` evaluations, from one run (the best so far at each budget), each result
    finished, repaired and measured like `search`'s."""
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise ValueError(f"targets: unknown {sorted(unknown)}; expected some of {TARGETS}")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if not budgets or not all(1 <= b <= MAX_EVALUATIONS for b in budgets):
        raise ValueError(f"max_evaluations: expected 1..{MAX_EVALUATIONS}, got {list(budgets)}")
    targets = {k: float(v) for k, v in targets.items()}
    bad = sorted(k for k, v in targets.items() if not (math.isfinite(v) and abs(v) <= MAX_TARGET))
    if bad:
        raise ValueError(
            f"targets.{bad[0]}: expected a finite number within ±{MAX_TARGET:g}, got {targets[bad[0]]}"
        )
    cond = _conditions(generator, targets, conditions)
    density, doors = generator.conditions(1, np.random.default_rng(seed), cond)
    found = _anytime_search(generator, targets, seed, density, doors, budgets, method, population)
    order = np.argsort(budgets, kind="stable")
    results: list[SearchResult | None] = [None] * len(budgets)
    done: dict[bytes, SearchResult] = {}
    for slot, (z, used) in zip(order, found, strict=True):
        key = np.asarray(z, np.float32).tobytes()
        if key not in done:  # the same best latent at several budgets is repaired once
            raw = generator.raw(torch.from_numpy(np.asarray(z, np.float32)[None]), density, doors)
            sem = finish(raw, doors, generator.genre.name)[0]
            sem = repair(sem, generator.genre, room=generator.genre.name == "topdown").tiles
            level = generator.as_level(sem, seed, "procgen.levels.control", f"controlled-{seed}")
            done[key] = SearchResult(level, measure(sem, generator), targets, used)
        res = done[key]
        results[slot] = SearchResult(res.level, res.measures, res.targets, used)
    return [r for r in results if r is not None]


def search(
    generator: LevelGenerator,
    targets: Mapping[str, float],
    seed: int = 0,
    conditions: Mapping | None = None,
    max_evaluations: int = 400,
    population: int = 12,
    method: str = "cma-es",
) -> SearchResult:
    """The level whose measures come closest to `targets` within `max_evaluations` evaluations (each one
    generator forward + `measure`), by CMA-ES (`method="cma-es"`) or the best of that many random latents
    (`method="random"`, the baseline at an equal budget). `max_evaluations=1` is conditioning alone: the seed's
    own latent."""
    return search_budgets(generator, targets, [max_evaluations], seed, conditions, method, population)[0]
