"""Tabular Q-learning: the baseline the PPO hunter is measured against, trained from its seed on the batched env.

    ludoforge train q --role hunter              # ~30 s on 2 CPU cores
    ludoforge train q --role hunter --dry-run

The learner sees the coarse state of agents/policies/q_table.py (7,840 states). Everything goes under
--run-dir/<role>/ (runs/qlearning/hunter/), never into the package: TensorBoard (training and test success
rates), the table <role>_q.safetensors with its JSON card and <role>_q_curve.json. `ludoforge publish
runs/qlearning/hunter` ships it as agents/policies/hunter_q, the table `ludoforge npc eval` plays.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import tyro
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.evaluate import batched_test_episodes
from agents.policies.q_table import N_ACTIONS, N_STATES, coarse_state, greedy
from agents.vector import BatchedNpcEnv
from engine.atomic import atomic_write_json
from engine.errors import InputError
from engine.sim.policy import Role
from procgen.core.training import run_facts
from procgen.core.weights import save_weights

MAX_STEPS = 50_000_000


@dataclass
class Args:
    role: str = "hunter"
    """hunter | guard | companion"""
    seed: int = 1
    """seeds exploration and the envs' episode streams"""
    total_steps: int = 2_000_000
    num_envs: int = 256
    alpha: float = 0.1
    """learning rate"""
    gamma: float = 0.98
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_fraction: float = 0.5
    """fraction of training over which epsilon falls linearly"""
    num_levels: int = 200
    test_levels: int = 100
    eval_every: int = 250_000
    eval_episodes: int = 256
    run_dir: str = "runs/qlearning"
    dry_run: bool = False
    """a few thousand steps into a temporary folder"""


def train(args: Args, command: str | None = None) -> np.ndarray:
    """Train and return the Q table (N_STATES, N_ACTIONS); writes it with a card under the run folder."""
    if args.role not in {r.value for r in Role}:
        raise InputError("role", f"expected one of {[r.value for r in Role]}, got {args.role!r}")
    role = Role(args.role)
    if not 1 <= args.total_steps <= MAX_STEPS:
        raise InputError("total_steps", f"expected 1..{MAX_STEPS}, got {args.total_steps}")
    if args.dry_run:
        args.total_steps, args.num_envs, args.num_levels, args.test_levels = 4096, 32, 8, 8
        args.eval_every, args.eval_episodes = 2048, 16
    root = args.run_dir
    if args.dry_run and root == Args.run_dir:
        root = tempfile.mkdtemp(prefix="ludoforge-dry-run-")
    run_dir = Path(root) / role.value
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    env = BatchedNpcEnv(role, args.num_envs, num_levels=args.num_levels)
    obs = env.reset(np.arange(args.num_envs) + args.seed * 100_003)
    state = coarse_state(obs)
    q = np.zeros((N_STATES, N_ACTIONS), np.float64)
    writer = SummaryWriter(str(run_dir))
    successes: list[float] = []
    curve: list[dict[str, float]] = []
    steps, next_eval, start = 0, 0, time.perf_counter()
    bar = tqdm(total=args.total_steps, unit="step", desc=f"q-learning {role.value}", disable=None)
    while steps < args.total_steps:
        progress = min(1.0, steps / (args.epsilon_fraction * args.total_steps))
        epsilon = args.epsilon_start + progress * (args.epsilon_end - args.epsilon_start)
        explore = rng.random(args.num_envs) < epsilon
        actions = np.where(explore, rng.integers(0, N_ACTIONS, args.num_envs), q[state].argmax(axis=1))
        obs, reward, terminated, _, info = env.step(actions)
        next_state = coarse_state(obs)
        # A finished env's next observation is its new episode's first: bootstrap from its final one instead.
        target_state = next_state.copy()
        done = info["done"]
        if done.any():
            target_state[done] = coarse_state(info["final_obs"])
            successes += info["success"].astype(float).tolist()
        target = reward + args.gamma * q[target_state].max(axis=1) * ~terminated
        # Several envs may update one cell in a step: apply each update in turn, as sequential learners would.
        for s, a, t in zip(state, actions, target, strict=True):
            q[s, a] += args.alpha * (t - q[s, a])
        state = next_state
        steps += args.num_envs
        bar.update(args.num_envs)
        if steps >= next_eval or steps >= args.total_steps:
            next_eval += args.eval_every
            test_success, test_metric = batched_test_episodes(
                lambda obs: greedy(q, obs), role, args.eval_episodes, args.test_levels
            )
            train_success = float(np.mean(successes[-500:])) if successes else float("nan")
            curve.append({"steps": steps, "test_success": test_success, "train_success": train_success})
            writer.add_scalar("eval/test_success", test_success, steps)
            writer.add_scalar("eval/test_role_metric", test_metric, steps)
            writer.add_scalar("rollout/success_rate", train_success, steps)
            writer.add_scalar("rollout/epsilon", epsilon, steps)
    bar.close()
    writer.close()
    card = {
        "kind": "ludoforge.q_table",
        "role": role.value,
        "publish_as": f"agents/policies/{role.value}_q",
        "command": command or "python -m agents.train.qlearning " + shlex.join(sys.argv[1:]),
        "seed": args.seed,
        "args": asdict(args),
        "states": "toward-player hint x player seen x clipped offset x blocked neighbours",
        "config": {
            "n_states": N_STATES,
            "n_actions": N_ACTIONS,
            "table": "q (n_states, n_actions) float64",
            "state": "agents.policies.q_table.coarse_state",
        },
        "curve": curve,
    } | run_facts(time.perf_counter() - start)
    # A trainer never writes into agents/policies/: `ludoforge publish` does, after checking the card.
    path = save_weights(run_dir / f"{role.value}_q", {"q": torch.from_numpy(q)}, card)
    atomic_write_json(run_dir / f"{role.value}_q_curve.json", curve, indent=1)
    print(f"{role.value}: test success {curve[-1]['test_success']:.3f}; table → {path}")
    return q


def main(argv: list[str] | None = None, prog: str = "python -m agents.train.qlearning") -> None:
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    train(args, f"{prog} " + shlex.join(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
