"""Evaluate NPC policies on unseen test levels: success rate and the role metric for the trained policy (every
training seed), the strongest scripted baseline, the game's scripted policy and random actions, over the same
episodes (same arenas, players and spawns) on the single env, that is on `engine.sim.World` itself; IQM with
stratified-bootstrap CIs over seeds and episode blocks (agents.statistics), and mean ± 95% CI per policy.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.baselines import STRONG_POLICIES
from agents.envs.arenas import TEST_START_LEVEL
from agents.envs.npc_env import ENV_CLASSES, NpcEnv
from agents.envs.players import STYLES
from agents.envs.roles import ROLES
from agents.memory import ObservationHistory
from agents.policies.onnx_policy import OnnxPolicy, memory_variants, policy_path, sibling_seeds
from agents.policies.q_table import greedy, load_q_table, q_table_stem
from engine.errors import InputError
from engine.sim.policy import SCRIPTED_POLICIES, Policy, Role

MAX_EPISODES = 100_000
SCORES = ("success", "role_metric", "return")
"""the per-episode numbers the tables estimate"""
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
    """The ONNX policy, greedy; one with memory (agents.memory) keeps the env's recent observations and forgets
    them when the env starts a new episode (a new World)."""
    policy = OnnxPolicy(path)
    if policy.frames == 1:
        return lambda env, obs: int(policy.logits(obs[None])[0].argmax())
    history, episode = ObservationHistory(1, policy.frames), [None]

    def act(env: NpcEnv, obs: np.ndarray) -> int:
        if env.world is not episode[0]:
            history.clear()
            episode[0] = env.world
        return int(policy.logits(history.push(obs[None]))[0].argmax())

    return act


def batched_test_episodes(
    act: Callable[[np.ndarray], np.ndarray],
    role: Role,
    episodes: int,
    test_levels: int = 100,
    level_source: str = "gan",
    frames: int = 1,
) -> tuple[float, float]:
    """Greedy play on the test levels with the batched env, `act` mapping (N, frames * OBS_SIZE) policy inputs
    (agents.memory; the observations themselves for `frames` 1) to actions: (success rate, mean role metric).
    Each env plays exactly one episode, so short episodes are not over-counted. Used for quick checks during
    training; reports use `run_episodes` on the World."""
    from agents.vector import BatchedNpcEnv

    env = BatchedNpcEnv(role, episodes, level_source, test_levels, TEST_START_LEVEL)
    history = ObservationHistory(episodes, frames)
    obs = history.push(env.reset(np.arange(episodes) + 10_000))
    success, metric = np.full(episodes, np.nan), np.full(episodes, np.nan)
    while np.isnan(success).any():
        obs, _, _, _, info = env.step(act(obs))
        history.clear(info["done"])
        obs = history.push(obs)
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
    `success`, `role_metric`, `return` and the player's `style`."""
    if not 1 <= episodes <= MAX_EPISODES:
        raise InputError("episodes", f"expected 1..{MAX_EPISODES}, got {episodes}")
    env = ENV_CLASSES[role](level_source=level_source, num_levels=num_levels, start_level=start_level)
    success, metric, returns, styles = [], [], [], []
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
        styles.append(info["style"])
    return {
        "success": np.array(success),
        "role_metric": np.array(metric),
        "return": np.array(returns),
        "style": np.array(styles),
    }


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
        out[name] = {key: ci95(runs[key]) for key in SCORES}
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


def trained_policy_paths(role: Role) -> list[Path]:
    """The shipped policy, then its sibling seeds: every training run the report aggregates over."""
    return [policy_path(role), *sibling_seeds(role.value)]


def _paired_difference(a: np.ndarray, b: np.ndarray) -> Estimate:
    """Mean and 95% CI of the per-episode difference a - b over the same episodes."""
    return ci95(np.asarray(a, np.float64) - np.asarray(b, np.float64))


def _by_style(role: Role, per_run: dict[str, list[dict[str, np.ndarray]]]) -> list[str]:
    """Table rows: each policy's success rate against each player style (all its runs pooled; "–" for a style
    the role does not meet)."""
    rows = []
    for name, runs in per_run.items():
        cells = []
        for style in STYLES:
            hits = np.concatenate([r["success"][r["style"] == style] for r in runs])
            cells.append(f"{hits.mean():.2f} ({len(hits)})" if len(hits) else "–")
        rows.append(f"| {role.value} | {name} | " + " | ".join(cells) + " |")
    return rows


def _memory_label(variant: str) -> str:
    """ "hunter_memory4" → "memory of 4 decisions"."""
    return f"memory of {variant.rsplit('_memory', 1)[1]} decisions"


def _verdict(role: Role, name: str, per_run: dict[str, list[dict[str, np.ndarray]]], iqms: dict) -> str:
    """Whether the learned policy `name` beats the strongest baseline: for every training seed, the 95% CI of
    the paired per-episode success difference on the same episodes lies above 0."""
    baseline = per_run["strongest scripted"][0]["success"]
    paired = [_paired_difference(r["success"], baseline) for r in per_run[name]]
    verdict = (
        "beats"
        if all(d.mean - d.half_width > 0 for d in paired)
        else "loses to"
        if all(d.mean + d.half_width < 0 for d in paired)
        else "does not beat"
    )
    learned, strongest = iqms[name], iqms["strongest scripted"]
    overlap = " (their IQM intervals overlap)" if learned.overlaps(strongest) else ""
    return (
        f"- **{role.value}**, {name}: {verdict} the strongest scripted baseline: success IQM {learned} over "
        f"{learned.runs} seed{'s' if learned.runs > 1 else ''} against {strongest}{overlap}; paired "
        "difference in success on the same episodes, per seed: " + ", ".join(str(d) for d in paired) + "."
    )


def _jobs(role: Role, q_stem: Path) -> dict[str, list[tuple[str, str]]]:
    """policy name → one (kind, argument) per run to play, in the report's order."""
    jobs = {"trained": [("onnx", str(p)) for p in trained_policy_paths(role)]}
    for name, paths in memory_variants(role).items():
        jobs[f"trained, {_memory_label(name)}"] = [("onnx", str(p)) for p in paths]
    jobs["strongest scripted"] = [("strongest", "")]
    if STRONG_POLICIES[role] is not SCRIPTED_POLICIES[role]:
        jobs["scripted"] = [("scripted", "")]
    jobs["random"] = [("random", "0")]
    if role is Role.HUNTER and q_stem.with_suffix(".safetensors").is_file():
        jobs["q-learning"] = [("q", str(q_stem))]
    return jobs


def _play(role: Role, spec: tuple[str, str], episodes: int) -> dict[str, np.ndarray]:
    """One run of the report: the actor `spec` names on the report's episodes (in a worker process)."""
    kind, arg = spec
    actor = {
        "onnx": lambda: onnx_actor(arg),
        "strongest": lambda: strongest_actor(role),
        "scripted": lambda: scripted_actor(role),
        "random": lambda: random_actor(int(arg)),
        "q": lambda: q_actor(load_q_table(Path(arg))),
    }[kind]()
    return run_episodes(role, actor, episodes)


def write_report(
    path: str | Path, episodes: int = 200, q_table: str | Path | None = None, workers: int | None = None
) -> None:
    """The results tables (every role: trained over every shipped seed, the strongest scripted baseline, the
    game's scripted policy, random; the hunter also against the tabular Q-learning table that `ludoforge train
    q` wrote, the shipped one unless `q_table` names another stem) with the learning curves, as Markdown.
    Evaluation never trains: with no table the Q-learning row says how to make one. Runs play in `workers`
    processes (default: one per core); the numbers do not depend on how many."""
    from agents.statistics import iqm_intervals

    q_stem = Path(q_table) if q_table is not None else q_table_stem(Role.HUNTER)
    q_card: dict | None = None
    results: dict[Role, dict[str, dict[str, Estimate]]] = {}
    iqm_lines = [
        "| role | policy | runs | success, IQM [95% CI] | role metric, IQM [95% CI] |",
        "|---|---|---|---|---|",
    ]
    verdicts: list[str] = []
    style_lines = ["| role | policy | " + " | ".join(STYLES) + " |", "|---|---|" + "---|" * len(STYLES)]
    roles = (Role.HUNTER, Role.GUARD, Role.COMPANION)
    jobs = {role: _jobs(role, q_stem) for role in roles}
    if q_stem.with_suffix(".safetensors").is_file():
        q_card = json.loads(q_stem.with_suffix(".json").read_text(encoding="utf-8"))
    flat = [(role, name, spec) for role in roles for name, specs in jobs[role].items() for spec in specs]
    workers = workers or min(len(flat), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            roles_, specs = [role for role, _, _ in flat], [spec for _, _, spec in flat]
            played = list(pool.map(_play, roles_, specs, [episodes] * len(flat)))
    else:
        played = [_play(role, spec, episodes) for role, _, spec in flat]
    by_job = iter(played)
    for role in roles:
        learned = [name for name in jobs[role] if name.startswith("trained")]
        per_run = {name: [next(by_job) for _ in specs] for name, specs in jobs[role].items()}
        # the shipped seed's own table: the first run of each policy
        results[role] = {name: {k: ci95(rs[0][k]) for k in SCORES} for name, rs in per_run.items()}
        style_lines += _by_style(role, per_run)
        stats = {
            key: iqm_intervals({name: np.stack([r[key] for r in rs]) for name, rs in per_run.items()})
            for key in ("success", "role_metric")
        }
        for name in per_run:
            success, metric = stats["success"][name], stats["role_metric"][name]
            iqm_lines.append(f"| {role.value} | {name} | {success.runs} | {success} | {metric} |")
        for name in learned:
            verdicts.append(_verdict(role, name, per_run, stats["success"]))
    lines = [
        "# NPC policies on unseen levels",
        "",
        f"Written by `ludoforge npc eval --episodes {episodes}`. Every policy plays the same {episodes} episodes per",
        "role (the same arenas, player styles and spawns) on the single env, that is on `engine.sim.World`, over",
        f"GAN rooms from the test seeds ({TEST_START_LEVEL:,} up), which training never sees.",
        "",
        "- `trained`: the shipped ONNX policy and its sibling seeds (agents/policies/seeds/: the same command with",
        "  another `--seed`), greedy. It sees one observation per decision.",
        "- `trained, memory of K decisions`: the same PPO with `--memory K`: its input is its last K observations",
        "  (agents/memory.py), so it can tell a player's style from how they move. A variant beside the game's policy,",
        "  with its own sibling seeds.",
        "- `strongest scripted`: the strongest baseline we could write with the same information (agents/baselines.py,",
        "  which lists what was tried): the hunter waits on the exit once it has seen it, races a seen player there,",
        "  sweeps with a kept heading and strikes first, and once it has watched the player step away from it (an",
        "  evader), or after 20 decisions, chases without waiting, to corner them; the guard is the game's guard,",
        "  striking first; the companion walks to the nearest key wherever it lies, carries it to the player (back",
        "  along its own trail when no hazard-free path leads there) and steps off beside them. It remembers what it",
        "  saw.",
        "- `scripted`: the game's own scripted policy, where it differs (the hunter chases on sight, else takes random",
        "  steps; the guard charges; the companion fetches a key only once it sees it).",
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
        "## By player style",
        "",
        "Success rate against each scripted player style (episodes in brackets; every run of a policy pooled).",
        "The style is drawn per episode and never observed: a policy can only infer it from how the player moves.",
        "",
        *style_lines,
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
        variants = {role.value: trained_policy_paths(role)} | {
            f"{role.value}, {_memory_label(name)}": paths for name, paths in memory_variants(role).items()
        }
        for label, paths in variants.items():
            for onnx in paths:
                card = json.loads(onnx.with_suffix(".json").read_text(encoding="utf-8"))
                minutes = card["train_seconds"] / 60
                lines.append(
                    f"| {label} | {card.get('seed', '?')} | {card['steps']:,} | {minutes:.1f} | `{card['command']}` |"
                )
    if q_card is not None:
        steps, minutes = q_card["args"]["total_steps"], q_card["train_seconds"] / 60
        lines.append(
            f"| hunter (q-learning) | {q_card.get('seed', '?')} | {steps:,} | {minutes:.1f} | `{q_card['command']}` |"
        )
    lines += ["", "## Learning curves (the shipped seed)", ""]
    lines += [f"![{role.value}](img/npc_{role.value}_curve.png)" for role in results]
    Path(path).write_text("\n".join(lines) + "\n")
