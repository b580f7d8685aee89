"""What a seed becomes in the demo: its dungeon Level, its tileset and the World that runs it."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

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


def cache_dir() -> Path:
    """$LUDOFORGE_HOME/cache, or ~/.cache/ludoforge: generated art, safe to delete."""
    home = os.environ.get("LUDOFORGE_HOME")
    return Path(home) / "cache" if home else Path.home() / ".cache" / "ludoforge"


def texture_weights_key() -> str:
    """12 hex digits naming the shipped texture weights (from their cards), so new weights mean new art."""
    from procgen.core.weights import WEIGHTS_DIR
    from procgen.textures.generator import THEMES

    digests = [
        json.loads((WEIGHTS_DIR / f"textures_{t}.json").read_text(encoding="utf-8"))["weights_sha256"]
        for t in THEMES
    ]
    return hashlib.sha256("".join(digests).encode()).hexdigest()[:12]


@cache
def tileset_generator():
    """The tileset builder over the shipped texture GANs, loaded once per process."""
    from procgen.textures.tileset import TilesetGenerator

    return TilesetGenerator(tile_px=32)


def tileset_for_seed(seed: int) -> Path:
    """The seed's generated tileset (its index.json), made once and then read from the disk cache, which is
    keyed by the seed and the texture weights."""
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed: expected 0..{MAX_SEED}, got {seed}")
    folder = cache_dir() / "tilesets" / texture_weights_key() / str(seed)
    index = folder / "index.json"
    if not index.exists():  # save() writes index.json last, so its presence means the set is whole
        tileset_generator().generate(seed).save(folder)
    return index


def seed_atlas(seed: int, tile_px: int = 48):
    """The renderer's art for a seed: its generated tileset over the Kenney items and characters. Needs pygame
    to be initialised. If the tileset cannot be made, the run still starts on the Kenney tiles, and the reason
    is returned as the second value."""
    from engine.render.pygame2d import TileAtlas
    from engine.render.pygame2d.atlas import TilesetError
    from procgen.core.weights import WeightsError

    base = TileAtlas.kenney(tile_px)
    try:
        return base.with_tileset(tileset_for_seed(seed)), None
    except (TilesetError, WeightsError, OSError) as exc:
        return base, f"generated tileset unavailable, using the stock tiles: {exc}"
