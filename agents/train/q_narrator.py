"""Tabular Q-learning for the narrator: the classic baseline (from the seeds) the PPO narrator is measured
against, on the same env, player types and training dungeons.

    ludoforge train narrator-q                  # ~5 min on 2 CPU cores
    ludoforge train narrator-q --dry-run

The learner sees the coarse state that `agents.narrator.q_table` defines (144 states by 11 interventions).
The table and its card go to
--run-dir (runs/narrator_q/narrator_q.safetensors and .json), with the TensorBoard logs (episode returns and
outcomes); `ludoforge publish runs/narrator_q` ships it as agents/policies/narrator_q, which the narrator
evaluation reads.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import tyro
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.envs.narrator_env import NarratorEnv
from agents.narrator.q_table import N_ACTIONS, N_STATES, coarse_state
from agents.narrator.session import INTERVENTIONS
from engine.errors import InputError
from procgen.core.training import run_facts
from procgen.core.weights import save_weights

MAX_EPISODES = 200_000


@dataclass
class Args:
    seed: int = 1
    """seeds exploration and the env"""
    episodes: int = 2000
    """training episodes (runs of a simulated player)"""
    alpha: float = 0.1
    """learning rate"""
    gamma: float = 0.99
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_fraction: float = 0.6
    """fraction of training over which epsilon falls linearly"""
    num_levels: int = 500
    run_dir: str = "runs/narrator_q"
    table_out: str | None = None
    """output stem (writes .safetensors and .json); default <run-dir>/narrator_q (publish it with
    `ludoforge publish <run-dir>`)"""
    dry_run: bool = False
    """a few episodes into a temporary folder"""


def train(args: Args, command: str | None = None) -> Path:
    """Train the table and write it with its card; returns the .safetensors path."""
    if not 1 <= args.episodes <= MAX_EPISODES:
        raise InputError("episodes", f"expected 1..{MAX_EPISODES}, got {args.episodes}")
    if args.dry_run:
        args.episodes, args.num_levels = 6, 4
    root = args.run_dir
    if args.dry_run and root == Args.run_dir:
        root = tempfile.mkdtemp(prefix="ludoforge-dry-run-")
    # A trainer never writes into agents/policies/: `ludoforge publish` does, after checking the card.
    out = Path(args.table_out) if args.table_out and not args.dry_run else Path(root) / "narrator_q"
    rng = np.random.default_rng(args.seed)
    env = NarratorEnv(num_levels=args.num_levels)
    q = np.zeros((N_STATES, N_ACTIONS), np.float64)
    writer = SummaryWriter(str(Path(root) / f"q__{args.seed}__{int(time.time())}"))
    recent: deque[str] = deque(maxlen=200)
    steps, start = 0, time.perf_counter()
    for episode in tqdm(range(args.episodes), unit="episode", desc="q-learning narrator", disable=None):
        progress = min(1.0, episode / (args.epsilon_fraction * args.episodes))
        epsilon = args.epsilon_start + progress * (args.epsilon_end - args.epsilon_start)
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        state, ret, done = coarse_state(obs), 0.0, False
        while not done:
            action = int(rng.integers(N_ACTIONS)) if rng.random() < epsilon else int(q[state].argmax())
            obs, reward, terminated, truncated, info = env.step(action)
            next_state = coarse_state(obs)
            target = reward + (0.0 if terminated else args.gamma * q[next_state].max())
            q[state, action] += args.alpha * (target - q[state, action])
            state, ret, done = next_state, ret + reward, terminated or truncated
            steps += 1
        recent.append(info["outcome"])
        writer.add_scalar("charts/episodic_return", ret, steps)
        writer.add_scalar("charts/epsilon", epsilon, steps)
        for outcome in ("won", "quit", "died"):
            writer.add_scalar(f"charts/{outcome}", recent.count(outcome) / len(recent), steps)
    writer.close()
    card = {
        "kind": "ludoforge.narrator_q_table",
        "publish_as": "agents/policies/narrator_q",
        "command": command or "ludoforge train narrator-q",
        "seed": args.seed,
        "args": asdict(args),
        "data": {
            "training_types": "agents.narrator.players.TRAINING_TYPES",
            "train_levels": [0, args.num_levels - 1],
        },
        "states": "health (3) x stalled (2) x tension vs pacing (3) x talked recently (2) x hunted (2) x beat (2)",
        "actions": [c.value for c in INTERVENTIONS],
        "config": {"n_states": N_STATES, "n_actions": N_ACTIONS, "table": "q (n_states, n_actions) float64"},
        "steps": steps,
        "last_200": {o: recent.count(o) / len(recent) for o in ("won", "quit", "died", "timeout")},
    } | run_facts(time.perf_counter() - start)
    return save_weights(out, {"q": torch.from_numpy(q)}, card)


def main(argv: list[str] | None = None, prog: str = "ludoforge train narrator-q") -> None:
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    path = train(args, " ".join([prog, *map(shlex.quote, argv if argv is not None else sys.argv[1:])]))
    print(f"wrote {path} and its card {path.with_suffix('.json')}")


if __name__ == "__main__":
    main()
