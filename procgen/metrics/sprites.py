"""Sprite quality measures (DESIGN.md, "Sprite recognisability", plus the cleanliness and copying checks issue 4
asks for). Sprites are (N, H, W, 4) uint8 RGBA arrays.

- alpha cleanliness: the share of alpha values that are exactly 0 or 255;
- colour count: distinct RGB colours among a sprite's opaque pixels;
- duplicates: the share of sprites that exactly repeat an earlier one in the sample;
- nearest-training distance: per sprite, the mean absolute RGBA difference (0..1) to the closest corpus sprite,
  and the share that are exact corpus copies, so that memorising shows;
- recognisability: a classifier's accuracy against the conditioned class (`procgen.characters.classifier`).
"""

from __future__ import annotations

import numpy as np

from procgen.characters.pixelart import colour_count


def _batch(sprites: np.ndarray) -> np.ndarray:
    arr = np.asarray(sprites)
    if arr.ndim != 4 or arr.shape[-1] != 4 or arr.dtype != np.uint8:
        raise ValueError(f"sprites: expected (N, H, W, 4) uint8, got {arr.shape} {arr.dtype}")
    return arr


def alpha_clean_share(sprites: np.ndarray) -> float:
    alpha = _batch(sprites)[..., 3]
    return float(np.isin(alpha, (0, 255)).mean())


def colour_counts(sprites: np.ndarray) -> np.ndarray:
    return np.array([colour_count(s) for s in _batch(sprites)])


def duplicate_share(sprites: np.ndarray) -> float:
    arr = _batch(sprites)
    unique = len(np.unique(arr.reshape(len(arr), -1), axis=0))
    return 1.0 - unique / len(arr)


def nearest_training(sprites: np.ndarray, corpus: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, float]:
    """(per-sprite mean absolute RGBA distance to its nearest corpus sprite, in 0..1; share of exact copies)."""
    gen = _batch(sprites).reshape(len(sprites), -1).astype(np.float32) / 255
    ref = _batch(corpus).reshape(len(corpus), -1).astype(np.float32) / 255
    nearest = np.empty(len(gen), np.float32)
    for start in range(0, len(gen), chunk):
        block = gen[start : start + chunk]
        nearest[start : start + chunk] = np.abs(block[:, None] - ref[None]).mean(-1).min(1)
    return nearest, float((nearest == 0).mean())


def pairwise_diversity(sprites: np.ndarray, pairs: int = 2000, seed: int = 0) -> float:
    """Mean absolute RGBA distance (0..1) between random pairs of different sprites in the sample."""
    arr = _batch(sprites).reshape(len(sprites), -1).astype(np.float32) / 255
    if len(arr) < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(arr), pairs)
    b = (a + rng.integers(1, len(arr), pairs)) % len(arr)
    return float(np.abs(arr[a] - arr[b]).mean())
