"""Writes docs/benchmarks.md from the JSON files in bench/results/ (run by `make bench` after the benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

NOTES = {
    "agents": "NPC envs. Baseline: MiniGrid DoorKey-8x8, one env, random actions, through gym.make (the usual "
    "way to run it). Ours: the batched VecEnv with its default numba backend, 4,096 envs, random actions; one step "
    "is one NPC decision (two game ticks for the hunter, one for the companion) with its 672-float observation. "
    "Goal: >= 150x MiniGrid's single-env steps/s. The numpy row is the same VecEnv on its numpy backend (the "
    "reference the numba kernels are tested against). The numba step is bound by memory (it writes 11 MB of "
    "observations per step at 4,096 envs) and moves with the host's load: over seven runs on 2026-11-23 the hunter "
    "row read x115 to x207 (median x147); on 2026-11-24 it read x202 and x191 in two full runs, while MiniGrid "
    "held at 8,000 to 8,500 steps/s. The PPO row is SB3 PPO end to end with the training script's own defaults (read from "
    "agents.train.ppo_npc.Args: 128 envs, 64 steps each per rollout, batches of 2,048, 4 epochs, 128x128 policy "
    "and value nets; 32,768 steps): DummyVecEnv over the single env (the World) against our VecEnv; goal >= 2x, "
    "with the env under 10% of training time. Until 2026-11-24 this row ran SB3's default 64x64 nets and "
    "128-step rollouts instead, which put the env's share at 9.5 to 10.8%.",
    "sim": "Baseline: the same World with a fresh BFS for every NPC turn instead of one cached distance field per "
    "tick. The cache changes little at this NPC count: the simulation is already cheap next to rendering. Since NPCs "
    "have roles, every NPC turn also observes the paths to the keys and home (about 45,800 steps/s before, on this "
    "machine).",
    "levels": "Baseline: WaveFunctionCollapse (overlapping model, N=2) on the same corpus. Both sides frame the rooms "
    "with the same door conditions, check them with the solver and repair the unplayable ones (CP-SAT). Goals: "
    ">= 1,000 playable rooms/s batched on 2 CPU cores, <= 10 ms for one room.",
    "textures": "Baseline: a crop of the exemplar photograph with its margins cross-faded onto the opposite edges, "
    "the usual way to make a photo tile (a copy, not a new texture). Ours: the periodic texture GAN, one 256x256 "
    "texture per call on the CPU. Goal: <= 50 ms per texture.",
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
        "process, 5 repeats each; the table gives the medians and the ratio of medians.",
        "",
        "| benchmark | baseline (median) | ours (median) | ours / baseline | date |",
        "|---|---|---|---|---|",
    ]
    for _stem, run in runs.items():
        for r in run["results"]:
            lines.append(
                f"| {r['name']} | {r['baseline_median']:,.0f} {r['unit']} | {r['ours_median']:,.0f} {r['unit']} "
                f"| x{r['ratio']:.2f} | {run['date']} |"
            )
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
    for r in (r for run in runs.values() for r in run["results"] if "env_share_ours" in r):
        lines += [
            "",
            f"Share of SB3 PPO's training time spent inside the env: ours {r['env_share_ours']:.1%}, DummyVecEnv "
            f"over the single env {r['env_share_baseline']:.1%} (goal for ours: under 10%).",
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
