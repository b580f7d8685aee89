"""Narrators on held-out player types and unseen dungeons: completion, quits, time to exit and interventions
per minute, each as mean ± 95% CI and, for completion and quits, as the IQM with a stratified-bootstrap CI
(agents.statistics), over the same episodes (same dungeon, player and seeds) for every narrator."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from agents.envs.narrator_env import TEST_START_LEVEL, NarratorEnv
from agents.evaluate import Estimate, ci95
from agents.narrator.players import HELD_OUT_TYPES
from engine.atomic import atomic_write_text

MAX_EPISODES = 20_000
Act = Callable[[np.ndarray], int]
METRICS = ("completion", "quit", "died", "seconds_to_exit", "interventions_per_minute", "return", "flow")


@dataclass(frozen=True)
class Episode:
    player_type: str
    outcome: str
    seconds: float
    interventions: int
    ret: float
    flow: float = float("nan")


def _play_one(env: NarratorEnv, act: Act, seed: int, options: dict) -> tuple[Episode, dict]:
    obs, info = env.reset(seed=seed, options=options)
    ret, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(act(obs))
        ret += reward
        done = terminated or truncated
    assert env.player is not None
    episode = Episode(
        env.player.type.name, info["outcome"], info["seconds"], info["interventions"], ret, info["flow"]
    )
    return episode, info


def play(
    make_act: Callable[[], Act],
    player_types: Sequence[str] = tuple(HELD_OUT_TYPES),
    episodes: int = 100,
    start_level: int = TEST_START_LEVEL,
    progress: str | None = None,
) -> list[Episode]:
    """`episodes` runs per player type; episode k uses dungeon start_level + k and seed k, whoever narrates.
    `make_act()` is called once per episode (a narrator with memory starts afresh)."""
    if not 1 <= episodes <= MAX_EPISODES:
        raise ValueError(f"episodes: expected 1..{MAX_EPISODES}, got {episodes}")
    env = NarratorEnv(player_types=list(player_types), start_level=start_level)
    out = []
    bar = tqdm(
        total=episodes * len(player_types), desc=progress or "narrator eval", disable=None, leave=False
    )
    for name in player_types:
        for k in range(episodes):
            episode, _ = _play_one(env, make_act(), k, {"player_type": name, "level": start_level + k})
            out.append(episode)
            bar.update()
    bar.close()
    return out


def personalisation(
    make_act: Callable[[], Act],
    player_types: Sequence[str] = tuple(HELD_OUT_TYPES),
    episodes: int = 100,
    start_level: int = TEST_START_LEVEL,
) -> dict[str, list[Episode]]:
    """Two floors per player. Floor 1 is a default dungeon, narrated with the player model learning who
    plays. Floor 2 is played twice by the same player on the same seeds: `personalised`, a dungeon built to
    the model's belief (`next_dungeon`) with the narrator seeing that belief; and `none`, a default dungeon
    with the narrator's belief held at the uniform prior. Returns the floor-2 episodes of each arm."""
    from agents.narrator.player_model import next_dungeon

    if not 1 <= episodes <= MAX_EPISODES:
        raise ValueError(f"episodes: expected 1..{MAX_EPISODES}, got {episodes}")
    learning = NarratorEnv(player_types=list(player_types), start_level=start_level)
    plain = NarratorEnv(player_types=list(player_types), start_level=start_level, player_model=False)
    arms: dict[str, list[Episode]] = {"none": [], "personalised": []}
    bar = tqdm(total=episodes * len(player_types), desc="personalisation", disable=None, leave=False)
    for name in player_types:
        for k in range(episodes):
            first = {"player_type": name, "level": start_level + 2 * k}
            _, info = _play_one(learning, make_act(), k, first)
            assert learning.player is not None
            player, belief = learning.player.type, info["belief"]
            second = {"player_type": name, "player": player, "level": start_level + 2 * k + 1}
            personal = second | {"settings": next_dungeon(belief), "belief": belief}
            arms["personalised"].append(_play_one(learning, make_act(), MAX_EPISODES + k, personal)[0])
            arms["none"].append(_play_one(plain, make_act(), MAX_EPISODES + k, second)[0])
            bar.update()
    bar.close()
    return arms


def summarise(episodes: Sequence[Episode]) -> dict[str, Estimate]:
    """The table's numbers for one narrator (time to exit over the won runs only)."""
    won = [e for e in episodes if e.outcome == "won"]
    return {
        "completion": ci95(np.array([e.outcome == "won" for e in episodes], float)),
        "quit": ci95(np.array([e.outcome == "quit" for e in episodes], float)),
        "died": ci95(np.array([e.outcome == "died" for e in episodes], float)),
        "seconds_to_exit": ci95(np.array([e.seconds for e in won] or [np.nan])),
        "interventions_per_minute": ci95(
            np.array([60.0 * e.interventions / max(e.seconds, 1.0) for e in episodes])
        ),
        "return": ci95(np.array([e.ret for e in episodes])),
        "flow": ci95(np.array([e.flow for e in episodes])),
    }


PPO = "ppo"
"""the shipped PPO narrator, sampled as the game plays it; its sibling training seeds are named "ppo (seed N)"."""


def ppo_runs() -> dict[str, Path]:
    """The PPO narrator's training runs: the shipped one, then its sibling seeds (agents/policies/seeds/)."""
    from agents.narrator.policy import NARRATOR_POLICY
    from agents.policies.onnx_policy import sibling_seeds

    siblings = {f"{PPO} (seed {p.stem.removeprefix('narrator_seed')})": p for p in sibling_seeds("narrator")}
    return {PPO: NARRATOR_POLICY} | siblings


def narrators() -> dict[str, Callable[[], Act]]:
    """Every narrator the table compares, as factories of a fresh `act` per episode: the baselines (the rules
    with the designer's thresholds and with CMA-ES's, agents/policies/narrator_rules.json) and the shipped
    policies (PPO, ONNX, sampled as shipped and greedy, with its sibling training seeds sampled; tabular Q,
    safetensors). Each seeded narrator counts its own seeds, so a narrator's runs do not depend on which
    others are played, or in which process."""
    from agents.narrator.baselines import (
        RandomNarrator,
        RuleBasedNarrator,
        SilentNarrator,
        TunedRuleNarrator,
    )
    from agents.narrator.policy import OnnxNarrator
    from agents.narrator.q_table import QNarrator

    q = QNarrator.load()
    tuned = TunedRuleNarrator()
    random_seeds = iter(range(1_000_000))
    found: dict[str, Callable[[], Act]] = {
        "silent": lambda: SilentNarrator().act,
        "random": lambda: RandomNarrator(next(random_seeds)).act,
        "rule-based (untuned)": lambda: RuleBasedNarrator().act,
        "rule-based (CMA-ES)": lambda: tuned.act,
        "q-learning": lambda: q.act,
        "ppo (greedy)": lambda: OnnxNarrator(greedy=True).act,
    }
    for name, path in ppo_runs().items():
        seeds = iter(range(1_000_000))  # every run samples with the same seeds, episode by episode
        found[name] = lambda path=path, seeds=seeds: OnnxNarrator(path, seed=next(seeds)).act
    return found


def iqm(runs: dict[str, Sequence[Episode]], outcome: str, groups: dict[str, list[str]] | None = None) -> dict:
    """name → the IQM of the per-episode indicator `outcome` (won, quit, died) with its stratified-bootstrap
    95% CI (agents.statistics.iqm_intervals), the episodes in the same blocks for every narrator. Each
    narrator is one run; `groups` adds rows that pool several narrators as the runs (training seeds) of one."""
    from agents.statistics import iqm_intervals

    indicator = {name: np.array([e.outcome == outcome for e in eps], float) for name, eps in runs.items()}
    rows = {name: values[None] for name, values in indicator.items()}
    for group, members in (groups or {}).items():
        rows[group] = np.stack([indicator[m] for m in members])
    return iqm_intervals(rows)


def _play_named(name: str, episodes: int) -> list[Episode]:
    return play(narrators()[name], episodes=episodes, progress=name)


def _personalisation(episodes: int) -> dict[str, list[Episode]]:
    return personalisation(narrators()["ppo"], episodes=episodes)


_LABELS = {
    "completion": "completion",
    "quit": "quit rate",
    "died": "death rate",
    "seconds_to_exit": "time to exit (s)",
    "interventions_per_minute": "interventions / min",
    "flow": "time in flow",
}


def write_report(
    path: str | Path, episodes: int = 200, plot: str | Path | None = None, workers: int | None = None
) -> None:
    """The results table (every narrator on the held-out types, all types pooled and each type apart) with a
    bar chart, as Markdown. Narrators play in `workers` processes (default: one per core, at most one per
    narrator); the numbers do not depend on how many."""
    from agents.narrator.baselines import TUNED_RULES

    path = Path(path)
    plot = Path(plot) if plot else path.parent / "img" / "narrator_eval.png"
    names = list(narrators())
    workers = workers or min(len(names) + 1, os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            arms_job = pool.submit(_personalisation, episodes)
            runs = dict(zip(names, pool.map(_play_named, names, [episodes] * len(names)), strict=True))
            arms = arms_job.result()
    else:
        runs = {name: _play_named(name, episodes) for name in names}
        arms = _personalisation(episodes)
    pooled = {name: summarise(eps) for name, eps in runs.items()}
    ppo = ppo_runs()
    all_seeds = f"{PPO}, {len(ppo)} training seeds"
    groups = {all_seeds: list(ppo)} if len(ppo) > 1 else {}
    iqms = {outcome: iqm(runs, outcome, groups) for outcome in ("won", "quit")}
    cards = {
        name: json.loads(path.with_suffix(".json").read_text(encoding="utf-8")) for name, path in ppo.items()
    }
    rules = json.loads(TUNED_RULES.read_text(encoding="utf-8"))
    n_types = len(HELD_OUT_TYPES)
    lines = [
        "# The narrator on held-out players",
        "",
        f"Written by `ludoforge narrator eval --episodes {episodes}`. Each narrator plays the same {episodes} runs",
        f"for each of the {n_types} held-out player types ({', '.join(HELD_OUT_TYPES)}), on dungeons from the test",
        "seeds (1,000,000 up), which training never sees: the same dungeon, player and seeds for every narrator.",
        "Intervals are 95% (1.96 standard errors). Time to exit is over the won runs only.",
        "",
        "| narrator | " + " | ".join(_LABELS[m] for m in _LABELS) + " |",
        "|---|" + "---|" * len(_LABELS),
    ]
    for name, est in pooled.items():
        lines.append(f"| {name} | " + " | ".join(_cell(est[m], m) for m in _LABELS) + " |")
    n_runs = len(runs[names[0]])
    lines += [
        "",
        "## Interquartile mean (rliable)",
        "",
        f"The same runs as above, as RL papers report them (Agarwal et al., 2021): each narrator's {n_runs} runs",
        "in order are cut into 10 blocks of consecutive episodes (the same blocks for every narrator; each block",
        "holds one player type), and the IQM over the blocks' completion and quit rates comes with a",
        "stratified-bootstrap 95% CI (`agents.statistics.iqm_intervals`, 2,000 resamples). Each row is one run,",
        f"except `{all_seeds}`, which takes PPO's training seeds as its runs, so its interval covers the",
        "variation between training seeds as well as the episodes. The Q-learning table is one training run.",
        "",
        "| narrator | runs | completion IQM [95% CI] | quit rate IQM [95% CI] |",
        "|---|---|---|---|",
    ]
    for name in [*names, *groups]:
        won, quit = iqms["won"][name], iqms["quit"][name]
        lines.append(
            f"| {name} | {won.runs} | {won.value:.2f} [{won.low:.2f}, {won.high:.2f}] "
            f"| {quit.value:.2f} [{quit.low:.2f}, {quit.high:.2f}] |"
        )
    lines += _paired_lines(runs, list(ppo), "rule-based (CMA-ES)")
    lines += ["", "## By player type", ""]
    lines += ["| type | narrator | completion | quit rate | death rate |", "|---|---|---|---|---|"]
    for kind in HELD_OUT_TYPES:
        for name, eps in runs.items():
            est = summarise([e for e in eps if e.player_type == kind])
            lines.append(
                f"| {kind} | {name} | "
                + " | ".join(_cell(est[m], m) for m in ("completion", "quit", "died"))
                + " |"
            )
    lines += [
        "",
        "## Personalisation",
        "",
        "Each held-out player plays two floors. On the first (a default dungeon, the PPO narrator) the player",
        "model learns who is playing. The second is played twice, by the same player on the same seeds: once in",
        "a dungeon built to the model's belief (length, branches, and the room GAN's enemy, hazard and treasure",
        "conditions) with the narrator seeing that belief, once in a default dungeon with the narrator's belief",
        "held at the uniform prior. Time in flow is the fraction of ticks the player is neither bored nor",
        "frustrated past half their threshold.",
        "",
        "| second floor | completion | quit rate | death rate | time in flow |",
        "|---|---|---|---|---|",
    ]
    for arm, eps in arms.items():
        est = summarise(eps)
        lines.append(
            f"| {arm} | "
            + " | ".join(_cell(est[m], m) for m in ("completion", "quit", "died", "flow"))
            + " |"
        )
    lines += [
        "",
        "## The PPO narrator",
        "",
        "The same command at each training seed; the game ships the first and plays it. ONNX parity is the",
        "fraction of greedy actions identical to the torch actor's.",
        "",
        "| run | command | seed | decisions | train minutes | date | ONNX parity |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {name} | `{c['command']}` | {c['seed']} | {c['steps']:,} | {c['train_seconds'] / 60:.1f} "
            f"| {c['date']} | {c['onnx_parity']['identical_fraction']:.3f} of {c['onnx_parity']['observations']} |"
            for name, c in cards.items()
        ),
        "",
        "## The tuned rules",
        "",
        "The rule-based narrator's thresholds (`agents.narrator.baselines.RuleParams`), tuned by CMA-ES on",
        "the five training types and training dungeons for the env's episode return, the reward PPO maximises:",
        f"`{rules['command']}`: {rules['budget']['decisions']:,} decisions "
        f"({rules['budget']['candidate_evaluations']} candidate evaluations in "
        f"{rules['budget']['generations']} generations, then the final check),",
        f"{rules['train_seconds'] / 60:.1f} min, seed {rules['seed']}, {rules['date']}. Training return on the",
        f"final check's {rules['final_check']['episodes']} episodes: tuned ({rules['chosen']}) "
        f"{rules['final_check'][rules['chosen']]['mean']:.2f} ± {rules['final_check'][rules['chosen']]['ci95']:.2f}, "
        f"designer {rules['final_check']['designer']['mean']:.2f} ± {rules['final_check']['designer']['ci95']:.2f}.",
        "",
        f"![narrators on held-out players]({plot.relative_to(path.parent).as_posix()})",
    ]
    _plot(pooled, plot)
    atomic_write_text(path, "\n".join(lines) + "\n")


def _paired_lines(runs: dict[str, Sequence[Episode]], learned: list[str], baseline: str) -> list[str]:
    """Each PPO seed against the tuned rules on the same runs: the per-episode difference in completion and in
    quits, mean ± 95% CI (the criterion the NPC report uses)."""
    lines = [
        "",
        "## Against the tuned rules, paired",
        "",
        "Every run is played by each narrator on the same dungeon, player and seeds, so each PPO seed is compared",
        f"with `{baseline}` run by run: the mean per-run difference (PPO minus the rules) with its 95% CI. A seed",
        "does better where the whole interval is on its side of 0.",
        "",
        "| PPO run | completion difference | quit rate difference |",
        "|---|---|---|",
    ]
    base = runs[baseline]
    for name in learned:
        cells = []
        for outcome in ("won", "quit"):
            mine = np.array([e.outcome == outcome for e in runs[name]], float)
            theirs = np.array([e.outcome == outcome for e in base], float)
            cells.append(str(ci95(mine - theirs)))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _cell(est: Estimate, metric: str) -> str:
    if np.isnan(est.mean):
        return "n/a"
    if metric in ("seconds_to_exit", "interventions_per_minute"):
        return f"{est.mean:.1f} ± {est.half_width:.1f}"
    return f"{est.mean:.2f} ± {est.half_width:.2f}"


def _plot(pooled: dict[str, dict[str, Estimate]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ("completion", "quit", "died")
    names = list(pooled)
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = np.arange(len(metrics)) + i * width
        ax.bar(
            xs,
            [pooled[name][m].mean for m in metrics],
            width,
            yerr=[pooled[name][m].half_width for m in metrics],
            capsize=2,
            label=name,
        )
    ax.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, ["completion", "quit", "died"])
    ax.set_ylim(0, 1.2)  # headroom for the legend above the bars
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("fraction of runs (95% CI)")
    ax.set_title("Narrators on held-out player types")
    ax.legend(fontsize=7, ncol=4, loc="upper center")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


__all__ = ["METRICS", "Episode", "iqm", "narrators", "play", "summarise", "write_report"]
