"""What a seed becomes in the demo: its dungeon Level, its tileset, its cast and the World that runs it."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from engine.level import Level
from engine.sim.world import PolicyFactory, World, scripted_policies
from procgen.levels.dungeon import DungeonSettings, cast_roles, generate_dungeon
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


def npc_policies() -> tuple[PolicyFactory, str | None]:
    """The trained policy table, or the scripted one and the reason when a policy file cannot be loaded."""
    try:
        from agents.policies.onnx_policy import TRAINED_ROLES, OnnxPolicy, policy_path, trained_policies

        for role in TRAINED_ROLES:
            OnnxPolicy(policy_path(role))  # opens (and caches) each session now, so a bad file shows here
        return trained_policies, None
    except (ImportError, OSError, ValueError, RuntimeError) as e:
        return scripted_policies, f"NPCs use scripted policies: {e}"


def new_world(seed: int, settings: DungeonSettings | None = None) -> World:
    """A fresh run for `seed`: its dungeon (built to `settings`, the default floor when None) and cast of
    roles, every NPC acting through its trained policy."""
    policies, _ = npc_policies()
    return World(cast_roles(dungeon_for_seed(seed, settings), seed), seed=seed, policies=policies)


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


def sprite_weights_key() -> str:
    """12 hex digits naming the shipped sprite weights, so new weights mean a new cast."""
    from procgen.core.weights import WEIGHTS_DIR

    card = json.loads((WEIGHTS_DIR / "sprites.json").read_text(encoding="utf-8"))
    return str(card["weights_sha256"])[:12]


@cache
def sprite_generator():
    """The shipped sprite GAN, loaded once per process."""
    from procgen.characters.generator import SpriteGenerator

    return SpriteGenerator.pretrained()


def cast_for_seed(seed: int) -> Path:
    """The seed's generated cast (its cast.json): one GAN sprite per class in CAST, each rigged into a walk
    sheet. Made once, then read from the disk cache keyed by the seed and the sprite weights."""
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed: expected 0..{MAX_SEED}, got {seed}")
    folder = cache_dir() / "casts" / sprite_weights_key() / str(seed)
    index = folder / "cast.json"
    if index.exists():  # written last, so its presence means the cast is whole
        return index
    from engine.atomic import atomic_write_bytes
    from procgen.characters.cast import cast_files

    for name, data in cast_files(sprite_generator(), seed).items():  # cast.json comes last
        atomic_write_bytes(folder / name, data)
    return index


def seed_atlas(seed: int, tile_px: int = 48):
    """The renderer's art for a seed: its generated tileset and cast over the Kenney items. Needs pygame to be
    initialised. If the tileset or the cast cannot be made, the run still starts, on the Kenney tiles or
    characters, and the reasons are returned as the second value (None when everything was generated)."""
    from engine.render.pygame2d import TileAtlas
    from engine.render.pygame2d.atlas import TilesetError
    from procgen.core.weights import WeightsError

    atlas = TileAtlas.kenney(tile_px)
    problems = []
    try:
        atlas = atlas.with_tileset(tileset_for_seed(seed))
    except (TilesetError, WeightsError, OSError) as exc:
        problems.append(f"generated tileset unavailable, using the stock tiles: {exc}")
    try:
        atlas = atlas.with_cast(cast_for_seed(seed))
    except (TilesetError, WeightsError, OSError) as exc:
        problems.append(f"generated cast unavailable, using the stock characters: {exc}")
    return atlas, "; ".join(problems) or None
