"""NPC env speed, in one process: MiniGrid DoorKey-8x8 (one env, random actions) against our batched VecEnv, and
SB3 PPO end to end on our VecEnv against DummyVecEnv over the single env.

MiniGrid is a bench-only extra (`make bench` installs it with --no-deps so pygame-ce stays); without it the
first comparison uses our own single env as the baseline and says so.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import compare, save

from agents.envs.npc_env import HunterEnv
from agents.train.ppo_npc import Args as NpcTrainingArgs
from agents.vector import BatchedNpcEnv, NpcVecEnv

NPC_TRAINING = NpcTrainingArgs()
"""PPO runs with the training script's own defaults, so the env's share is the share in real training"""

SINGLE_STEPS = 20_000
BATCH = 4096
BATCH_STEPS = 200
PPO_ENVS = NPC_TRAINING.num_envs
PPO_STEPS = 32_768


def single_env_runner(make_env, n_actions: int):
    env = make_env()
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, n_actions, SINGLE_STEPS)

    def work() -> int:
        for a in actions:
            _, _, terminated, truncated, _ = env.step(int(a))
            if terminated or truncated:
                env.reset()
        return SINGLE_STEPS

    return work


def batched_runner(role: str, backend: str = "numba"):
    env = BatchedNpcEnv(role, BATCH, num_levels=200, backend=backend)
    env.reset(np.arange(BATCH))
    actions = np.random.default_rng(0).integers(0, 5, (BATCH_STEPS, BATCH))

    def work() -> int:
        for a in actions:
            env.step(a)
        return BATCH * BATCH_STEPS

    return work


class TimedVecEnv:
    """Wraps a VecEnv's step_wait to add up the time spent inside the env."""

    def __init__(self, venv) -> None:
        self.venv, self.seconds = venv, 0.0
        inner = venv.step_wait

        def timed():
            start = time.perf_counter()
            out = inner()
            self.seconds += time.perf_counter() - start
            return out

        venv.step_wait = timed


def ppo_runner(make_venv, shares: list[float]):
    from stable_baselines3 import PPO

    def work() -> int:
        venv = make_venv()
        timer = TimedVecEnv(venv)
        model = PPO(
            "MlpPolicy",
            venv,
            n_steps=NPC_TRAINING.n_steps,
            batch_size=NPC_TRAINING.batch_size,
            n_epochs=NPC_TRAINING.n_epochs,
            policy_kwargs={"net_arch": {"pi": list(NPC_TRAINING.net), "vf": list(NPC_TRAINING.net)}},
            seed=0,
            device="cpu",
            verbose=0,
        )
        start = time.perf_counter()
        model.learn(PPO_STEPS)
        shares.append(timer.seconds / (time.perf_counter() - start))
        return PPO_STEPS

    return work


def main() -> None:
    results = []
    try:
        import gymnasium as gym
        import minigrid  # noqa: F401

        def baseline():
            return gym.make("MiniGrid-DoorKey-8x8-v0")

        baseline_name, baseline_actions = "MiniGrid DoorKey-8x8, 1 env", 7
    except ImportError:
        baseline, baseline_name, baseline_actions = HunterEnv, "our Hunter single env (minigrid missing)", 5
    for role in ("hunter", "companion"):
        results.append(
            compare(
                f"{role} VecEnv x{BATCH} vs {baseline_name}",
                "steps/s",
                single_env_runner(baseline, baseline_actions),
                batched_runner(role),
                baseline_env=baseline_name,
                goal_ratio=150,
            )
        )
    results.append(
        compare(
            f"hunter VecEnv x{BATCH}: numpy backend vs numba backend",
            "steps/s",
            batched_runner("hunter", "numpy"),
            batched_runner("hunter", "numba"),
        )
    )
    results.append(
        compare(
            "Hunter single env (World) vs MiniGrid",
            "steps/s",
            single_env_runner(baseline, baseline_actions),
            single_env_runner(lambda: HunterEnv(num_levels=200), 5),
        )
    )
    from stable_baselines3.common.vec_env import DummyVecEnv

    ours_share: list[float] = []
    base_share: list[float] = []
    ppo = compare(
        f"SB3 PPO end to end, {PPO_ENVS} envs: DummyVecEnv vs ours",
        "steps/s",
        ppo_runner(lambda: DummyVecEnv([lambda: HunterEnv(num_levels=200)] * PPO_ENVS), base_share),
        ppo_runner(lambda: NpcVecEnv("hunter", PPO_ENVS, num_levels=200), ours_share),
        goal_ratio=2,
    )
    ppo["env_share_ours"], ppo["env_share_baseline"] = (
        float(np.median(ours_share)),
        float(np.median(base_share)),
    )
    print(
        f"  share of PPO time inside the env: ours {ppo['env_share_ours']:.1%}, DummyVecEnv {ppo['env_share_baseline']:.1%}"
    )
    results.append(ppo)
    save("agents", results)


if __name__ == "__main__":
    main()
