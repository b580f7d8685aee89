"""NPC env speed at equal batch, in one process: our batched VecEnv against MiniGrid DoorKey-8x8 run N at a time
through EnvPool (its C++ MiniGrid, 2 threads), Gymnasium's SyncVectorEnv and Gymnasium's AsyncVectorEnv (2
worker processes of N/2 envs each), at N = 256 and 4,096; steps/s and steps/s per core. Also the single env
(the World) against one MiniGrid env, and SB3 PPO end to end on our VecEnv against DummyVecEnv.

The baselines are bench-only extras, installed by hand or by `make bench`:

    .venv/bin/pip install --no-deps minigrid==3.2.0   # --no-deps keeps pygame-ce (minigrid pulls in pygame)
    .venv/bin/pip install -c constraints.txt envpool==1.2.5

A baseline that is not installed is left out, and the run says so.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import gymnasium as gym
import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import compare, save

from agents.envs.npc_env import HunterEnv
from agents.train.ppo_npc import Args as NpcTrainingArgs
from agents.vector import BatchedNpcEnv, NpcVecEnv
from agents.vector_kernels import parallel_for

NPC_TRAINING = NpcTrainingArgs()
"""PPO runs with the training script's own defaults, so the env's share is the share in real training"""

MINIGRID = "MiniGrid-DoorKey-8x8-v0"
MINIGRID_ACTIONS = 7
ENV_COUNTS = (256, 4096)
GOALS = {256: 5, 4096: 10}
"""issue 17: ours / EnvPool at equal batch"""
ENVPOOL_THREADS = 2
ASYNC_WORKERS = 2
ENV_STEPS = 300_000
"""env steps per timed run of a fast env (EnvPool, ours); the Gymnasium vector envs run SLOW_ENV_STEPS"""
SLOW_ENV_STEPS = 10_000
SINGLE_STEPS = 20_000
PPO_ENVS = NPC_TRAINING.num_envs
PPO_STEPS = 32_768


def _minigrid() -> gym.Env:
    from minigrid.wrappers import ImgObsWrapper

    return ImgObsWrapper(gym.make(MINIGRID))  # the 7x7x3 image, what a MiniGrid policy reads


def _random_actions(n: int, steps: int, actions: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, actions, (steps, n))


def ours_runner(role: str, n: int, threads: int | None = None):
    """Our VecEnv; `threads` caps numba's threads while it steps (1: the serial kernels at any batch)."""
    env = BatchedNpcEnv(role, n, num_levels=200)
    env.reset(np.arange(n))
    actions = _random_actions(n, max(ENV_STEPS // n, 20), 5)

    def work() -> int:
        default = numba.get_num_threads()
        numba.set_num_threads(threads or default)
        try:
            for a in actions:
                env.step(a)
        finally:
            numba.set_num_threads(default)
        return actions.size

    return work


def envpool_runner(n: int):
    import envpool

    env = envpool.make(
        MINIGRID, env_type="gymnasium", num_envs=n, batch_size=n, num_threads=ENVPOOL_THREADS, seed=0
    )
    env.reset()
    actions = _random_actions(n, max(ENV_STEPS // n, 20), MINIGRID_ACTIONS)

    def work() -> int:
        for a in actions:
            env.step(a)
        return actions.size

    return work


def sync_runner(n: int):
    env = gym.vector.SyncVectorEnv([_minigrid] * n)
    env.reset(seed=0)
    actions = _random_actions(n, max(SLOW_ENV_STEPS // n, 3), MINIGRID_ACTIONS)

    def work() -> int:
        for a in actions:
            env.step(a)
        return actions.size

    return work


class WorkerEnvs(gym.Env):
    """n MiniGrid envs in one SyncVectorEnv, as one sub-env of an AsyncVectorEnv: the usual way to run many envs
    on a few worker processes with Gymnasium (AsyncVectorEnv itself runs one process per sub-env). Rewards and
    dones ride in `info`; the observations go through AsyncVectorEnv's shared memory."""

    def __init__(self, n: int) -> None:
        self.envs = gym.vector.SyncVectorEnv([_minigrid] * n)
        self.observation_space = gym.spaces.Box(0, 255, (n, 7, 7, 3), np.uint8)
        self.action_space = gym.spaces.MultiDiscrete([MINIGRID_ACTIONS] * n)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, _ = self.envs.reset(seed=seed)
        return obs, {}

    def step(self, action):
        obs, reward, terminated, truncated, _ = self.envs.step(action)
        return obs, 0.0, False, False, {"reward": reward, "terminated": terminated, "truncated": truncated}


def async_runner(n: int):
    half = n // ASYNC_WORKERS
    env = gym.vector.AsyncVectorEnv(
        [lambda: WorkerEnvs(half)] * ASYNC_WORKERS, shared_memory=True, context="spawn"
    )
    env.reset(seed=0)
    actions = _random_actions(n, max(SLOW_ENV_STEPS // n, 3), MINIGRID_ACTIONS)

    def work() -> int:
        for a in actions:
            env.step(a.reshape(ASYNC_WORKERS, half))
        return actions.size

    return work


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


def _available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        print(f"  ({module} is not installed: its rows are left out; see this script's docstring)")
        return False
    return True


def equal_batch_rows() -> list[dict]:
    """Ours against each MiniGrid baseline at each env count, with steps/s per core."""
    baselines = []
    if _available("envpool"):
        baselines.append(("EnvPool", f"{ENVPOOL_THREADS} threads", ENVPOOL_THREADS, envpool_runner))
    if _available("minigrid"):
        baselines.append(("Gymnasium SyncVectorEnv", "1 process", 1, sync_runner))
        workers = f"{ASYNC_WORKERS} worker processes of N/{ASYNC_WORKERS} envs"
        baselines.append(("Gymnasium AsyncVectorEnv", workers, ASYNC_WORKERS, async_runner))
    rows = []
    for n in ENV_COUNTS:
        our_cores = numba.get_num_threads() if parallel_for(n) else 1
        for role in ("hunter", "companion"):
            ours = ours_runner(role, n)
            for name, settings, cores, runner in baselines:
                if role == "companion" and name != "EnvPool":
                    continue  # one role is enough against the slow baselines
                row = compare(
                    f"{role} VecEnv vs {name} MiniGrid DoorKey-8x8, {n:,} envs",
                    "steps/s",
                    runner(n),
                    ours,
                    envs=n,
                    baseline_env=f"{MINIGRID} via {name} ({settings})",
                    baseline_cores=cores,
                    ours_cores=our_cores,
                )
                row["baseline_per_core"] = row["baseline_median"] / cores
                row["ours_per_core"] = row["ours_median"] / our_cores
                row["per_core_ratio"] = row["ours_per_core"] / row["baseline_per_core"]
                if name == "EnvPool":
                    row["goal_ratio"] = GOALS[n]
                    row["goal_met"] = bool(row["ratio"] >= GOALS[n])
                print(
                    f"  per core: baseline {row['baseline_per_core']:,.0f} ({cores}), ours "
                    f"{row['ours_per_core']:,.0f} ({our_cores}), x{row['per_core_ratio']:.2f}"
                )
                rows.append(row)
        if baselines and baselines[0][0] == "EnvPool" and parallel_for(n):
            # the same on one thread: what a busy machine's cores give each side, per core
            row = compare(
                f"hunter VecEnv on 1 thread vs EnvPool MiniGrid DoorKey-8x8, {n:,} envs",
                "steps/s",
                envpool_runner(n),
                ours_runner("hunter", n, threads=1),
                envs=n,
                baseline_env=f"{MINIGRID} via EnvPool ({ENVPOOL_THREADS} threads)",
                baseline_cores=ENVPOOL_THREADS,
                ours_cores=1,
                goal_ratio=GOALS[n],
            )
            row["baseline_per_core"] = row["baseline_median"] / ENVPOOL_THREADS
            row["ours_per_core"] = row["ours_median"]
            row["per_core_ratio"] = row["ours_per_core"] / row["baseline_per_core"]
            row["goal_met"] = bool(row["ratio"] >= GOALS[n])
            print(f"  per core: x{row['per_core_ratio']:.2f}")
            rows.append(row)
    return rows


def main() -> None:
    results = equal_batch_rows()
    if _available("minigrid"):
        results.append(
            compare(
                "Hunter single env (World) vs one MiniGrid env",
                "steps/s",
                single_env_runner(lambda: gym.make(MINIGRID), MINIGRID_ACTIONS),
                single_env_runner(lambda: HunterEnv(num_levels=200), 5),
                envs=1,
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
        f"  share of PPO time inside the env: ours {ppo['env_share_ours']:.1%}, "
        f"DummyVecEnv {ppo['env_share_baseline']:.1%}"
    )
    results.append(ppo)
    save("agents", results)


if __name__ == "__main__":
    main()
