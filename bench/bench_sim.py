"""Simulation steps/s with no rendering: ours (one cached distance field per tick) against the naive
implementation it replaced (a fresh BFS for every NPC turn), same dungeons, same actions, one process."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import compare, save

from engine.sim import Action, World
from engine.sim.grid import bfs_distances
from engine.sim.world import CHASE_RADIUS
from procgen.levels import generate_dungeon

SEEDS = (1, 2, 3)
STEPS = 3000


class NaiveWorld(World):
    """Baseline: every alerted NPC runs its own BFS from the player on every turn."""

    def _player_distances(self) -> np.ndarray:
        return bfs_distances(self._npc_walkable, [(self.player.x, self.player.y)], CHASE_RADIUS)


def runner(world_cls: type[World]):
    levels = [generate_dungeon(s) for s in SEEDS]
    # A wandering player keeps enemies alerted and chasing, the costly case.
    actions = [Action(a) for a in np.random.default_rng(0).integers(0, 5, STEPS)]

    def work() -> int:
        steps = 0
        for seed, level in zip(SEEDS, levels, strict=True):
            world = world_cls(level, seed=seed)
            world.player.health = 10**9  # keep the run going for the whole action list
            world.player.max_health = 10**9
            for a in actions:
                world.step(a)
                steps += 1
        return steps

    return work


def main() -> None:
    results = [compare("sim steps/s (3 dungeons, all NPCs)", "steps/s", runner(NaiveWorld), runner(World))]
    save("sim", results)


if __name__ == "__main__":
    main()
