"""Level corpora, dungeon assembly, and (later) the level GAN, solver and repair."""

from procgen.levels.corpus import DUNGEON_ROOMS_DIR, load_rooms
from procgen.levels.dungeon import DungeonSettings, generate_dungeon

__all__ = ["DUNGEON_ROOMS_DIR", "DungeonSettings", "generate_dungeon", "load_rooms"]
