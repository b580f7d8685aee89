"""Level generation speed: playable rooms per second, the level GAN against a batched WaveFunctionCollapse.

Both sides do the same work: 1,024 16x11 rooms per call under the same door conditions (drawn from the corpus
by `LevelGenerator.conditions`), finished by the same frame rule, checked by the same solver and repaired by the
same `repair_codes` when unplayable. The GAN is conditioned on the doors; WFC (`BatchedRoomWFC`, overlapping
N=2) has them as constraints on its wave before the first step, and propagates over the whole batch with array
operations. Beside the speed, the quality of each side's rooms (tile-pattern KL against the corpus at k = 2, 3, 4,
duplicates, how many needed repair), so the ratio is not read alone. Goals: >= 1,000 playable rooms/s batched on
2 CPU cores, <= 10 ms for one room.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare, save
from procgen.levels.generator import LevelGenerator
from procgen.levels.solver import is_playable
from procgen.levels.structure import finish
from procgen.levels.wfc import BatchedRoomWFC
from procgen.metrics.levels import duplicates, tile_pattern_kl

BATCH = 1024
LATENCY_CALLS = 50
SINGLE_CALLS = 20
QUALITY_SEED = 12345


def main() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    wfc = BatchedRoomWFC(gen.corpus.examples)
    rng = np.random.default_rng(0)
    seeds = iter(range(10**6))

    def wfc_codes(k: int, draw: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(finished and repaired rooms, raw-playable flags, edits), the GAN's own pipeline after sampling."""
        _, doors = gen.conditions(k, draw)
        raw = wfc.generate_rooms(doors, draw)
        codes = finish(raw, doors, gen.genre.name)
        playable = np.array([is_playable(c, gen.genre, room=True) for c in codes], dtype=bool)
        codes, report = gen.repair_codes(codes, raw, playable)
        return codes, playable, report.edits

    def wfc_rooms(k: int) -> int:
        return len(wfc_codes(k, rng)[0])

    def gan_rooms(k: int) -> int:
        codes, _ = gen.sample_codes(k, seed=next(seeds), repair=True)  # checked and repaired inside
        return len(codes)

    gan_rooms(16)  # warm-up: torch's first call allocates
    wfc_rooms(16)
    settings = {
        "baseline_settings": (
            f"BatchedRoomWFC (overlapping N=2, {len(wfc.patterns)} patterns from the corpus), batch {BATCH}, the "
            "GAN's door conditions as wave constraints, numpy propagation over the batch, restart on "
            "contradiction; then the same finish, solver check and repair_codes as the GAN"
        ),
    }
    batched = compare(
        f"level GAN: playable rooms/s, batch {BATCH}",
        "rooms/s",
        lambda: wfc_rooms(BATCH),
        lambda: gan_rooms(BATCH),
        **settings,
    )
    latencies_ms = []
    for _ in range(LATENCY_CALLS):
        t0 = time.perf_counter()
        gan_rooms(1)
        latencies_ms.append((time.perf_counter() - t0) * 1e3)
    single = compare(
        "level GAN: one playable room at a time",
        "rooms/s",
        lambda: sum(wfc_rooms(1) for _ in range(SINGLE_CALLS)),
        lambda: sum(gan_rooms(1) for _ in range(SINGLE_CALLS)),
        latency_ms_median=statistics.median(latencies_ms),
        latency_ms_p95=float(np.percentile(latencies_ms, 95)),
        baseline_settings="the same BatchedRoomWFC and pipeline, one room per call",
    )
    print(
        f"one playable room: median {single['latency_ms_median']:.2f} ms, p95 {single['latency_ms_p95']:.2f} ms"
    )
    # Quality last, outside every timing, so that nothing it leaves behind can touch a timed call.
    batched.update(quality(gen, wfc_codes))
    save("levels", [batched, single])


def quality(gen: LevelGenerator, wfc_codes) -> dict[str, Any]:
    """One batch from each side at a fixed seed, outside the timing: what the rooms/s buy."""
    train = gen.corpus.examples
    gan, report = gen.sample_codes(BATCH, seed=QUALITY_SEED, repair=True)
    ours = {"codes": gan, "raw_playable": report.raw_playable, "edits": report.edits}
    codes, playable, edits = wfc_codes(BATCH, np.random.default_rng(QUALITY_SEED))
    base = {"codes": codes, "raw_playable": playable, "edits": edits}
    out: dict[str, Any] = {"quality_rooms": BATCH, "load_average_1m": os.getloadavg()[0]}
    for side, got in (("baseline", base), ("ours", ours)):
        for k in (2, 3, 4):
            out[f"kl{k}_{side}"] = tile_pattern_kl(train, got["codes"], k)
        out[f"duplicates_{side}"] = duplicates(got["codes"])
        out[f"needed_repair_{side}"] = float(1 - got["raw_playable"].mean())
        out[f"mean_edits_{side}"] = float(got["edits"].mean())
        out[f"playable_after_{side}"] = float(
            np.mean([is_playable(c, gen.genre, room=True) for c in got["codes"]])
        )
    for k in (2, 3, 4):
        print(f"  KL {k}x{k}: WFC {out[f'kl{k}_baseline']:.3f}, GAN {out[f'kl{k}_ours']:.3f}")
    print(
        f"  duplicates: WFC {out['duplicates_baseline']:.1%}, GAN {out['duplicates_ours']:.1%}; needed repair: "
        f"WFC {out['needed_repair_baseline']:.1%}, GAN {out['needed_repair_ours']:.1%}; playable after: "
        f"WFC {out['playable_after_baseline']:.1%}, GAN {out['playable_after_ours']:.1%}"
    )
    return out


if __name__ == "__main__":
    main()
