"""Seamless textures from the shipped (or your own) periodic texture GAN.

from procgen.textures import TextureGenerator
rgb = TextureGenerator.pretrained("brick_wall").sample(size=256, seed=7)   # (256, 256, 3) uint8, tiles
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from procgen.core.device import select_device
from procgen.core.weights import WEIGHTS_DIR, card_config, load_into, load_weights
from procgen.textures.gan import PIXELS_PER_CELL, TextureConfig, TextureNet

EXEMPLAR_DIR = Path(__file__).resolve().parent.parent / "data" / "textures"
THEMES = ("stone_floor", "brick_wall", "lava", "water", "grass_dirt", "wood")
MIN_SIZE, MAX_SIZE = 8, 2048
MAX_BATCH = 256
CHUNK_PIXELS = 2048 * 2048
"""output pixels per pass through the net: one texture of the largest size, or 64 of 256x256"""
EDGES = ("quiet", "raw")


def exemplar(theme: str) -> np.ndarray:
    """The (256, 256, 3) uint8 exemplar a shipped theme was trained on."""
    if theme not in THEMES:
        raise ValueError(f"theme: expected one of {THEMES}, got {theme!r}")
    return np.asarray(Image.open(EXEMPLAR_DIR / f"{theme}.png").convert("RGB"))


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    """(height, width) from an int or a (width, height) pair, bounded."""
    width, height = (size, size) if isinstance(size, int) else size
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or not MIN_SIZE <= value <= MAX_SIZE:
            raise ValueError(f"size: {name} expected an int in {MIN_SIZE}..{MAX_SIZE}, got {value!r}")
    return height, width


def periodic_resize(rgb: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear resampling of a periodic (B, C, H, W) image that stays periodic: it samples the wrapped image."""
    if rgb.shape[-2:] == (height, width):
        return rgb
    padded = F.pad(rgb, (1, 1, 1, 1), mode="circular")
    h, w = rgb.shape[-2:]
    ys = (torch.arange(height, dtype=rgb.dtype) + 0.5) * h / height - 0.5 + 1  # +1: the pad
    xs = (torch.arange(width, dtype=rgb.dtype) + 0.5) * w / width - 0.5 + 1
    gy = ys / (h + 1) * 2 - 1
    gx = xs / (w + 1) * 2 - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1)[None].expand(len(rgb), -1, -1, -1)
    return F.grid_sample(padded, grid.to(rgb.device), mode="bilinear", align_corners=True)


def quiet_cut(textures: np.ndarray) -> np.ndarray:
    """Each periodic (N, H, W, C) texture rolled so that its wrap falls between the most alike neighbouring
    columns and rows: a presentation choice, never a measure.

    A periodic texture is a torus, so where its tile starts is free, and a tile artist puts the edge where it is
    least visible. That choice looks at the pixels, which makes the seam ratio ≤ 1 for any image whatever, a
    photograph included (a roll cannot remove a real cut, only move it inside the tile, where the wrap measure
    does not look). So every measure is taken on `edge="raw"` samples, where the wrap is the net's own edge."""
    values = textures.astype(np.int16)
    across_columns = np.abs(values - np.roll(values, 1, axis=2)).mean((1, 3))  # [n, x]: column x-1 against x
    across_rows = np.abs(values - np.roll(values, 1, axis=1)).mean((2, 3))
    dx, dy = across_columns.argmin(1), across_rows.argmin(1)
    return np.stack([np.roll(t, (-y, -x), (0, 1)) for t, y, x in zip(textures, dy, dx, strict=True)])


class TextureGenerator:
    """A trained texture GAN for one theme. `sample` gives textures that tile in both directions."""

    def __init__(self, net: TextureNet, theme: str, weights_id: str = "custom", device: str = "auto") -> None:
        self.device = select_device(device)
        self.net = net.to(self.device).eval()
        self.theme = theme
        self.weights_id = weights_id

    @classmethod
    def pretrained(cls, theme: str = "stone_floor", device: str = "auto") -> TextureGenerator:
        """The shipped generator for one of THEMES."""
        if theme not in THEMES:
            raise ValueError(f"theme: expected one of {THEMES}, got {theme!r}")
        return cls.from_weights(WEIGHTS_DIR / f"textures_{theme}", device=device)

    @classmethod
    def from_weights(cls, stem: str | Path, device: str = "auto") -> TextureGenerator:
        """Weights written by `procgen.textures.train`."""
        tensors, card = load_weights(stem)
        net = TextureNet(card_config(TextureConfig, card, Path(stem).with_suffix(".json")))
        load_into(net, tensors, stem)
        return cls(
            net, card.get("theme", Path(stem).name), weights_id=card["weights_sha256"][:12], device=device
        )

    def sample_batch(
        self, n: int, size: int | tuple[int, int] = 256, seed: int = 0, edge: str = "quiet"
    ) -> np.ndarray:
        """(n, H, W, 3) uint8 seamless textures; `size` is an int or (width, height). A seed fixes the batch.

        `edge="quiet"` rolls each tile so its edge sits at the quietest column and row pair (`quiet_cut`, for
        show); `edge="raw"` keeps the net's own edge, a cut that nothing chose by looking at the pixels, so it
        is the one to measure seams on. The whole batch is returned at once (3 bytes a pixel): for many large
        textures, `iter_batches` streams them instead."""
        return np.concatenate(list(self.iter_batches(n, size, seed, edge)))

    @torch.no_grad()
    def iter_batches(
        self, n: int, size: int | tuple[int, int] = 256, seed: int = 0, edge: str = "quiet"
    ) -> Iterator[np.ndarray]:
        """`sample_batch`'s textures, in order, a few at a time: each pass through the net holds at most
        CHUNK_PIXELS output pixels (about 1.3 GB of activations at that bound), so peak memory follows the chunk,
        not `n`. The latent noise (1.3 MB per 2048x2048 texture) is drawn up front, so the textures of a seed do
        not depend on the chunking."""
        if edge not in EDGES:
            raise ValueError(f"edge: expected one of {EDGES}, got {edge!r}")
        if not 1 <= n <= MAX_BATCH:
            raise ValueError(f"n: expected 1..{MAX_BATCH}, got {n}")
        height, width = _size(size)
        rows, cols = -(-height // PIXELS_PER_CELL), -(-width // PIXELS_PER_CELL)
        draw = torch.Generator().manual_seed(int(seed))
        noise = self.net.latent(n, rows, cols, draw)
        chunk = max(1, CHUNK_PIXELS // (rows * cols * PIXELS_PER_CELL**2))
        for start in range(0, n, chunk):
            part = (t[start : start + chunk].to(self.device) for t in noise)
            rgb = periodic_resize(self.net(*part).float().cpu(), height, width)
            textures = ((rgb.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
            yield quiet_cut(textures) if edge == "quiet" else textures

    def sample(self, size: int | tuple[int, int] = 256, seed: int = 0, edge: str = "quiet") -> np.ndarray:
        """One (H, W, 3) uint8 seamless texture (`edge` as in `sample_batch`)."""
        return self.sample_batch(1, size, seed, edge)[0]
