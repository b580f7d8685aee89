"""Level generation speed: playable rooms per second (GAN + check + repair) against WaveFunctionCollapse.

Both sides deliver the same thing: finished 16x11 rooms (frame and doors from the same conditions), checked by
the solver, repaired when unplayable. Goals: >= 1,000 playable rooms/s batched on 2 CPU cores, <= 10 ms for one.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare, save
from procgen.levels.generator import LevelGenerator
from procgen.levels.repair import repair
from procgen.levels.solver import room_playable
from procgen.levels.structure import frame_rooms
from procgen.levels.wfc import OverlappingWFC

BATCH = 1024
WFC_ROOMS = 8
LATENCY_CALLS = 50


def main() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    wfc = OverlappingWFC(gen.corpus.examples)
    rng = np.random.default_rng(0)
    h, w = gen.corpus.shape
    seeds = iter(range(10**6))

    def wfc_rooms(k: int) -> int:
        _, doors = gen.conditions(k, rng)
        rooms = frame_rooms(np.stack([wfc.generate(h, w, rng) for _ in range(k)]), doors)
        for room in rooms:
            if not room_playable(room):
                repair(room, room=True)
        return k

    def gan_rooms(k: int) -> int:
        codes, _ = gen.sample_codes(k, seed=next(seeds), repair=True)  # checked and repaired inside
        return len(codes)

    gan_rooms(16)  # warm-up: torch's first call allocates
    batched = compare(
        "level GAN: playable rooms/s, batch 1024",
        "rooms/s",
        lambda: wfc_rooms(WFC_ROOMS),
        lambda: gan_rooms(BATCH),
    )
    latencies_ms = []
    for _ in range(LATENCY_CALLS):
        t0 = time.perf_counter()
        gan_rooms(1)
        latencies_ms.append((time.perf_counter() - t0) * 1e3)
    single = compare(
        "level GAN: one playable room at a time",
        "rooms/s",
        lambda: wfc_rooms(1),
        lambda: sum(gan_rooms(1) for _ in range(20)),
        latency_ms_median=statistics.median(latencies_ms),
        latency_ms_p95=float(np.percentile(latencies_ms, 95)),
    )
    print(
        f"one playable room: median {single['latency_ms_median']:.2f} ms, p95 {single['latency_ms_p95']:.2f} ms"
    )
    save("levels", [batched, single])


if __name__ == "__main__":
    main()
