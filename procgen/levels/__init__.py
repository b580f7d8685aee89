"""Levels: corpora, the level GAN and its generator, the solver, repair, latent control and dungeon assembly."""

from procgen.levels.corpus import DUNGEON_ROOMS_DIR, PLATFORMER_LEVELS_DIR, build_corpus, load_rooms
from procgen.levels.dungeon import DungeonSettings, generate_dungeon

__all__ = [
    "DUNGEON_ROOMS_DIR",
    "PLATFORMER_LEVELS_DIR",
    "DungeonSettings",
    "LevelGenerator",
    "build_corpus",
    "generate_dungeon",
    "load_rooms",
]


def __getattr__(name: str):
    # The generator pulls in torch; importing procgen.levels for corpora or dungeons should not.
    if name == "LevelGenerator":
        from procgen.levels.generator import LevelGenerator

        return LevelGenerator
    raise AttributeError(name)
