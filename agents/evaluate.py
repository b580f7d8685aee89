"""Evaluate NPC policies on unseen test levels: success rate and the role metric, as mean ± 95% CI, for the
trained policy, the scripted baseline and random actions, over the same episodes (same arenas, players and
spawns) on the single env, that is on `engine.sim.World` itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.envs.arenas import TEST_START_LEVEL
from agents.envs.npc_env import ENV_CLASSES, NpcEnv
from agents.envs.roles import ROLES
from agents.policies.onnx_policy import OnnxPolicy, policy_path
from agents.policies.q_table import greedy, load_q_table, q_table_stem
from engine.errors import InputError
from engine.sim.policy import SCRIPTED_POLICIES, Role

MAX_EPISODES = 100_000
Actor = Callable[[NpcEnv, np.ndarray], int]
"""(env, observation vector) → action"""


@dataclass(frozen=True)
class Estimate:
    mean: float
    half_width: float  # of the 95% confidence interval (normal approximation, 1.96 standard errors)
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.half_width:.3f}"


def ci95(values: np.ndarray) -> Estimate:
    values = np.asarray(values, np.float64)
    n = len(values)
    half = 1.96 * values.std(ddof=1) / math.sqrt(n) if n > 1 else float("nan")
    return Estimate(float(values.mean()), float(half), n)


def scripted_actor(role: Role) -> Actor:
    policy = SCRIPTED_POLICIES[role]()

    def act(env: NpcEnv, obs: np.ndarray) -> int:
        assert env.world is not None
        return int(policy.act(env.world.observe(env.agent)))

    return act


def random_actor(seed: int) -> Actor:
    rng = np.random.default_rng(seed)
    return lambda env, obs: int(rng.integers(env.action_space.n))


def onnx_actor(path: str | Path) -> Actor:
    policy = OnnxPolicy(path)
    return lambda env, obs: int(policy.logits(obs[None])[0].argmax())


def batched_test_episodes(
    act: Callable[[np.ndarray], np.ndarray],
    role: Role,
    episodes: int,
    test_levels: int = 100,
    level_source: str = "gan",
) -> tuple[float, float]:
    """Greedy play on the test levels with the batched env, `act` mapping (N, OBS_SIZE) observations to
    actions: (success rate, mean role metric). Each env plays exactly one episode, so short episodes are not
    over-counted. Used for quick checks during training; reports use `run_episodes` on the World."""
    from agents.vector import BatchedNpcEnv

    env = BatchedNpcEnv(role, episodes, level_source, test_levels, TEST_START_LEVEL)
    obs = env.reset(np.arange(episodes) + 10_000)
    success, metric = np.full(episodes, np.nan), np.full(episodes, np.nan)
    while np.isnan(success).any():
        obs, _, _, _, info = env.step(act(obs))
        done = np.flatnonzero(info["done"])
        if len(done):
            fresh = np.isnan(success[done])
            success[done[fresh]] = info["success"][fresh]
            metric[done[fresh]] = info["role_metric"][fresh]
    return float(success.mean()), float(metric.mean())


def run_episodes(
    role: Role,
    actor: Actor,
    episodes: int = 200,
    seed: int = 0,
    start_level: int = TEST_START_LEVEL,
    num_levels: int = 100,
    level_source: str = "gan",
) -> dict[str, np.ndarray]:
    """Play `episodes` episodes (the stream of `reset(seed=seed)` then `reset()`); per-episode arrays of
    `success`, `role_metric` and `return`."""
    if not 1 <= episodes <= MAX_EPISODES:
        raise InputError("episodes", f"expected 1..{MAX_EPISODES}, got {episodes}")
    env = ENV_CLASSES[role](level_source=level_source, num_levels=num_levels, start_level=start_level)
    success, metric, returns = [], [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed) if i == 0 else env.reset()
        total, done, info = 0.0, False, {}
        while not done:
            obs, reward, terminated, truncated, info = env.step(actor(env, obs))
            total += reward
            done = terminated or truncated
        success.append(info["success"])
        metric.append(info["role_metric"])
        returns.append(total)
    return {"success": np.array(success), "role_metric": np.array(metric), "return": np.array(returns)}


def compare(
    role: Role, trained: Actor | None = None, episodes: int = 200, seed: int = 0, num_levels: int = 100
) -> dict[str, dict[str, Estimate]]:
    """policy name → {success, role_metric, return} estimates on the test levels."""
    actors: dict[str, Actor] = {}
    if trained is not None:
        actors["trained"] = trained
    elif policy_path(role).is_file():
        actors["trained"] = onnx_actor(policy_path(role))
    actors |= {"scripted": scripted_actor(role), "random": random_actor(seed)}
    out = {}
    for name, actor in actors.items():
        runs = run_episodes(role, actor, episodes, seed, num_levels=num_levels)
        out[name] = {key: ci95(values) for key, values in runs.items()}
    return out


def results_table(results: dict[Role, dict[str, dict[str, Estimate]]]) -> str:
    lines = ["| role | policy | success (95% CI) | role metric (95% CI) | return |", "|---|---|---|---|---|"]
    for role, by_policy in results.items():
        for name, est in by_policy.items():
            lines.append(
                f"| {role.value} | {name} | {est['success']} | {est['role_metric']} | {est['return']} |"
            )
    lines.append("")
    lines.append("Role metrics:")
    for role in results:
        spec = ROLES[role]
        lines.append(f"- {role.value}: {spec.metric} ({spec.metric_better} is better)")
    return "\n".join(lines)


def q_actor(table: np.ndarray) -> Actor:
    return lambda env, obs: int(greedy(table, obs[None])[0])


Q_NOT_TRAINED = (
    "not trained; run `ludoforge train q --role hunter`, then `ludoforge publish runs/qlearning/hunter`"
)


def write_report(path: str | Path, episodes: int = 200, q_table: str | Path | None = None) -> None:
    """The results table (every role: trained, scripted, random; the hunter also against the tabular Q-learning
    table that `ludoforge train q` wrote, the shipped one unless `q_table` names another stem) with the learning
    curves, as Markdown. Evaluation never trains: with no table the Q-learning row says how to make one."""
    from agents.policies.onnx_policy import policy_card

    q_stem = Path(q_table) if q_table is not None else q_table_stem(Role.HUNTER)
    q_card: dict | None = None
    results: dict[Role, dict[str, dict[str, Estimate]]] = {}
    for role in (Role.HUNTER, Role.GUARD, Role.COMPANION):
        results[role] = compare(role, episodes=episodes)
        if role is Role.HUNTER and q_stem.with_suffix(".safetensors").is_file():
            runs = run_episodes(role, q_actor(load_q_table(q_stem)), episodes)
            results[role]["q-learning"] = {key: ci95(values) for key, values in runs.items()}
            q_card = json.loads(q_stem.with_suffix(".json").read_text(encoding="utf-8"))
    lines = [
        "# NPC policies on unseen levels",
        "",
        f"Written by `ludoforge npc eval --episodes {episodes}`. Every policy plays the same {episodes} episodes per",
        "role (the same arenas, player styles and spawns) on the single env, that is on `engine.sim.World`, over",
        f"GAN rooms from the test seeds ({TEST_START_LEVEL:,} up), which training never sees. Intervals are 95%",
        "(1.96 standard errors). `trained` is the shipped ONNX policy, greedy; `scripted` is the game's scripted",
        "policy for the role; `q-learning` is the tabular baseline (`ludoforge train q`).",
        "",
        results_table(results),
        *([] if q_card is not None else ["", f"`q-learning` (hunter): {Q_NOT_TRAINED}."]),
        "",
        "## Training",
        "",
        "| role | steps | train minutes | command |",
        "|---|---|---|---|",
    ]
    for role in results:
        card = policy_card(role)
        minutes = card["train_seconds"] / 60
        lines.append(f"| {role.value} | {card['steps']:,} | {minutes:.1f} | `{card['command']}` |")
    if q_card is not None:
        steps, minutes = q_card["args"]["total_steps"], q_card["train_seconds"] / 60
        lines.append(f"| hunter (q-learning) | {steps:,} | {minutes:.1f} | `{q_card['command']}` |")
    lines += ["", "## Learning curves", ""]
    lines += [f"![{role.value}](img/npc_{role.value}_curve.png)" for role in results]
    Path(path).write_text("\n".join(lines) + "\n")
