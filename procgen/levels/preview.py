"""Sample grids as PNG: many semantic grids side by side in the preview colours, for training logs and docs."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.atomic import atomic_write_bytes
from engine.formats.png_preview import COLOUR_TABLE
from procgen.levels.gan import GanConfig, codes_from_logits

MAX_GRID_ITEMS = 1024


def grid_image(sems: np.ndarray, scale: int = 6, columns: int | None = None, gap: int = 2) -> Image.Image:
    """(N, H, W) semantic grids tiled into one RGB image, `columns` per row."""
    n, h, w = sems.shape
    if not 1 <= n <= MAX_GRID_ITEMS:
        raise ValueError(f"sems: expected 1..{MAX_GRID_ITEMS} levels, got {n}")
    columns = columns or math.ceil(math.sqrt(n * h / w))
    rows = math.ceil(n / columns)
    cell_h, cell_w = h * scale + gap, w * scale + gap
    canvas = np.full((rows * cell_h + gap, columns * cell_w + gap, 3), 255, np.uint8)
    for i, sem in enumerate(sems):
        r, c = divmod(i, columns)
        rgb = np.repeat(np.repeat(COLOUR_TABLE[sem], scale, 0), scale, 1)
        canvas[
            gap + r * cell_h : gap + r * cell_h + h * scale, gap + c * cell_w : gap + c * cell_w + w * scale
        ] = rgb
    return Image.fromarray(canvas, "RGB")


def save_levels_png(sems: np.ndarray, path: str | Path, scale: int = 6, columns: int | None = None) -> None:
    buf = io.BytesIO()
    grid_image(np.asarray(sems, dtype=np.uint8), scale, columns).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def save_grid(logits: torch.Tensor, cfg: GanConfig, path: str | Path) -> None:
    """A training-time sample grid: argmax of the generator's logits."""
    save_levels_png(codes_from_logits(logits, cfg.channels), path, columns=8)
