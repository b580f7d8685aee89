"""Texture generation speed: one seamless 256x256 texture on the CPU, GAN against a cross-faded photo crop.

The baseline is the usual way to make a photograph tile: cut a crop with a margin and cross-fade the margin
onto the opposite edge. It is only a copy of the exemplar (no new texture), so it is a floor for speed, not a
rival in quality; the seam ratio of both is printed beside the times. Goal: <= 50 ms per 256² texture on CPU.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare, save
from procgen.metrics.textures import seam_ratio
from procgen.textures.generator import TextureGenerator, exemplar

SIZE = 256
MARGIN = 32
CALLS = 20


def crossfade_tile(
    photo: np.ndarray, rng: np.random.Generator, size: int = SIZE, margin: int = MARGIN
) -> np.ndarray:
    """A `size`² crop whose right/bottom margins are faded into the left/top edges, so that it wraps."""
    src = np.tile(photo, (2, 2, 1)).astype(np.float32)  # room for a crop plus its margin
    y, x = rng.integers(0, 2 * photo.shape[0] - size - margin + 1, 2)
    big = src[y : y + size + margin, x : x + size + margin]
    ramp = np.linspace(0, 1, margin, dtype=np.float32)
    out = big[:, :size].copy()
    out[:, :margin] = big[:, size:, :] * (1 - ramp)[None, :, None] + out[:, :margin] * ramp[None, :, None]
    rows = out[:size].copy()
    rows[:margin] = out[size:] * (1 - ramp)[:, None, None] + rows[:margin] * ramp[:, None, None]
    return rows.clip(0, 255).astype(np.uint8)


def main() -> None:
    torch.set_num_threads(2)
    gen = TextureGenerator.pretrained("brick_wall", device="cpu")
    photo = exemplar("brick_wall")
    rng = np.random.default_rng(0)
    seeds = iter(range(10**6))
    gen.sample(SIZE, 0)  # warm-up

    result = compare(
        "texture GAN: seamless 256x256 textures/s (CPU)",
        "textures/s",
        lambda: sum(1 for _ in range(CALLS) if crossfade_tile(photo, rng) is not None),
        lambda: sum(1 for _ in range(CALLS) if gen.sample(SIZE, next(seeds)) is not None),
    )
    latencies = []
    for _ in range(50):
        t0 = time.perf_counter()
        gen.sample(SIZE, next(seeds))
        latencies.append((time.perf_counter() - t0) * 1e3)
    result["latency_ms_median"] = statistics.median(latencies)
    result["latency_ms_p95"] = float(np.percentile(latencies, 95))
    result["latency_label"] = "One seamless 256x256 texture from the texture GAN"
    result["seam_ratio_baseline"] = float(
        np.mean([seam_ratio(crossfade_tile(photo, rng)) for _ in range(16)])
    )
    result["seam_ratio_ours"] = float(np.mean([seam_ratio(gen.sample(SIZE, s)) for s in range(16)]))
    print(
        f"one 256² texture: median {result['latency_ms_median']:.1f} ms, p95 {result['latency_ms_p95']:.1f} ms; "
        f"seam ratio: cross-fade {result['seam_ratio_baseline']:.2f}, GAN {result['seam_ratio_ours']:.2f}"
    )
    from procgen.textures.tileset import TilesetGenerator

    builder = TilesetGenerator(tile_px=32)
    builder.generate(0)
    tileset_ms = []
    for seed in range(1, 6):
        t0 = time.perf_counter()
        builder.generate(seed)
        tileset_ms.append((time.perf_counter() - t0) * 1e3)
    result["tileset_ms_median"] = statistics.median(tileset_ms)
    print(
        f"one whole tileset (69 tiles of 32 px from 6 textures): median {result['tileset_ms_median']:.0f} ms"
    )
    save("textures", [result])


if __name__ == "__main__":
    main()
