"""Evaluate NPC policies on unseen test levels: success rate and the role metric for the trained policy (every
training seed), the strongest scripted baseline, the game's scripted policy and random actions, over the same
episodes (same arenas, players and spawns) on the single env, that is on `engine.sim.World` itself; IQM with
stratified-bootstrap CIs over seeds and episode blocks (agents.statistics), and mean ± 95% CI per policy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.baselines import STRONG_POLICIES
from agents.envs.arenas import TEST_START_LEVEL
from agents.envs.npc_env import ENV_CLASSES, NpcEnv
from agents.envs.roles import ROLES
from agents.policies.onnx_policy import POLICY_DIR, OnnxPolicy, policy_path
from agents.policies.q_table import greedy, load_q_table, q_table_stem
from engine.errors import InputError
from engine.sim.policy import SCRIPTED_POLICIES, Policy, Role

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


def policy_actor(policy: Policy) -> Actor:
    """An engine `Policy` as an actor: it reads the World's `NpcObservation` for the env's NPC. One instance
    serves every episode; a policy with memory forgets it when a new episode's tick starts again."""

    def act(env: NpcEnv, obs: np.ndarray) -> int:
        assert env.world is not None
        return int(policy.act(env.world.observe(env.agent)))

    return act


def scripted_actor(role: Role) -> Actor:
    """The game's own scripted policy for the role."""
    return policy_actor(SCRIPTED_POLICIES[role]())


def strongest_actor(role: Role) -> Actor:
    """The strongest scripted baseline for the role (agents.baselines)."""
    return policy_actor(STRONG_POLICIES[role]())


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
    actors["strongest scripted"] = strongest_actor(role)
    if STRONG_POLICIES[role] is not SCRIPTED_POLICIES[role]:
        actors["scripted"] = scripted_actor(role)
    actors["random"] = random_actor(seed)
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


SEED_DIR = POLICY_DIR / "seeds"
"""the shipped policies' sibling runs: the same command with other seeds (<role>_seed<N>.onnx + .json)"""


def trained_policy_paths(role: Role) -> list[Path]:
    """The shipped policy, then its sibling seeds: every training run the report aggregates over."""
    return [policy_path(role), *sorted(SEED_DIR.glob(f"{role.value}_seed*.onnx"))]


def _paired_difference(a: np.ndarray, b: np.ndarray) -> Estimate:
    """Mean and 95% CI of the per-episode difference a - b over the same episodes."""
    return ci95(np.asarray(a, np.float64) - np.asarray(b, np.float64))


def write_report(path: str | Path, episodes: int = 200, q_table: str | Path | None = None) -> None:
    """The results tables (every role: trained over every shipped seed, the strongest scripted baseline, the
    game's scripted policy, random; the hunter also against the tabular Q-learning table that `ludoforge train
    q` wrote, the shipped one unless `q_table` names another stem) with the learning curves, as Markdown.
    Evaluation never trains: with no table the Q-learning row says how to make one."""
    from agents.policies.onnx_policy import policy_card
    from agents.statistics import iqm_intervals

    q_stem = Path(q_table) if q_table is not None else q_table_stem(Role.HUNTER)
    q_card: dict | None = None
    results: dict[Role, dict[str, dict[str, Estimate]]] = {}
    iqm_lines = [
        "| role | policy | runs | success, IQM [95% CI] | role metric, IQM [95% CI] |",
        "|---|---|---|---|---|",
    ]
    verdicts = []
    for role in (Role.HUNTER, Role.GUARD, Role.COMPANION):
        per_run: dict[str, list[dict[str, np.ndarray]]] = {
            "trained": [run_episodes(role, onnx_actor(p), episodes) for p in trained_policy_paths(role)]
        }
        per_run["strongest scripted"] = [run_episodes(role, strongest_actor(role), episodes)]
        if STRONG_POLICIES[role] is not SCRIPTED_POLICIES[role]:
            per_run["scripted"] = [run_episodes(role, scripted_actor(role), episodes)]
        per_run["random"] = [run_episodes(role, random_actor(0), episodes)]
        if role is Role.HUNTER and q_stem.with_suffix(".safetensors").is_file():
            per_run["q-learning"] = [run_episodes(role, q_actor(load_q_table(q_stem)), episodes)]
            q_card = json.loads(q_stem.with_suffix(".json").read_text(encoding="utf-8"))
        # the shipped seed's own table: the first run of each policy
        results[role] = {name: {k: ci95(v) for k, v in rs[0].items()} for name, rs in per_run.items()}
        stats = {
            key: iqm_intervals({name: np.stack([r[key] for r in rs]) for name, rs in per_run.items()})
            for key in ("success", "role_metric")
        }
        for name in per_run:
            success, metric = stats["success"][name], stats["role_metric"][name]
            iqm_lines.append(f"| {role.value} | {name} | {success.runs} | {success} | {metric} |")
        trained, strongest = stats["success"]["trained"], stats["success"]["strongest scripted"]
        paired = [
            _paired_difference(r["success"], per_run["strongest scripted"][0]["success"])
            for r in per_run["trained"]
        ]
        verdict = (
            "beats"
            if all(d.mean - d.half_width > 0 for d in paired)
            else "loses to"
            if all(d.mean + d.half_width < 0 for d in paired)
            else "does not beat"
        )
        overlap = " (their IQM intervals overlap)" if trained.overlaps(strongest) else ""
        verdicts.append(
            f"- **{role.value}**: trained {verdict} the strongest scripted baseline: success IQM {trained} over "
            f"{trained.runs} seed{'s' if trained.runs > 1 else ''} against {strongest}{overlap}; paired "
            "difference in success on the same episodes, per seed: " + ", ".join(str(d) for d in paired) + "."
        )
    lines = [
        "# NPC policies on unseen levels",
        "",
        f"Written by `ludoforge npc eval --episodes {episodes}`. Every policy plays the same {episodes} episodes per",
        "role (the same arenas, player styles and spawns) on the single env, that is on `engine.sim.World`, over",
        f"GAN rooms from the test seeds ({TEST_START_LEVEL:,} up), which training never sees.",
        "",
        "- `trained`: the shipped ONNX policy and its sibling seeds (agents/policies/seeds/: the same command with",
        "  another `--seed`), greedy.",
        "- `strongest scripted`: the strongest baseline we could write with the same information (agents/baselines.py,",
        "  which lists what was tried): the hunter waits on the exit once it has seen it and sweeps with a kept",
        "  heading; the guard is the game's own; the companion walks to the nearest key wherever it lies and steps",
        "  off beside the player. It may also remember what it saw, which the trained MLP cannot.",
        "- `scripted`: the game's own scripted policy, where it differs (the hunter chases on sight, else takes random",
        "  steps; the companion fetches a key only once it sees it).",
        "- `q-learning`: the tabular baseline (`ludoforge train q`).",
        "",
        "## Against the strongest baseline",
        "",
        "Interquartile mean over runs (training seeds; one for a fixed policy) and 10 blocks of episodes, with",
        'stratified-bootstrap 95% CIs (rliable, 2,000 resamples, over seeds and blocks). A role "beats" the',
        "baseline where, for every seed, the 95% CI of the paired per-episode success difference lies above 0.",
        "",
        *verdicts,
        "",
        *iqm_lines,
        "",
        "## The shipped seed, mean ± 95% CI (1.96 standard errors)",
        "",
        results_table(results),
        *([] if q_card is not None else ["", f"`q-learning` (hunter): {Q_NOT_TRAINED}."]),
        "",
        "## Training",
        "",
        "| role | seed | steps | train minutes | command |",
        "|---|---|---|---|---|",
    ]
    for role in results:
        for onnx in trained_policy_paths(role):
            card = (
                json.loads(onnx.with_suffix(".json").read_text(encoding="utf-8"))
                if onnx != policy_path(role)
                else policy_card(role)
            )
            minutes = card["train_seconds"] / 60
            lines.append(
                f"| {role.value} | {card.get('seed', '?')} | {card['steps']:,} | {minutes:.1f} | `{card['command']}` |"
            )
    if q_card is not None:
        steps, minutes = q_card["args"]["total_steps"], q_card["train_seconds"] / 60
        lines.append(
            f"| hunter (q-learning) | {q_card.get('seed', '?')} | {steps:,} | {minutes:.1f} | `{q_card['command']}` |"
        )
    lines += ["", "## Learning curves (the shipped seed)", ""]
    lines += [f"![{role.value}](img/npc_{role.value}_curve.png)" for role in results]
    Path(path).write_text("\n".join(lines) + "\n")
