"""Texture generation speed and quality: one seamless 256x256 texture per call on the CPU, the GAN against three
non-learned ways to get a tileable texture from the same exemplar photograph, side by side in one run.

- cross-fade: a crop with its margins faded onto the opposite edges (the usual way to make a photo tile; a copy);
- periodic component (Moisan 2011): the photo minus the smooth part that carries its boundary jumps, exactly
  periodic, computed once and rolled to a random offset per call (a copy, placed anywhere);
- random phase noise (Galerne, Gousseau and Morel 2011): the periodic component's Fourier amplitudes with a fresh
  random phase per call, a new periodic texture each time (one FFT pair per call), the classic fast
  non-learned synthesis; it keeps the spectrum, so it does well on micro-textures and loses structure.

Beside each speed ratio, quality on 64 textures each (brick_wall): the seam ratio at random cuts (each
texture's own edge, never a roll chosen by looking at pixels: DESIGN.md's headline), the Gram distance to the
exemplar, the diversity between textures (pixel-aligned, so a roll of one copy scores high) and the
nearest-patch distance to the exemplar (0 for a copy). Goal: <= 50 ms per 256² texture on CPU.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare, save
from procgen.metrics.textures import (
    diversity,
    gram_distance,
    nearest_patch_distance,
    periodic_component,
    seam_ratios,
)
from procgen.textures.generator import TextureGenerator, exemplar

THEME = "brick_wall"
SIZE = 256
MARGIN = 32
CALLS = 20
QUALITY_SAMPLES = 64


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


def rolled(periodic: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The periodic component cut at a random offset: any cut of a periodic image tiles."""
    return np.roll(periodic, tuple(int(v) for v in rng.integers(0, periodic.shape[0], 2)), (0, 1))


def random_phase(amplitude: np.ndarray, mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random phase noise: the given Fourier amplitudes (H, W, 3) with the phase of fresh white noise, one phase
    for all three channels (so colours stay together); the result is periodic by construction."""
    phase = np.exp(1j * np.angle(np.fft.fft2(rng.standard_normal(amplitude.shape[:2]))))
    out = np.fft.ifft2(amplitude * phase[..., None], axes=(0, 1)).real + mean
    return out.round().clip(0, 255).astype(np.uint8)


def main() -> None:
    torch.set_num_threads(2)
    gen = TextureGenerator.pretrained(THEME, device="cpu")
    photo = exemplar(THEME)
    rng = np.random.default_rng(0)
    seeds = iter(range(10**6))
    periodic = periodic_component(photo.astype(np.float64))
    mean = periodic.mean((0, 1))
    amplitude = np.abs(np.fft.fft2(periodic - mean, axes=(0, 1)))
    periodic_u8 = periodic.round().clip(0, 255).astype(np.uint8)
    gen.sample(SIZE, 0)  # warm-up

    def gan_calls() -> int:
        return sum(1 for _ in range(CALLS) if gen.sample(SIZE, next(seeds)) is not None)

    baselines = {
        "crossfade": (
            "cross-faded photo crop (a copy)",
            lambda draw: crossfade_tile(photo, draw),
        ),
        "periodic": (
            "photo's periodic component, rolled (Moisan 2011; a copy)",
            lambda draw: rolled(periodic_u8, draw),
        ),
        "random_phase": (
            "random phase noise on the periodic component (Galerne et al. 2011)",
            lambda draw: random_phase(amplitude, mean, draw),
        ),
    }
    results = []
    for key, (label, make) in baselines.items():
        results.append(
            compare(
                f"texture GAN vs {label}: 256x256 textures/s (CPU)",
                "textures/s",
                lambda make=make: sum(1 for _ in range(CALLS) if make(rng) is not None),
                gan_calls,
                baseline_key=key,
                baseline_settings=label,
                theme=THEME,
            )
        )
    result = results[0]
    latencies = []
    for _ in range(50):
        t0 = time.perf_counter()
        gen.sample(SIZE, next(seeds))
        latencies.append((time.perf_counter() - t0) * 1e3)
    result["latency_ms_median"] = statistics.median(latencies)
    result["latency_ms_p95"] = float(np.percentile(latencies, 95))
    result["latency_label"] = "One seamless 256x256 texture from the texture GAN"
    print(
        f"one 256² texture: median {result['latency_ms_median']:.1f} ms, p95 {result['latency_ms_p95']:.1f} ms"
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
    # Quality after every timing, so that nothing it leaves behind can touch a timed call.
    # The GAN's textures keep the net's own edge (a random cut); each baseline's are as it makes them.
    ours_q = gen.sample_batch(QUALITY_SAMPLES, SIZE, seed=10**6, edge="raw")
    quality_ours = {
        "seam_ratio_ours": float(seam_ratios(ours_q).mean()),
        "gram_ours": float(gram_distance(ours_q, photo).mean()),
        "diversity_ours": diversity(ours_q),
        "nearest_patch_ours": nearest_patch_distance(ours_q, photo),
    }
    for result, (label, make) in zip(results, baselines.values(), strict=True):
        draw = np.random.default_rng(1)
        base_q = np.stack([make(draw) for _ in range(QUALITY_SAMPLES)])
        result.update(
            seam_ratio_baseline=float(seam_ratios(base_q).mean()),
            gram_baseline=float(gram_distance(base_q, photo).mean()),
            diversity_baseline=diversity(base_q),
            nearest_patch_baseline=nearest_patch_distance(base_q, photo),
            load_average_1m=os.getloadavg()[0],
            quality_samples=QUALITY_SAMPLES,
            **quality_ours,
        )
        print(
            f"  {label}, quality ({QUALITY_SAMPLES} each): seam ratio at random cuts "
            f"{result['seam_ratio_baseline']:.2f} vs GAN {result['seam_ratio_ours']:.2f}; Gram distance "
            f"{result['gram_baseline']:.4f} vs {result['gram_ours']:.4f}; diversity "
            f"{result['diversity_baseline']:.3f} vs {result['diversity_ours']:.3f}; nearest patch "
            f"{result['nearest_patch_baseline']:.3f} vs {result['nearest_patch_ours']:.3f}"
        )
    save("textures", results)


def picture(path: Path) -> None:
    """The four ways side by side, each tiled 2x2 (docs/img/textures_baselines_brick_wall.png):
    `python bench/bench_textures.py --picture PATH`."""
    from PIL import Image

    photo = exemplar(THEME)
    rng = np.random.default_rng(3)
    periodic = periodic_component(photo.astype(np.float64))
    mean = periodic.mean((0, 1))
    amplitude = np.abs(np.fft.fft2(periodic - mean, axes=(0, 1)))
    made = [
        crossfade_tile(photo, rng),
        rolled(periodic.round().clip(0, 255).astype(np.uint8), rng),
        random_phase(amplitude, mean, rng),
        TextureGenerator.pretrained(THEME, device="cpu").sample(SIZE, 3, edge="raw"),
    ]
    blocks = [np.tile(img, (2, 2, 1)) for img in made]
    gap = np.full((2 * SIZE, 8, 3), 255, np.uint8)
    strip = np.concatenate([x for b in blocks for x in (b, gap)][:-1], 1)
    Image.fromarray(strip).resize((strip.shape[1] // 2, SIZE), Image.LANCZOS).save(path)


if __name__ == "__main__":
    if "--picture" in sys.argv:
        picture(Path(sys.argv[sys.argv.index("--picture") + 1]))
    else:
        main()
