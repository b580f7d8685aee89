"""Writes docs/benchmarks.md from the JSON files in bench/results/ (run by `make bench` after the benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

NOTES = {
    "backend": "The content server (`ludoforge serve`, one process, 2 worker threads, uvloop + httptools, the level "
    "batches made in its generation process) under wrk 4.1 on loopback: 2 threads, 32 connections, 5 s a run, 5 "
    "runs, the servers' runs alternating in one process; wrk shares the 2-core machine. Baseline: the same server "
    "with --no-batching (each request a batch of one, sent to the generation process at once). Context rows: "
    "batching on with the batches made on the worker threads (--no-generation-process), and batching on with the "
    "answers also cached on disk (--cache-dir; the other servers cache in memory only). Fresh rooms: POST "
    "/v1/levels {n: 1, seed: new every request}, repair on, each answer JSON with the level and its solver result "
    "(path and critical tiles). Cached: the same body again, 304 to If-None-Match (and 200 from the cache). "
    "In-process: the same work (the generation process's make_batch of 64, then the encoding) without HTTP, in "
    "the bench process. Goals (issue 19): cached >= 2,000 req/s with p99 < 20 ms; fresh >= 500 req/s with p99 < "
    "100 ms and >= 3x batching off.",
    "agents": "NPC envs at equal batch. Baseline: MiniGrid DoorKey-8x8 (7x7x3 image observation), random actions, "
    "N envs at once through EnvPool 1.2.5 (C++, num_threads=2, batch_size=N), Gymnasium SyncVectorEnv (one process) "
    "and Gymnasium AsyncVectorEnv with 2 worker processes of N/2 envs each. Ours: the batched VecEnv (numba kernels, "
    "its only implementation; serial below 1,024 envs, both cores from 1,024), random actions; one step is one NPC "
    "decision with its 672-float observation, episode resets included. Per core: steps/s divided by the threads or "
    "processes each side ran. Goals (issue 17): >= 5x EnvPool at 256 envs and >= 10x at 4,096. PufferLib's C envs "
    "cannot be built here (their build downloads from outside); a third-party mirror of their docs quotes 1M-10M+ "
    "steps/s on one core for its own Ocean envs, unverified here. Measured on the 2-core machine while other "
    "sessions loaded it; EnvPool's rate moved 4x between runs. The single-env row is one World env against one "
    "MiniGrid env. The PPO row: SB3 PPO end to end with the training script's defaults, DummyVecEnv over the "
    "single env against our VecEnv; goal >= 2x, env under 10% of training time.",
    "sim": "Baseline: the same World with a fresh BFS for every NPC turn instead of one cached distance field per "
    "tick. The cache changes little at this NPC count: the simulation is already cheap next to rendering. Since NPCs "
    "have roles, every NPC turn also observes the paths to the keys and home (about 45,800 steps/s before, on this "
    "machine).",
    "levels": "Baseline: WaveFunctionCollapse (overlapping model, N=2, the corpus's 360 patterns), batched: "
    "BatchedRoomWFC runs 1,024 rooms per call with the GAN's door conditions as constraints on its wave, numpy "
    "propagation over the whole batch and restart on contradiction; then the same frame rule, solver check and "
    "repair_codes as the GAN. Quality of one 1,024-room batch each, outside the timing: tile-pattern KL at k=2/3/4 "
    "against the corpus, duplicates, the share that needed repair. Goals: >= 1,000 playable rooms/s batched on 2 "
    "CPU cores, <= 10 ms for one room.",
    "repair": "Milliseconds per repaired segment (lower is better, so the ratio is ours / baseline time). Baseline: "
    "the old platformer CP-SAT flow model under the generator's 0.5 s wall-clock limit (bench/repair_cpsat_baseline.py), "
    "which never proved a minimum there (median 13 edits where the proven minimum is 1). Ours: the exact label search "
    "with a work limit and no clock. The samples are the eval's own that the solver rejects. Goal: <= 50 ms median "
    "(met); p95 176 ms over 539 segments of three seeds (unmet as a 50 ms tail). docs/repair.md has the optimality "
    "rates and gaps.",
    "textures": "Ours: the periodic texture GAN, one 256x256 brick_wall texture per call on the CPU. One row per "
    "baseline, side by side in one run: a cross-faded exemplar crop (a copy), Moisan's periodic component rolled to "
    "a random offset (a copy), random phase noise on that component (Galerne et al. 2011, a new texture per call). "
    "Quality of 64 textures each: seam ratio at random cuts, Gram distance, nearest-patch distance (see the quality "
    "lines below the table). Goal: <= 50 ms per texture.",
    "sprites": "Baseline: the sprite GAN called once per sprite. Ours: one batched call of 256. Both include the "
    "pixel-art finishing (binary alpha, outline, 16-colour palette). The cast time is what a new seed adds in the "
    "demo: one sprite per class, each rigged into a 4-facing walk sheet.",
    "render": "Baseline: the same renderer blitting every visible tile each frame instead of cached 16x16-tile "
    "chunks. Goal: >= 60 FPS at 1280x720 on the 2-core CPU.",
}


def main() -> None:
    files = sorted(RESULTS.glob("*.json"))
    runs = {f.stem: json.loads(f.read_text()) for f in files}
    machine = next(iter(runs.values()))["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/write_report.py). Each row runs the baseline and ours alternately in one",
        "process, 5 repeats each; the table gives the medians and how many times faster ours is (a rate's ratio,",
        "or the baseline's time over ours for rows in ms). The runs of 2026-12-01 were made while other jobs loaded",
        "the 2-core machine (load average 2 to 17): torch's rows (the GANs) slowed up to 30x with the load, so",
        "their absolute rates and ratios are not reliable until `make bench` is run on a quiet machine. The rows",
        "of 2026-12-02 ran on a quiet one (load average about 1).",
        "",
        "| benchmark | baseline (median) | ours (median) | ours faster by | date |",
        "|---|---|---|---|---|",
    ]
    for _stem, run in runs.items():
        for r in run["results"]:
            if "per_seed" in r:
                continue  # ours alone over more samples than the baseline ran: a line below, not a ratio
            faster = 1 / r["ratio"] if r["unit"] == "ms" else r["ratio"]
            lines.append(
                f"| {r['name']} | {r['baseline_median']:,.0f} {r['unit']} | {r['ours_median']:,.1f} {r['unit']} "
                f"| x{faster:.2f} | {run['date']} |"
            )
    for r in (r for run in runs.values() for r in run["results"] if "per_seed" in r):
        ours = r["ours"]
        lines += [
            "",
            f"{r['name']} (ours only): median {ours['median']:.1f} ms, p95 {ours['p95']:.0f} ms, max "
            f"{ours['max']:.0f} ms over {ours['samples']} segments; {ours['optimal_rate']:.1%} proven optimal.",
        ]
    latency = [r for run in runs.values() for r in run["results"] if "latency_ms_median" in r]
    for r in latency:
        lines += [
            "",
            f"{r.get('latency_label', 'One playable room from the level GAN')}: median "
            f"{r['latency_ms_median']:.2f} ms, "
            f"p95 {r['latency_ms_p95']:.2f} ms.",
        ]
    for r in (r for run in runs.values() for r in run["results"] if "tileset_ms_median" in r):
        lines += [
            "",
            f"One whole generated tileset (69 tiles, 32 px): median {r['tileset_ms_median']:.0f} ms.",
        ]
    for r in (r for run in runs.values() for r in run["results"] if "cast_ms_median" in r):
        lines += [
            "",
            f"One seed's whole cast (six GAN sprites, each rigged into walk sheets): median {r['cast_ms_median']:.0f} ms.",
        ]
    quality = [
        r for run in runs.values() for r in run["results"] if "seam_ratio_ours" in r or "kl2_ours" in r
    ]
    if quality:
        lines += ["", "Quality beside the speed (baseline vs ours, from the same run):", ""]
    for r in quality:
        if "seam_ratio_ours" in r:
            lines.append(
                f"- {r['name']}: seam ratio at random cuts {r['seam_ratio_baseline']:.2f} vs {r['seam_ratio_ours']:.2f}; "
                f"Gram distance {r['gram_baseline']:.4f} vs {r['gram_ours']:.4f}; nearest-patch distance "
                f"{r['nearest_patch_baseline']:.3f} vs {r['nearest_patch_ours']:.3f}"
            )
        else:
            lines.append(
                f"- {r['name']}: KL 2x2 / 3x3 / 4x4 {r['kl2_baseline']:.3f} / {r['kl3_baseline']:.2f} / "
                f"{r['kl4_baseline']:.2f} vs {r['kl2_ours']:.3f} / {r['kl3_ours']:.2f} / {r['kl4_ours']:.2f}; "
                f"duplicates {r['duplicates_baseline']:.1%} vs {r['duplicates_ours']:.1%}; needed repair "
                f"{r['needed_repair_baseline']:.1%} vs {r['needed_repair_ours']:.1%}"
            )
    per_core = [r for run in runs.values() for r in run["results"] if "per_core_ratio" in r]
    if per_core:
        lines += ["", "Per core (steps/s divided by the threads or processes each side ran):", ""]
    for r in per_core:
        goal = ""
        if "goal_ratio" in r:
            goal = f"; goal x{r['goal_ratio']} (on the whole-machine ratio): {'met' if r['goal_met'] else 'unmet'}"
        lines.append(
            f"- {r['name']}: baseline {r['baseline_per_core']:,.0f} ({r['baseline_cores']} cores), ours "
            f"{r['ours_per_core']:,.0f} ({r['ours_cores']} cores), x{r['per_core_ratio']:.1f} per core{goal}"
        )
    for r in (r for run in runs.values() for r in run["results"] if "env_share_ours" in r):
        lines += [
            "",
            f"Share of SB3 PPO's training time spent inside the env: ours {r['env_share_ours']:.1%}, DummyVecEnv "
            f"over the single env {r['env_share_baseline']:.1%} (goal for ours: under 10%).",
        ]
    for r in (r for run in runs.values() for r in run["results"] if "http" in r):
        h = r["http"]

        def verdict(ok: bool) -> str:
            return "met" if ok else "**unmet**"

        lines += [
            "",
            "Content server under load (medians of 5 wrk runs, 32 connections):",
            "",
            "| what | requests/s | p99 | goal | |",
            "|---|---|---|---|---|",
            f"| a cached level, 304 to If-None-Match | {h['cached_304_rps']:,.0f} | {h['cached_304_p99_ms']:.1f} ms "
            f"| >= 2,000/s, p99 < 20 ms | {verdict(h['cached_304_rps'] >= 2000 and h['cached_304_p99_ms'] < 20)} |",
            f"| a cached level, 200 from the cache | {h['cached_200_rps']:,.0f} | {h['cached_200_p99_ms']:.1f} ms | | |",
            f"| fresh playable rooms, batched | {h['fresh_rps']:,.0f} | {h['fresh_p99_ms']:.0f} ms "
            f"| >= 500/s, p99 < 100 ms | {verdict(h['fresh_rps'] >= 500 and h['fresh_p99_ms'] < 100)} |",
            f"| fresh playable rooms, batching off | {r['baseline_median']:,.0f} | {h['fresh_unbatched_p99_ms']:.0f} ms "
            f"| batched >= 3x this | {verdict(r['ratio'] >= 3)} (x{r['ratio']:.2f}) |",
            *(
                [
                    f"| fresh playable rooms, batched on the worker threads (context) | "
                    f"{h['fresh_on_threads_rps']:,.0f} | {h['fresh_on_threads_p99_ms']:.0f} ms | | |"
                ]
                if "fresh_on_threads_rps" in h
                else []
            ),
            *(
                [
                    f"| fresh playable rooms, batched, answers also cached on disk (`--cache-dir`) | "
                    f"{h['fresh_disk_cache_rps']:,.0f} | {h['fresh_disk_cache_p99_ms']:.0f} ms | | |"
                ]
                if "fresh_disk_cache_rps" in h
                else []
            ),
            "",
            f"Overhead: HTTP fresh rooms/s over in-process batched rooms/s for the same work = "
            f"{h['fresh_rps']:,.0f} / {h['in_process_rooms_per_s']:,.0f} = {h['overhead_ratio']:.2f}. "
            f"Non-2xx/3xx answers in all runs: {h['bad_responses']}.",
        ]
    lines += ["", "## What each compares", ""]
    lines += [f"- **{stem}**: {NOTES.get(stem, '')}" for stem in runs]
    lines += ["", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in machine.items()]
    lines += ["", "Raw runs: `bench/results/*.json`.", ""]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines))
    print(f"wrote {ROOT / 'docs' / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
