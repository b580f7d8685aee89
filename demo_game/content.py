"""What a seed becomes in the demo: its dungeon Level and the World that runs it."""

from __future__ import annotations

from functools import cache

from engine.level import Level
from engine.sim.world import World, scripted_policies
from procgen.levels.dungeon import DungeonSettings, generate_dungeon
from procgen.levels.generator import LevelGenerator

MAX_SEED = 2**31 - 1


@cache
def room_generator() -> LevelGenerator:
    """The shipped dungeon-room GAN, loaded once per process."""
    return LevelGenerator.pretrained("dungeon")


def dungeon_for_seed(seed: int, settings: DungeonSettings | None = None) -> Level:
    """The seed's dungeon: a graph of GAN rooms, each conditioned on its doors and repaired to be playable."""
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed: expected 0..{MAX_SEED}, got {seed}")
    return generate_dungeon(seed, settings, generator=room_generator())


def new_world(seed: int) -> World:
    """A fresh run for `seed`: its dungeon, with every NPC acting through the policy table."""
    return World(dungeon_for_seed(seed), seed=seed, policies=scripted_policies)
