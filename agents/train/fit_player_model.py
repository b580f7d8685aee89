"""Fit the player model (agents/narrator/player_model.py) on simulated players, and measure how well it tells
them apart on unseen dungeons.

    ludoforge train player-model                 # ~3 min on 2 CPU cores
    ludoforge train player-model --dry-run

Each training persona plays `episodes` runs on training dungeons, narrated half the time by the silent and
half by the rule-based narrator (so the model sees play with and without help). Every two-second window's
features go into a Gaussian per persona and feature. The test: the same personas on test dungeons (seeds from
1,000,000), where the model's most likely persona after 30 s and at the end of the run is compared with the
truth; and the held-out personas, whose mean posterior says which training personas they resemble. The result
is runs/player_model/player_model.json, with its card fields inside (never the package's copy: `ludoforge
publish runs/player_model` ships it as agents/policies/player_model.json, which the narrator reads).
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tyro
from tqdm import tqdm

from agents.envs.narrator_env import TEST_START_LEVEL, NarratorEnv
from agents.narrator.baselines import RuleBasedNarrator, SilentNarrator
from agents.narrator.player_model import FEATURES, TYPES, PlayerModel
from agents.narrator.players import HELD_OUT_TYPES
from engine.atomic import atomic_write_json
from engine.errors import InputError
from procgen.core.training import run_facts

MAX_EPISODES = 5_000
EARLY_WINDOWS = 15  # 30 s of play


@dataclass
class Args:
    seed: int = 1
    episodes: int = 40
    """training runs per persona"""
    test_episodes: int = 30
    """test runs per persona (training and held-out)"""
    num_levels: int = 500
    run_dir: str = "runs/player_model"
    out: str | None = None
    """output file; default <run-dir>/player_model.json (publish it with `ludoforge publish <run-dir>`)"""
    dry_run: bool = False


def windows_of(env: NarratorEnv, kind: str, episodes: int, start: int, seed: int) -> list[np.ndarray]:
    """Each run's window features, (windows, len(FEATURES)), for one persona."""
    runs = []
    for k in range(episodes):
        narrator = SilentNarrator() if k % 2 == 0 else RuleBasedNarrator()
        obs, _ = env.reset(seed=seed + k, options={"player_type": kind, "level": start + k})
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(narrator.act(obs))
            done = terminated or truncated
        env.run.close_window()
        if env.run.windows:
            runs.append(np.stack(env.run.windows))
    return runs


def fit(args: Args, command: str | None = None) -> Path:
    if not 1 <= args.episodes <= MAX_EPISODES:
        raise InputError("episodes", f"expected 1..{MAX_EPISODES}, got {args.episodes}")
    if args.dry_run:
        args.episodes, args.test_episodes, args.num_levels = 2, 2, 4
    root = args.run_dir
    if args.dry_run and root == Args.run_dir:
        root = tempfile.mkdtemp(prefix="ludoforge-dry-run-")
    # A trainer never writes into agents/policies/: `ludoforge publish` does, after checking the card.
    out = Path(args.out) if args.out else Path(root) / "player_model.json"
    start = time.perf_counter()
    env = NarratorEnv(num_levels=args.num_levels, player_model=False, jitter=0.1)
    train = {}
    for kind in tqdm(TYPES, desc="player model: training runs", disable=None):
        train[kind] = np.concatenate(windows_of(env, kind, args.episodes, 0, args.seed * 100_000))
    model = PlayerModel.fit(train)

    def classify(runs: list[np.ndarray], limit: int | None) -> list[np.ndarray]:
        posteriors = []
        for run in runs:
            model.reset()
            for features in run[:limit]:
                model.update(features)
            posteriors.append(model.posterior())
        return posteriors

    accuracy, held_out = {}, {}
    for kind in TYPES:
        runs = windows_of(env, kind, args.test_episodes, TEST_START_LEVEL, 7_000_000)
        truth = TYPES.index(kind)
        accuracy[kind] = {
            "after_30s": float(np.mean([p.argmax() == truth for p in classify(runs, EARLY_WINDOWS)])),
            "end_of_run": float(np.mean([p.argmax() == truth for p in classify(runs, None)])),
        }
    for kind in HELD_OUT_TYPES:
        runs = windows_of(env, kind, args.test_episodes, TEST_START_LEVEL, 7_000_000)
        mean = np.mean(classify(runs, None), axis=0)
        held_out[kind] = {t: round(float(v), 3) for t, v in zip(TYPES, mean, strict=True)}
    data = (
        model.to_dict()
        | {
            "kind": "ludoforge.player_model",
            "publish_as": "agents/policies/player_model",
            "command": command or "ludoforge train player-model",
            "seed": args.seed,
            "args": asdict(args),
            "data": {
                "training_runs": {t: args.episodes for t in TYPES},
                "windows": {t: len(train[t]) for t in TYPES},
                "narrators": "silent and rule-based, alternating",
                "train_levels": [0, args.num_levels - 1],
                "test_levels_from": TEST_START_LEVEL,
            },
            "metrics": {
                "map_accuracy": accuracy,
                "mean_accuracy_after_30s": float(np.mean([a["after_30s"] for a in accuracy.values()])),
                "mean_accuracy_end_of_run": float(np.mean([a["end_of_run"] for a in accuracy.values()])),
                "held_out_mean_posterior": held_out,
                "chance": 1.0 / len(TYPES),
            },
            "feature_names": list(FEATURES),
        }
        | run_facts(time.perf_counter() - start)
    )
    atomic_write_json(out, data, indent=1)
    return out


def main(argv: list[str] | None = None, prog: str = "ludoforge train player-model") -> None:
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    path = fit(args, " ".join([prog, *map(shlex.quote, argv if argv is not None else sys.argv[1:])]))
    metrics = json.loads(path.read_text())["metrics"]
    print(
        f"wrote {path}: most likely persona right {metrics['mean_accuracy_after_30s']:.0%} after 30 s, "
        f"{metrics['mean_accuracy_end_of_run']:.0%} at the end (chance {metrics['chance']:.0%})"
    )


if __name__ == "__main__":
    main()
