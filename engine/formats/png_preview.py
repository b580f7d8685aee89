"""PNG preview of a level (write only): one flat colour per semantic, spawns as dots."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from engine.atomic import atomic_write_bytes
from engine.level import SEMANTICS, Level, Semantic

SEMANTIC_COLOURS: dict[Semantic, tuple[int, int, int]] = {
    Semantic.FLOOR: (196, 180, 150),
    Semantic.WALL: (70, 62, 70),
    Semantic.DOOR: (150, 96, 40),
    Semantic.LOCKED_DOOR: (220, 170, 20),
    Semantic.KEY: (255, 220, 40),
    Semantic.START: (60, 170, 255),
    Semantic.EXIT: (40, 220, 90),
    Semantic.HAZARD: (220, 50, 30),
    Semantic.WATER: (40, 90, 200),
    Semantic.ENEMY: (200, 30, 160),
    Semantic.NPC: (140, 240, 240),
    Semantic.TREASURE: (250, 140, 20),
    Semantic.DECORATION: (120, 150, 90),
    Semantic.VOID: (12, 10, 16),
    Semantic.SOLID: (110, 80, 50),
    Semantic.PLATFORM: (170, 120, 70),
    Semantic.LADDER: (190, 160, 90),
}
# Indexed by Semantic.code, for whole-grid colouring in one numpy take.
COLOUR_TABLE = np.array(
    [SEMANTIC_COLOURS[s] for s in SEMANTICS] + [(255, 0, 255)] * (256 - len(SEMANTICS)), np.uint8
)

MAX_PREVIEW_SCALE = 64


def preview_image(level: Level, scale: int = 8) -> Image.Image:
    if not 1 <= scale <= MAX_PREVIEW_SCALE:
        raise ValueError(f"scale: expected 1..{MAX_PREVIEW_SCALE}, got {scale}")
    rgb = COLOUR_TABLE[level.semantic_grid()]
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    for s in level.spawns:
        c = SEMANTIC_COLOURS[s.kind]
        q = max(1, scale // 4)
        rgb[s.y * scale + q : (s.y + 1) * scale - q, s.x * scale + q : (s.x + 1) * scale - q] = c
    return Image.fromarray(rgb, "RGB")


def png_bytes(level: Level, scale: int = 8) -> bytes:
    """The level's preview as PNG bytes."""
    buf = io.BytesIO()
    preview_image(level.validate(), scale).save(buf, format="PNG")
    return buf.getvalue()


def write_png(level: Level, path: str | Path, scale: int = 8) -> None:
    atomic_write_bytes(path, png_bytes(level, scale))
