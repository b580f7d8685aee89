"""Control: CMA-ES in the generator's latent space toward targets for path length, enemies, hazard, openness.

The density condition already asks the generator for enemies, hazard and openness; the search then moves the
latent vector until the finished, repaired level measures what was asked, and adds the one target the
conditions cannot express: the length of the path through the level.

    from procgen.levels.control import search
    result = search(LevelGenerator.pretrained("dungeon"), {"path_length": 24, "enemies": 2}, seed=3)
    result.level, result.measures, result.hit
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
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


def search(
    generator: LevelGenerator,
    targets: Mapping[str, float],
    seed: int = 0,
    conditions: Mapping | None = None,
    max_evaluations: int = 400,
    population: int = 12,
    use_search: bool = True,
) -> SearchResult:
    """The level whose measures come closest to `targets`; with `use_search=False`, conditioning alone (one
    sample), which is the baseline the search is measured against."""
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise ValueError(f"targets: unknown {sorted(unknown)}; expected some of {TARGETS}")
    if not 1 <= max_evaluations <= MAX_EVALUATIONS:
        raise ValueError(f"max_evaluations: expected 1..{MAX_EVALUATIONS}, got {max_evaluations}")
    targets = {k: float(v) for k, v in targets.items()}
    cond = _conditions(generator, targets, conditions)
    density, doors = generator.conditions(1, np.random.default_rng(seed), cond)
    z0 = generator.latents(1, seed).numpy()[0]
    best_z, evaluations = z0, 1
    if use_search:
        options = {
            "seed": seed + 1,  # cma treats seed 0 as "random"
            "popsize": population,
            "maxfevals": max_evaluations,
            "verbose": -9,
            "tolfun": 1e-9,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            es = cma.CMAEvolutionStrategy(z0, 0.7, options)
            best_err = np.inf
            while not es.stop():
                zs = np.asarray(es.ask(), dtype=np.float32)
                raw = generator.raw(
                    torch.from_numpy(zs), np.repeat(density, len(zs), 0), np.repeat(doors, len(zs), 0)
                )
                sems = finish(raw, np.repeat(doors, len(zs), 0), generator.genre.name)
                errs = [_error(measure(s, generator), targets) for s in sems]
                evaluations += len(zs)
                es.tell(list(zs.astype(np.float64)), errs)
                i = int(np.argmin(errs))
                if errs[i] < best_err:
                    best_err, best_z = errs[i], zs[i]
                if best_err == 0.0:
                    break
    raw = generator.raw(torch.from_numpy(np.asarray(best_z, np.float32)[None]), density, doors)
    sem = finish(raw, doors, generator.genre.name)[0]
    sem = repair(sem, generator.genre, room=generator.genre.name == "topdown").tiles
    level = generator.as_level(sem, seed, "procgen.levels.control", f"controlled-{seed}")
    return SearchResult(level, measure(sem, generator), targets, evaluations)
