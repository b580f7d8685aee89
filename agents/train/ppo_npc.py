"""Train one NPC role with SB3 PPO on the batched VecEnv, then export the policy to ONNX with its card.

    ludoforge train npc --role hunter                 # ~10 min on 2 CPU cores
    ludoforge train npc --role guard --total-steps 3000000
    ludoforge train npc --role hunter --dry-run       # the whole pipeline in seconds, into a temporary folder

Everything goes under --run-dir/<role>/ (runs/npc/hunter/; runs/npc/hunter_seed2/ for `--seed 2`, and
hunter_memory4/ for `--memory 4`), never into the package: TensorBoard logs
(`tensorboard --logdir runs/npc`: PPO's losses, training success by curriculum lesson, and success and the role
metric on unseen test levels every `--eval-every` steps), checkpoints (the policy's tensors as safetensors), the
learning curve (<role>_curve.png) and the result, <role>.onnx plus <role>.safetensors and <role>.json (the card:
command, seed, steps, data, test results against the scripted baseline and random). `ludoforge publish
runs/npc/hunter` ships it as agents/policies/hunter.*, which the game loads.
"""

from __future__ import annotations

import hashlib
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import tyro
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from tqdm import tqdm

from agents.envs.arenas import TEST_START_LEVEL
from agents.evaluate import batched_test_episodes, compare, onnx_actor
from agents.memory import MAX_FRAMES, MemoryVecEnv
from agents.observation import OBS_SIZE, layout_table
from agents.policies.export import export_onnx, greedy_parity
from agents.train.curriculum import CURRICULA_DIR, CurriculumCallback, load_curriculum
from agents.vector import BatchedNpcEnv, NpcVecEnv
from engine.errors import InputError
from engine.sim.policy import Role
from procgen.core.device import select_device
from procgen.core.training import publish_target, run_facts, seeded_name
from procgen.core.weights import load_weights, save_weights

MAX_STEPS = 50_000_000
MAX_ENVS = 4096


@dataclass
class Args:
    role: str = "hunter"
    """hunter | guard | companion"""
    seed: int = 1
    """seeds torch, numpy and the envs' episode streams"""
    total_steps: int = 2_000_000
    """environment steps (NPC decisions) to train for"""
    num_envs: int = 128
    """envs stepped together in the batched VecEnv"""
    n_steps: int = 64
    """rollout length per env between PPO updates"""
    batch_size: int = 2048
    n_epochs: int = 4
    learning_rate: float = 3e-4
    gamma: float = 0.98
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    memory: int = 1
    """decisions the policy sees at once (agents.memory): 1 is the shipped policy's single observation; K > 1
    trains a variant with memory, `<role>_memory<K>`, that can infer the player's style from how they move"""
    net: tuple[int, ...] = (128, 128)
    """hidden layer sizes of the policy and value MLPs"""
    level_source: str = "gan"
    """gan | corpus: where the training and test rooms come from"""
    num_levels: int = 200
    """training level seeds: start_level .. start_level + num_levels - 1"""
    start_level: int = 0
    test_levels: int = 100
    """test level seeds, from 1,000,000 up: never seen in training"""
    curriculum: str = "default"
    """a curriculum YAML, "default" (agents/train/curricula/<role>.yaml) or "none\""""
    eval_every: int = 200_000
    """steps between evaluations on the test levels"""
    eval_episodes: int = 256
    checkpoint_every: int = 500_000
    card_episodes: int = 200
    """episodes per policy for the card's comparison with the scripted baseline and random"""
    run_dir: str = "runs/npc"
    publish_as: str = "auto"
    """where `ludoforge publish` ships the run: "auto" is the shipped policy (agents/policies/<role>) for
    seed 1 and a sibling seed (agents/policies/seeds/<role>_seed<N>, which the eval aggregates) otherwise"""
    policy_out: str | None = None
    """output stem (writes .onnx, .safetensors and .json); default <run-dir>/<role>/<role> (publish it with
    `ludoforge publish <run-dir>/<role>`)"""
    from_checkpoint: str | None = None
    """start from a checkpoint's tensors (a stem under <run-dir>/<role>/checkpoints/)"""
    device: str = "auto"
    """auto | cpu | cuda | cuda:N"""
    threads: int = 0
    """torch CPU threads (0: torch's default)"""
    dry_run: bool = False
    """a few thousand steps into a temporary folder: checks the whole pipeline in seconds"""


class TestLevelEval(BaseCallback):
    """Every `every` steps: greedy success rate and role metric on the test levels (batched), logged and kept
    for the learning curve."""

    def __init__(self, args: Args, every: int) -> None:
        super().__init__()
        self.args, self.every, self.next_at = args, every, 0
        self.curve: list[dict[str, float]] = []

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at += self.every
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        self.evaluate()

    def evaluate(self) -> None:
        a = self.args
        success, metric = batched_test_episodes(
            lambda obs: self.model.predict(obs, deterministic=True)[0],
            Role(a.role),
            a.eval_episodes,
            a.test_levels,
            a.level_source,
            frames=a.memory,
        )
        point = {"steps": self.num_timesteps, "test_success": success, "test_metric": metric}
        point["train_success"] = float(np.mean(self.model.ep_success_buffer or [np.nan]))
        self.curve.append(point)
        self.logger.record("eval/test_success", success)
        self.logger.record("eval/test_role_metric", metric)


class Progress(BaseCallback):
    """A tqdm bar over environment steps (quiet when not on a terminal), plus safetensors checkpoints."""

    def __init__(self, total: int, checkpoint_every: int, folder: Path, card: dict) -> None:
        super().__init__()
        self.total, self.every, self.folder, self.card = total, checkpoint_every, folder, card
        self.next_at = checkpoint_every

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, unit="step", desc="train npc", disable=None)

    def _on_step(self) -> bool:
        self.bar.update(self.model.n_envs)
        if self.num_timesteps >= self.next_at:
            self.next_at += self.every
            stem = self.folder / f"step_{self.num_timesteps:09d}"
            save_weights(
                stem, dict(self.model.policy.state_dict()), self.card | {"steps": self.num_timesteps}
            )
        return True

    def _on_training_end(self) -> None:
        self.bar.close()


def plot_curve(curve: list[dict[str, float]], role: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [p["steps"] / 1e6 for p in curve]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    ax.plot(steps, [p["test_success"] for p in curve], marker="o", label="test levels (greedy)")
    ax.plot(steps, [p["train_success"] for p in curve], marker=".", alpha=0.7, label="training (sampled)")
    ax.set_xlabel("environment steps (millions)")
    ax.set_ylabel("success rate")
    ax.set_title(f"{role}: PPO learning curve")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def train(args: Args, command: str | None = None) -> Path:
    """Train, export the ONNX policy and its card, return the .onnx path."""
    if args.role not in {r.value for r in Role}:
        raise InputError("role", f"expected one of {[r.value for r in Role]}, got {args.role!r}")
    role = Role(args.role)
    if role is Role.VILLAGER:
        raise InputError("role", "expected hunter, guard or companion (villagers wander by script)")
    if not 1 <= args.total_steps <= MAX_STEPS:
        raise InputError("total_steps", f"expected 1..{MAX_STEPS}, got {args.total_steps}")
    if not 1 <= args.num_envs <= MAX_ENVS:
        raise InputError("num_envs", f"expected 1..{MAX_ENVS}, got {args.num_envs}")
    if args.dry_run:
        args.total_steps, args.num_envs, args.n_steps, args.batch_size = 2048, 16, 64, 256
        args.num_levels, args.test_levels, args.eval_every, args.eval_episodes = 8, 8, 1024, 16
        args.checkpoint_every, args.card_episodes = 1024, 4
    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.run_dir
    if args.dry_run and root == Args.run_dir:
        root = tempfile.mkdtemp(prefix="ludoforge-dry-run-")
    if not 1 <= args.memory <= MAX_FRAMES:
        raise InputError("memory", f"expected 1..{MAX_FRAMES} decisions, got {args.memory}")
    name = role.value if args.memory == 1 else f"{role.value}_memory{args.memory}"
    # One folder per run: seeds other than the shipped one get their own, so they never overwrite it.
    run_dir = Path(root) / seeded_name(name, args.seed)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    # A trainer never writes into agents/policies/: `ludoforge publish` does, after checking the card.
    out = Path(args.policy_out) if args.policy_out and not args.dry_run else run_dir / name
    command = command or "python -m agents.train.ppo_npc " + shlex.join(sys.argv[1:])

    vec_env: VecEnv = NpcVecEnv(
        role,
        args.num_envs,
        level_source=args.level_source,
        num_levels=args.num_levels,
        start_level=args.start_level,
    )
    if args.memory > 1:
        vec_env = MemoryVecEnv(vec_env, args.memory)
    env = VecMonitor(vec_env)
    env.seed(args.seed)
    device = select_device(args.device)
    model = PPO(
        "MlpPolicy",
        env,
        learning_rate=args.learning_rate,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        gamma=args.gamma,
        gae_lambda=args.gae_lambda,
        clip_range=args.clip_range,
        ent_coef=args.ent_coef,
        policy_kwargs={"net_arch": {"pi": list(args.net), "vf": list(args.net)}},
        tensorboard_log=str(run_dir),
        seed=args.seed,
        device=device,
        verbose=0,
    )
    if args.from_checkpoint:
        tensors, _ = load_weights(run_dir / "checkpoints" / args.from_checkpoint)
        model.policy.load_state_dict(tensors)
    card: dict = {
        "kind": "ludoforge.npc_policy",
        "role": role.value,
        "publish_as": publish_target(args.publish_as, name, args.seed),
        "command": command,
        "seed": args.seed,
        "args": asdict(args),
        "data": {
            "level_source": args.level_source,
            "train_levels": [args.start_level, args.start_level + args.num_levels - 1],
            "test_levels": [TEST_START_LEVEL, TEST_START_LEVEL + args.test_levels - 1],
        },
        "config": {
            "net": list(args.net),
            "obs_size": OBS_SIZE * args.memory,
            "memory": args.memory,
            "n_actions": 5,
            "policy": "sb3 MlpPolicy",
        },
        "observation": {
            "size": OBS_SIZE,
            "frames": args.memory,
            "stacking": "the last `frames` observations, oldest first, zeros before the episode (agents/memory.py)",
            "layout": layout_table(),
        },
        "actions": ["stay", "up", "down", "left", "right"],
    }
    if card["publish_as"] == f"agents/policies/{role.value}":
        # The learning curve of the shipped policy is the one docs/agents_eval.md shows.
        card["publish_extras"] = {f"{role.value}_curve.png": f"docs/img/npc_{role.value}_curve.png"}
    callbacks: list[BaseCallback] = [
        Progress(args.total_steps, args.checkpoint_every, run_dir / "checkpoints", card)
    ]
    evaluator = TestLevelEval(args, args.eval_every)
    callbacks.append(evaluator)
    curriculum = None
    if args.curriculum != "none":
        path = CURRICULA_DIR / f"{role.value}.yaml" if args.curriculum == "default" else Path(args.curriculum)
        curriculum = CurriculumCallback(load_curriculum(path))
        callbacks.append(curriculum)
        card["curriculum"] = str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)

    start = time.perf_counter()
    model.learn(args.total_steps, callback=CallbackList(callbacks), tb_log_name="ppo")
    seconds = time.perf_counter() - start

    onnx_path = export_onnx(model.policy, out.with_suffix(".onnx"), frames=args.memory)
    probe = BatchedNpcEnv(role, 256, args.level_source, args.test_levels, TEST_START_LEVEL)
    parity = greedy_parity(model.policy, onnx_path, probe, steps=40, seed=args.seed, frames=args.memory)
    results = compare(role, onnx_actor(onnx_path), args.card_episodes, seed=0, num_levels=args.test_levels)
    card |= (
        {
            "steps": int(model.num_timesteps),
            "onnx_parity": parity,
            "curve": evaluator.curve,
            "curriculum_lessons": curriculum.history if curriculum else [],
            "results_on_test_levels": {
                name: {k: {"mean": v.mean, "ci95": v.half_width, "n": v.n} for k, v in est.items()}
                for name, est in results.items()
            },
        }
        | run_facts(seconds, device)
        | {"versions": run_facts(None)["versions"] | _rl_versions()}
    )
    card["onnx_sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    # The torch policy's tensors ship beside the ONNX file (the card is their JSON), so the parity test can
    # hold one to the other.
    save_weights(out, dict(model.policy.state_dict()), card)
    plot_curve(evaluator.curve, name, out.with_name(f"{role.value}_curve.png"))
    trained = results["trained"]["success"]
    strongest = results["strongest scripted"]["success"]
    print(f"{role.value}: test success {trained} (strongest scripted {strongest}); policy → {onnx_path}")
    return onnx_path


def _rl_versions() -> dict[str, str]:
    import gymnasium
    import onnxruntime
    import stable_baselines3

    return {
        "stable_baselines3": stable_baselines3.__version__,
        "gymnasium": gymnasium.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def main(argv: list[str] | None = None, prog: str = "python -m agents.train.ppo_npc") -> None:
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    command = f"{prog} " + shlex.join(argv if argv is not None else sys.argv[1:])
    train(args, command)


if __name__ == "__main__":
    main()
