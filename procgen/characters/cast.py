"""A cast: one generated sprite per class, each rigged into a walk sheet, plus the frame table (cast.json) that
says how to cut the sheets. The demo game caches one per seed; the backend serves them.

    from procgen.characters.cast import CAST, cast_files
    files = cast_files(SpriteGenerator.pretrained(), seed=7)      # {"hero.png": ..., ..., "cast.json": ...}
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence

from PIL import Image

from procgen.characters.animation import FACINGS, FRAMES, walk_sheet
from procgen.characters.generator import SpriteGenerator

CAST: dict[str, tuple[str, ...]] = {
    "player": ("hero",),
    "enemy": ("enemy_undead", "enemy_slime", "enemy_critter"),
    "npc": ("npc_villager", "npc_automaton"),
}
"""role → the sprite classes its characters are drawn from; NPC i of a role gets class i % len (the renderer)"""
CAST_FPS = 8.0
SPRITE_PX = 32


def cast_files(
    generator: SpriteGenerator, seed: int, roles: Mapping[str, Sequence[str]] = CAST
) -> dict[str, bytes]:
    """`<class>.png` walk sheets (one row per facing in FACINGS, FRAMES frames each), then cast.json: the sprite
    size, frames, fps, facings, and per role its sheets' file names. The same seed gives the same bytes."""
    files: dict[str, bytes] = {}
    table: dict[str, list[str]] = {}
    for role, classes in roles.items():
        for cls in classes:
            name = f"{cls}.png"
            if name not in files:
                sheet = walk_sheet(generator.sample(cls, 1, seed)[0])
                buf = io.BytesIO()
                Image.fromarray(sheet, "RGBA").save(buf, format="PNG")
                files[name] = buf.getvalue()
            table.setdefault(role, []).append(name)
    cast = {
        "sprite_px": SPRITE_PX,
        "frames": FRAMES,
        "fps": CAST_FPS,
        "facings": list(FACINGS),
        "roles": table,
    }
    files["cast.json"] = (json.dumps(cast, indent=1) + "\n").encode("utf-8")
    return files
