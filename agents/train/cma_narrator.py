"""CMA-ES for the rule-based narrator's thresholds, in one file in the cleanrl style (Args → make_env → fitness →
train, top to bottom): the strongest hand-written baseline we can give PPO, tuned on what PPO is tuned on.

    ludoforge train narrator-rules                           # 150,000 env decisions, like PPO's default
    ludoforge train narrator-rules --total-decisions 60000 --workers 2
    ludoforge train narrator-rules --dry-run                 # the whole pipeline in seconds, into a temporary folder

The env is PPO's (`NarratorEnv` on the five training player types and training dungeon seeds 0..num_levels-1;
the held-out types are never played), and the fitness is what PPO maximises: the env's episode return
(undiscounted). The search runs in the unit box of `RuleParams.bounds()`, starting at the designer's values;
every candidate of a generation plays the same episodes (common random numbers), new ones each generation. The
budget counts every env decision played, the final check included. The final check plays the CMA-ES mean, the
best candidate seen and the designer's values on the same fresh training episodes and keeps the best.

Everything goes under --run-dir (runs/narrator_cma/<run>/): TensorBoard charts/* and the card
narrator_rules.json (the thresholds, the designer's, command, seed, budget, training returns, date).
`ludoforge publish runs/narrator_cma/<run>` ships it as agents/policies/narrator_rules.json, which
`TunedRuleNarrator` loads.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cma
import numpy as np
import tyro
from torch.utils.tensorboard import SummaryWriter

from agents.envs.narrator_env import NarratorEnv
from agents.narrator.baselines import RuleBasedNarrator, RuleParams
from agents.narrator.players import HELD_OUT_TYPES, TRAINING_TYPES
from engine.atomic import atomic_write_json
from engine.errors import InputError
from procgen.core.training import run_facts

MAX_DECISIONS = 10_000_000


@dataclass
class Args:
    exp_name: str = "cma_narrator"
    seed: int = 1
    """seeds CMA-ES and the episodes"""
    total_decisions: int = 150_000
    """env decisions (two seconds of game time each) to spend in all, the final check included; PPO's
    default is 150,000"""
    time_limit_minutes: float | None = None
    """stop the search early after this many minutes of wall time (the card records the decisions used)"""
    popsize: int = 10
    """candidates per CMA-ES generation"""
    episodes_per_eval: int = 16
    """training episodes each candidate plays per generation (the same episodes for every candidate)"""
    sigma0: float = 0.2
    """initial step size, in the unit box the bounds map to"""
    num_levels: int = 500
    """training dungeon seeds 0 .. num_levels - 1, as PPO's"""
    final_episodes: int = 100
    """training episodes of the final check (mean, best seen and designer on the same episodes)"""
    workers: int = 2
    """processes that play episodes (0: in this process)"""
    run_dir: str = "runs/narrator_cma"
    dry_run: bool = False
    """a few hundred decisions into a temporary folder: checks the whole pipeline"""


NAMES = list(RuleParams.bounds())
LOW = np.array([RuleParams.bounds()[n][0] for n in NAMES])
HIGH = np.array([RuleParams.bounds()[n][1] for n in NAMES])


def to_params(x: np.ndarray) -> RuleParams:
    """A point of the unit box → thresholds within their bounds."""
    return RuleParams(**dict(zip(NAMES, (LOW + np.clip(x, 0.0, 1.0) * (HIGH - LOW)).tolist(), strict=True)))


def to_unit(params: RuleParams) -> np.ndarray:
    return (np.array([getattr(params, n) for n in NAMES]) - LOW) / (HIGH - LOW)


def make_env(num_levels: int) -> NarratorEnv:
    """PPO's env (agents/train/ppo_narrator.py): the training player types on training dungeons."""
    return NarratorEnv(num_levels=num_levels)


_ENV: NarratorEnv | None = None


def _init_worker(num_levels: int) -> None:
    global _ENV
    _ENV = make_env(num_levels)


def play_episode(task: tuple[dict[str, float], int]) -> tuple[float, int, str]:
    """One training episode with these thresholds from this reset seed: (return, decisions, outcome)."""
    values, seed = task
    assert _ENV is not None, "call _init_worker first"
    narrator = RuleBasedNarrator(RuleParams(**values))
    obs, _ = _ENV.reset(seed=seed)
    ret, decisions, done, info = 0.0, 0, False, {}
    while not done:
        obs, reward, terminated, truncated, info = _ENV.step(narrator.act(obs))
        ret += reward
        decisions += 1
        done = terminated or truncated
    return ret, decisions, str(info["outcome"])


class Evaluator:
    """Plays (thresholds, seed) tasks in worker processes (or here), counting every decision."""

    def __init__(self, args: Args) -> None:
        self.decisions = self.episodes = 0
        if args.workers > 0:
            self.pool = mp.get_context("spawn").Pool(args.workers, _init_worker, (args.num_levels,))
            self.map = self.pool.map
        else:
            self.pool = None
            _init_worker(args.num_levels)
            self.map = lambda f, tasks: list(map(f, tasks))

    def returns(self, candidates: list[RuleParams], seeds: list[int]) -> tuple[np.ndarray, list[str]]:
        """(candidates, episodes) returns, every candidate on the same seeds, and the outcomes."""
        tasks = [(c.as_dict(), s) for c in candidates for s in seeds]
        results = self.map(play_episode, tasks)
        self.decisions += sum(d for _, d, _ in results)
        self.episodes += len(results)
        rets = np.array([r for r, _, _ in results]).reshape(len(candidates), len(seeds))
        return rets, [o for _, _, o in results]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def train(args: Args, command: str | None = None) -> Path:
    """Tune, check and write the card; return its path."""
    if not 1 <= args.total_decisions <= MAX_DECISIONS:
        raise InputError("total_decisions", f"expected 1..{MAX_DECISIONS}, got {args.total_decisions}")
    if args.popsize < 2 or args.episodes_per_eval < 1 or args.final_episodes < 1 or args.workers < 0:
        raise InputError("popsize", "expected popsize >= 2, episodes >= 1 and workers >= 0")
    if args.dry_run:
        args.total_decisions, args.popsize, args.episodes_per_eval = 300, 4, 2
        args.final_episodes, args.num_levels, args.workers = 2, 4, 0
    root = Path(args.run_dir)
    if args.dry_run and args.run_dir == Args.run_dir:
        root = Path(tempfile.mkdtemp(prefix="ludoforge-dry-run-"))
    run = root / f"{args.exp_name}__{args.seed}__{int(time.time())}"
    writer = SummaryWriter(str(run))
    writer.add_text(
        "hyperparameters", "|param|value|\n|-|-|\n" + "\n".join(f"|{k}|{v}|" for k, v in asdict(args).items())
    )
    rng = np.random.default_rng(args.seed)
    designer = RuleParams()
    es = cma.CMAEvolutionStrategy(
        to_unit(designer).tolist(),
        args.sigma0,
        {"bounds": [0.0, 1.0], "popsize": args.popsize, "seed": args.seed, "verbose": -9},
    )
    evaluator = Evaluator(args)
    start = time.time()
    best_x, best_f, generation, per_episode = to_unit(designer), -np.inf, 0, 30.0
    reserve = lambda: 3 * args.final_episodes * per_episode  # noqa: E731  the final check's expected cost
    out_of_time = lambda: (  # noqa: E731
        args.time_limit_minutes is not None and time.time() - start > 60 * args.time_limit_minutes
    )
    while True:
        generation_cost = args.popsize * args.episodes_per_eval * per_episode
        if evaluator.decisions + generation_cost + reserve() > args.total_decisions and generation > 0:
            break
        if out_of_time():
            break
        xs = es.ask()
        seeds = rng.integers(2**31, size=args.episodes_per_eval).tolist()
        rets, outcomes = evaluator.returns([to_params(np.asarray(x)) for x in xs], seeds)
        fitness = rets.mean(axis=1)
        es.tell(xs, (-fitness).tolist())  # cma minimises
        generation += 1
        per_episode = evaluator.decisions / evaluator.episodes
        if fitness.max() > best_f:
            best_f, best_x = float(fitness.max()), np.asarray(xs[int(fitness.argmax())])
        step = evaluator.decisions
        writer.add_scalar("charts/mean_candidate_return", float(fitness.mean()), step)
        writer.add_scalar("charts/best_candidate_return", float(fitness.max()), step)
        writer.add_scalar("charts/sigma", float(es.sigma), step)
        for outcome in ("won", "quit", "died"):
            writer.add_scalar(f"charts/{outcome}", outcomes.count(outcome) / len(outcomes), step)
        # The search so far, each generation: a crashed or stopped run still leaves its thresholds.
        progress = {
            "generation": generation,
            "decisions": step,
            "cma_mean": to_params(np.asarray(es.result.xfavorite)).as_dict(),
            "best_seen": to_params(best_x).as_dict(),
            "best_seen_return": best_f,
        }
        atomic_write_json(run / "progress.json", progress, indent=1)
        print(
            f"generation {generation}: {step:,} decisions, return mean {fitness.mean():.3f} "
            f"best {fitness.max():.3f}, sigma {es.sigma:.3f}, {time.time() - start:.0f} s",
            flush=True,
        )
    search_decisions = evaluator.decisions
    # The final check: the search's mean, its best noisy evaluation and the designer, on the same fresh episodes.
    finalists = {
        "cma_mean": to_params(np.asarray(es.result.xfavorite)),
        "best_seen": to_params(best_x),
        "designer": designer,
    }
    check_seeds = rng.integers(2**31, size=args.final_episodes).tolist()
    rets, _ = evaluator.returns(list(finalists.values()), check_seeds)
    evaluator.close()
    train_seconds = time.time() - start
    check = {
        name: {
            "mean": float(r.mean()),
            "ci95": float(1.96 * r.std(ddof=1) / np.sqrt(len(r))) if len(r) > 1 else 0,
        }
        for name, r in zip(finalists, rets, strict=True)
    }
    chosen = max(finalists, key=lambda name: check[name]["mean"])
    writer.close()
    card = {
        "kind": "ludoforge.narrator_rules",
        "publish_as": "agents/policies/narrator_rules",
        "command": command or "ludoforge train narrator-rules",
        "seed": args.seed,
        "args": asdict(args),
        "params": finalists[chosen].as_dict(),
        "designer_params": designer.as_dict(),
        "bounds": {k: list(v) for k, v in RuleParams.bounds().items()},
        "chosen": chosen,
        "data": {
            "training_types": list(TRAINING_TYPES),
            "held_out_types_never_played": list(HELD_OUT_TYPES),
            "train_levels": [0, args.num_levels - 1],
        },
        "objective": "NarratorEnv episode return (undiscounted), the reward PPO maximises",
        "budget": {
            "decisions": evaluator.decisions,
            "search_decisions": search_decisions,
            "final_check_decisions": evaluator.decisions - search_decisions,
            "generations": generation,
            "candidate_evaluations": generation * args.popsize,
            "episodes": evaluator.episodes,
        },
        "training_return": check[chosen],
        "final_check": {"episodes": args.final_episodes, **check},
        **run_facts(train_seconds, "cpu"),
    }
    path = run / "narrator_rules.json"
    atomic_write_json(path, card, indent=1)
    return path


def main(argv: list[str] | None = None, prog: str = "ludoforge train narrator-rules") -> None:
    args = tyro.cli(Args, args=argv, prog=prog)
    command = " ".join([prog, *map(shlex.quote, argv if argv is not None else sys.argv[1:])])
    path = train(args, command)
    card = json.loads(path.read_text(encoding="utf-8"))
    print(
        f"wrote {path}: {card['chosen']} thresholds, training return {card['training_return']['mean']:.3f}, "
        f"{card['budget']['decisions']:,} decisions"
    )


if __name__ == "__main__":
    main()
