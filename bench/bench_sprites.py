"""Sprite generation speed: finished 32x32 sprites/s from the sprite GAN on the CPU, one at a time against
batched, plus the time to make a seed's whole cast (six sprites rigged into walk sheets) as the demo does.

Both sides include the pixel-art finishing (binary alpha, outline, palette). Calling the generator once per
sprite is how a naive integration would use it; the batched call is what `SpriteGenerator.sample(n=...)` does.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare, save
from procgen.characters.animation import walk_sheet
from procgen.characters.generator import SpriteGenerator

BATCH = 256


def main() -> None:
    torch.set_num_threads(2)
    gen = SpriteGenerator.pretrained(device="cpu")
    seeds = iter(range(10**6))
    gen.sample("hero", 8, 0)  # warm-up

    result = compare(
        "sprite GAN: finished 32x32 sprites/s (CPU)",
        "sprites/s",
        lambda: sum(len(gen.sample("hero", 1, next(seeds))) for _ in range(32)),
        lambda: len(gen.sample("hero", BATCH, next(seeds))),
    )
    cast_ms = []
    for seed in range(5):
        t0 = time.perf_counter()
        for cls in gen.classes:
            walk_sheet(gen.sample(cls, 1, seed)[0])
        cast_ms.append((time.perf_counter() - t0) * 1e3)
    result["cast_ms_median"] = statistics.median(cast_ms)
    print(
        f"one seed's cast ({len(gen.classes)} sprites with walk sheets): median {result['cast_ms_median']:.0f} ms"
    )
    save("sprites", [result])


if __name__ == "__main__":
    main()
