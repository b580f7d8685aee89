"""`ludoforge levels eval`: every DESIGN.md measure for the GAN and its baselines, in one run, as Markdown + plots.

Rows: the training set itself (its originals); random tiles (i.i.d., the training set's tile frequencies);
WaveFunctionCollapse (overlapping model) trained on the same examples (rooms: batched, under the GAN's door
conditions); and the GAN three times over: its argmax as it comes out, finished (a room frame with the
conditioned doors, or a start and exit), and repaired. Beside them: tile-pattern KL against the corpus's split-half reference, duplicates at five seeds, and latent search
(CMA-ES) against the best of as many random latents at equal budgets.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.atomic import atomic_write_json, atomic_write_text
from engine.level import Semantic
from procgen.levels.control import METHODS, TARGETS, TOLERANCE, measure, search_budgets
from procgen.levels.corpus import Corpus
from procgen.levels.generator import MODE_REDRAWS, LevelGenerator
from procgen.levels.preview import save_levels_png
from procgen.levels.solver import is_playable, room_playable
from procgen.levels.structure import finish
from procgen.levels.wfc import BatchedRoomWFC, OverlappingWFC
from procgen.metrics.levels import (
    SPLITS,
    SplitHalfKL,
    broken_structures,
    diversity,
    duplicates,
    novelty,
    split_half_kl,
    tile_pattern_kl,
)

MAX_EVAL_SAMPLES = 20_000
KL_SIZES = (2, 3, 4)
TRAINED_K = 2
"""the pattern size of the trainer's pattern loss (`PatternLoss` in procgen/levels/train.py): a training loss,
so the GAN is judged on the other sizes"""
KL_GOAL_RATIO = 1.0
"""goal: KL(P_A ‖ Q_G) / KL(P_A ‖ P_B) ≤ this, like with like (see docs/levels.md)"""
DUPLICATE_SEEDS = (0, 1, 2, 3, 4)
BUDGETS = (1, 10, 50, 100, 400)
"""evaluations (one generator forward + `measure` each) given to each latent search method"""
METHOD_NAMES = {"cma-es": "CMA-ES", "random": "best of N random latents"}
GAN_RAW, GAN_FINISHED, GAN_REPAIRED = "GAN, raw argmax", "GAN, finished", "GAN + repair"
UNGROUPED = "GAN + repair, windows split at random"
"""the KL ratio against a reference whose halves share overlapping windows (windowed corpora only; not the goal)"""


@dataclass
class Row:
    name: str
    sems: np.ndarray
    playable: float
    repaired: bool = False
    edit_fraction: float = 0.0
    repair_ms: float = 0.0
    seconds_per_level: float = 0.0


def _playable(sems: np.ndarray, gen: LevelGenerator) -> np.ndarray:
    room = gen.genre.name == "topdown"
    return np.array([is_playable(s, gen.genre, room=room) for s in sems])


def playable_as_generated(raw: np.ndarray, doors: np.ndarray, gen: LevelGenerator) -> np.ndarray:
    """(N,) playability of the generator's argmax before any finishing, by the same definitions.

    A room counts only as it stands: its border is already a frame (wall or door on every border tile), its
    border doors are exactly the conditioned ones, it holds no start or exit (a dungeon places those), and it
    passes the room question. A platformer segment needs a start and an exit (DESIGN.md) and the generator never
    makes them (`build_corpus` strips them from every window), so every raw segment is unplayable by definition.
    """
    if gen.genre.name != "topdown":
        return _playable(raw, gen)
    h, w = raw.shape[1:]
    ring = np.zeros((h, w), dtype=bool)
    ring[[0, -1], :] = True
    ring[:, [0, -1]] = True
    wall, door = Semantic.WALL.code, Semantic.DOOR.code
    framed = np.isin(raw, (wall, door))[:, ring].all(1)
    asked = ((raw == door)[:, ring] == doors.astype(bool)[:, ring]).all(1)
    no_endpoints = ~np.isin(raw, (Semantic.START.code, Semantic.EXIT.code)).any((1, 2))
    ok = framed & asked & no_endpoints
    ok[ok] = [room_playable(s) for s in raw[ok]]
    return ok


def baseline_rows(gen: LevelGenerator, n: int, seed: int, wfc_samples: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    corpus = gen.corpus
    h, w = corpus.shape
    train = finish(corpus.originals, np.zeros(corpus.originals.shape, np.float32), gen.genre.name)
    if gen.genre.name == "topdown":
        train = corpus.originals  # rooms come framed already; a platformer window needs its start and exit
    rows = [Row("training set", train, float(_playable(train, gen).mean()))]

    _, doors = gen.conditions(n, rng)
    codes, freq = np.unique(corpus.examples, return_counts=True)
    t0 = time.perf_counter()
    noise = rng.choice(codes, size=(n, h, w), p=freq / freq.sum()).astype(np.uint8)
    noise = finish(noise, doors, gen.genre.name)
    rows.append(
        Row(
            "random tiles",
            noise,
            float(_playable(noise, gen).mean()),
            seconds_per_level=(time.perf_counter() - t0) / n,
        )
    )

    t0 = time.perf_counter()
    if gen.genre.name == "topdown":  # rooms: the whole batch at once, under the GAN's own door conditions
        made = BatchedRoomWFC(corpus.examples).generate_rooms(doors[:wfc_samples], rng)
        name = "WFC (overlapping, N=2, same doors)"
    else:
        wfc = OverlappingWFC(corpus.examples)
        made = np.stack([wfc.generate(h, w, rng) for _ in range(wfc_samples)])
        name = "WFC (overlapping, N=2)"
    per = (time.perf_counter() - t0) / wfc_samples
    made = finish(made, doors[:wfc_samples], gen.genre.name)
    rows.append(Row(name, made, float(_playable(made, gen).mean()), seconds_per_level=per))
    return rows


def gan_rows(gen: LevelGenerator, n: int, seed: int) -> list[Row]:
    """The same samples three times: the argmax as generated, finished for the genre, and repaired."""
    t0 = time.perf_counter()
    finished, report = gen.sample_codes(n, seed, repair=False)
    per = (time.perf_counter() - t0) / n
    _, doors = gen.conditions(n, np.random.default_rng(seed))  # what sample_codes drew for this seed
    raw_ok = playable_as_generated(report.raw, doors, gen)
    fixed, repaired = gen.repair_codes(finished.copy(), report.raw, report.raw_playable)
    times = repaired.repair_seconds[~report.raw_playable]
    return [
        Row(GAN_RAW, report.raw, float(raw_ok.mean()), seconds_per_level=per),
        Row(GAN_FINISHED, finished, float(report.raw_playable.mean()), seconds_per_level=per),
        Row(
            GAN_REPAIRED,
            fixed,
            float(_playable(fixed, gen).mean()),
            repaired=True,
            edit_fraction=float(repaired.edits.sum() / (n * finished[0].size)),
            repair_ms=float(np.median(times) * 1e3) if len(times) else 0.0,
            seconds_per_level=per + float(times.sum()) / n,
        ),
    ]


def window_groups(corpus: Corpus, stride: int = 2) -> np.ndarray | None:
    """One label per training original, shared by windows cut from the same stretch (two window lengths) of one
    level, so that a split-half reference does not put overlapping windows on both sides. None for a corpus of
    whole rooms (each its own level) or when the windows cannot be traced back (another stride)."""
    from procgen.levels.corpus import _offsets

    h, w = corpus.shape
    if all(lv.semantic_grid().shape == (h, w) for lv in corpus.levels):
        return None
    labels = []
    for i, lv in enumerate(corpus.levels):
        gh, gw = (max(a, b) for a, b in zip(lv.semantic_grid().shape, (h, w), strict=True))
        labels += [
            i * 10_000 + (y // (2 * h)) * 100 + x // (2 * w)
            for y in _offsets(gh, h, stride)
            for x in _offsets(gw, w, stride)
        ]
    return np.array(labels) if len(labels) == len(corpus.originals) else None


def kl_numbers(rows: list[Row], gen: LevelGenerator, seed: int) -> dict[str, dict[int, SplitHalfKL]]:
    """Per generated row and pattern size, the split-half reference and the row judged like with like (the
    same splits, so the same reference, for every row)."""
    corpus = gen.corpus
    groups = window_groups(corpus)
    out: dict[str, dict[int, SplitHalfKL]] = {}
    for row in rows:
        if row.name == "training set":
            continue
        judged = corpus.as_examples(row.sems)
        out[row.name] = {
            k: split_half_kl(corpus.originals, k, gen.genre.flips, judged, seed=seed, groups=groups)
            for k in KL_SIZES
        }
        if (
            groups is not None and row.name == GAN_REPAIRED
        ):  # what ignoring the overlap would say, for the record
            out[UNGROUPED] = {
                k: split_half_kl(corpus.originals, k, gen.genre.flips, judged, seed=seed) for k in KL_SIZES
            }
    return out


def quality_table(
    rows: list[Row], gen: LevelGenerator, kl: dict[str, dict[int, SplitHalfKL]]
) -> tuple[str, dict[str, dict[str, float]]]:
    train = gen.corpus.examples
    lines = [
        "| generator | n | playable | tiles edited | repair ms (median) | duplicates | diversity | novelty | "
        "training copies | KL 2×2 | KL 3×3 | KL 4×4 | broken | ms/level |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    numbers: dict[str, dict[str, float]] = {}
    reference = next(iter(kl.values()))
    for row in rows:
        as_trained = gen.corpus.as_examples(row.sems)  # like with like: see Corpus.as_examples
        nov, copies = novelty(as_trained, train)
        m = {
            "n": len(row.sems),
            "playable": row.playable,
            "edit_fraction": row.edit_fraction,
            "duplicates": duplicates(row.sems),
            "diversity": diversity(row.sems[:2000]),
            "novelty": nov,
            "training_copies": copies,
            "broken": float(broken_structures(row.sems, gen.genre.name).mean()),
            "ms_per_level": row.seconds_per_level * 1e3,
        }
        for k in KL_SIZES:
            if (
                row.name == "training set"
            ):  # the corpus's own split-half reference, not the set against itself
                m[f"kl{k}"] = float(reference[k].reference.mean())
            else:
                m[f"kl{k}"] = tile_pattern_kl(train, as_trained, k)
                m[f"kl{k}_same_size"] = float(kl[row.name][k].generated.mean())
                m[f"kl{k}_ratio"] = float(kl[row.name][k].ratio.mean())
        if gen.genre.name == "platformer" and row.name != "training set":
            m["kl2_endpoints_kept"] = tile_pattern_kl(train, row.sems, 2)
        numbers[row.name] = m
        edited = f"{m['edit_fraction']:.2%}" if row.repaired else "–"
        rep_ms = f"{row.repair_ms:.1f}" if row.repaired else "–"
        mark = "†" if row.name == "training set" else ""
        lines.append(
            f"| {row.name} | {m['n']} | {m['playable']:.1%} | {edited} | {rep_ms} | {m['duplicates']:.1%} | "
            f"{m['diversity']:.3f} | {m['novelty']:.3f} | {m['training_copies']:.1%} | "
            + " | ".join(f"{m[f'kl{k}']:.3f}{mark}" for k in KL_SIZES)
            + f" | {m['broken']:.1%} | {m['ms_per_level']:.2f} |"
        )
    return "\n".join(lines), numbers


def kl_table(kl: dict[str, dict[int, SplitHalfKL]], numbers: dict, gen: LevelGenerator) -> tuple[str, dict]:
    """The KL goal, like with like: each row's ratio to the split-half reference, met or not."""
    ref = next(iter(kl.values()))
    lines = [
        "| | " + " | ".join(f"{k}×{k}" for k in KL_SIZES) + " |",
        "|---|" + "---|" * len(KL_SIZES),
        "| split-half reference KL(P_A ‖ P_B), mean ± sd | "
        + " | ".join(f"{ref[k].reference.mean():.3f} ± {ref[k].reference.std():.3f}" for k in KL_SIZES)
        + " |",
    ]
    goals: dict[str, dict[int, bool]] = {}
    if UNGROUPED in kl:
        loose = kl[UNGROUPED]
        lines += [
            "| not the goal: reference with windows split at random, mean ± sd | "
            + " | ".join(
                f"{loose[k].reference.mean():.3f} ± {loose[k].reference.std():.3f}" for k in KL_SIZES
            )
            + " |",
            "| not the goal: GAN + repair's ratio to it | "
            + " | ".join(
                f"{loose[k].ratio.mean():.2f} [{np.quantile(loose[k].ratio, 0.05):.2f}, "
                f"{np.quantile(loose[k].ratio, 0.95):.2f}]"
                for k in KL_SIZES
            )
            + " |",
        ]
    for name, per_k in kl.items():
        if name == UNGROUPED:
            continue
        cells_kl, cells_same, cells_ratio = [], [], []
        goals[name] = {}
        for k in KL_SIZES:
            r = per_k[k].ratio
            met = bool(r.mean() <= KL_GOAL_RATIO)
            goals[name][k] = met
            cells_kl.append(f"{numbers[name][f'kl{k}']:.3f}")
            cells_same.append(f"{per_k[k].generated.mean():.3f}")
            verdict = (
                "training loss"
                if name.startswith("GAN") and k == TRAINED_K
                else ("**met**" if met else "**unmet**")
                if name.startswith("GAN")
                else ""
            )
            cells_ratio.append(
                f"{r.mean():.2f} [{np.quantile(r, 0.05):.2f}, {np.quantile(r, 0.95):.2f}]"
                + (f" {verdict}" if verdict else "")
            )
        lines += [
            f"| {name}: KL(P_train ‖ Q), {numbers[name]['n']} levels | " + " | ".join(cells_kl) + " |",
            f"| {name}: KL(P_A ‖ Q_G), as many levels as B | " + " | ".join(cells_same) + " |",
            f"| {name}: **ratio** to the reference | " + " | ".join(cells_ratio) + " |",
        ]
    return "\n".join(lines), goals


def duplicates_table(gen: LevelGenerator, n: int) -> tuple[str, dict]:
    """Duplicates (and training copies) at each of DUPLICATE_SEEDS, with the shipped sampler and without its
    mode redraw (the same latents passed in as `z`, which the sampler keeps as they are)."""
    lines = [
        "| seed | duplicates | training copies | without the redraw: duplicates | training copies |",
        "|---|---|---|---|---|",
    ]
    out: dict[str, list[float]] = {"duplicates": [], "copies": [], "plain_duplicates": [], "plain_copies": []}
    train = gen.corpus.examples
    for s in DUPLICATE_SEEDS:
        codes, _ = gen.sample_codes(n, s, repair=False)
        plain, _ = gen.sample_codes(n, s, repair=False, z=gen.latents(n, s))
        d, c = duplicates(codes), novelty(gen.corpus.as_examples(codes), train)[1]
        pd, pc = duplicates(plain), novelty(gen.corpus.as_examples(plain), train)[1]
        for key, v in zip(out, (d, c, pd, pc), strict=True):
            out[key].append(v)
        lines.append(f"| {s} | {d:.1%} | {c:.1%} | {pd:.1%} | {pc:.1%} |")
    return "\n".join(lines), out


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a hit rate."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def control_targets(gen: LevelGenerator, targets_n: int, seed: int) -> list[dict[str, float]]:
    """Targets drawn from the training levels' own measures, so each is achievable."""
    rng = np.random.default_rng(seed)
    originals = gen.corpus.originals
    picked = originals[rng.choice(len(originals), targets_n, replace=len(originals) < targets_n)]
    if gen.genre.name != "topdown":
        picked = finish(picked, np.zeros(picked.shape, np.float32), gen.genre.name)
    out = []
    for sem in picked:
        m = measure(sem, gen)
        out.append({key: m[key] for key in TARGETS if m[key] >= 0})
    return out


def control_table(gen: LevelGenerator, targets_n: int, seed: int) -> tuple[str, str, dict, list]:
    """Hit rates of CMA-ES and of the best of N random latents at each of BUDGETS evaluations: the same targets,
    the same seeds, the same conditions, evaluations counted the same way."""
    targets = control_targets(gen, targets_n, seed)
    hits = {m: np.zeros((len(targets), len(BUDGETS)), dtype=bool) for m in METHODS}
    last = {m: [] for m in METHODS}
    for i, tgt in enumerate(targets):
        for m in METHODS:
            res = search_budgets(gen, tgt, BUDGETS, seed=seed + i, method=m)
            hits[m][i] = [r.hit for r in res]
            last[m].append(res[-1])
    lines = [
        "| evaluations | "
        + " | ".join(f"{METHOD_NAMES[m]}: hit rate [95% CI]" for m in METHODS)
        + " | targets only CMA-ES hits / only random hits |",
        "|---|" + "---|" * len(METHODS) + "---|",
    ]
    summary: dict = {"budgets": list(BUDGETS), "targets": len(targets)}
    for j, b in enumerate(BUDGETS):
        cells = []
        for m in METHODS:
            k = int(hits[m][:, j].sum())
            lo, hi = wilson(k, len(targets))
            summary.setdefault(m, []).append({"hit_rate": k / len(targets), "ci95": [lo, hi]})
            cells.append(f"{k / len(targets):.0%} [{lo:.0%}, {hi:.0%}]")
        only_cma = int((hits["cma-es"][:, j] & ~hits["random"][:, j]).sum())
        only_rnd = int((~hits["cma-es"][:, j] & hits["random"][:, j]).sum())
        label = f"{b} (conditioning alone)" if b == 1 else str(b)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {only_cma} / {only_rnd} |")
    detail = [
        f"| method, {BUDGETS[-1]} evaluations | "
        + " | ".join(f"{t} hit / mean abs error" for t in TARGETS)
        + " |",
        "|---|" + "---|" * len(TARGETS),
    ]
    pairs = []
    for m in METHODS:
        cells = []
        for t in TARGETS:
            errs = [r.errors[t] for r in last[m] if t in r.targets]
            hit = np.mean([e <= TOLERANCE[t] + 1e-9 for e in errs])
            cells.append(f"{hit:.0%} / {np.mean(errs):.3g}")
        detail.append(f"| {METHOD_NAMES[m]} | " + " | ".join(cells) + " |")
        if m == "cma-es":
            pairs = [(r.targets.get("path_length", 0), r.measures["path_length"]) for r in last[m]]
    return "\n".join(lines), "\n".join(detail), summary, pairs


def _plots(numbers: dict, kl: dict, control: dict, pairs: list, out_dir: Path, prefix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in kl if n != UNGROUPED]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    x = np.arange(len(names))
    for j, k in enumerate(KL_SIZES):
        ratios = [kl[n][k].ratio for n in names]
        mean = np.array([r.mean() for r in ratios])
        err = np.array(
            [[m - np.quantile(r, 0.05), np.quantile(r, 0.95) - m] for m, r in zip(mean, ratios, strict=True)]
        )
        ax.bar(x + (j - 1) * 0.27, mean, 0.27, yerr=err.T, capsize=2, label=f"{k}×{k}")
    ax.axhline(KL_GOAL_RATIO, color="k", ls="--", lw=0.8)
    ax.set_xticks(x, names, rotation=15, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("KL(P_A ‖ Q_G) / KL(P_A ‖ P_B)")
    ax.legend()
    fig.tight_layout()
    files = [f"{prefix}_kl.png"]
    fig.savefig(out_dir / files[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for shift, m in zip((0.93, 1.07), METHODS, strict=True):  # side by side, so both intervals stay readable
        rate = np.array([c["hit_rate"] for c in control[m]])
        ci = np.array([c["ci95"] for c in control[m]])
        ax.errorbar(
            np.array(control["budgets"]) * shift,
            rate,
            yerr=[rate - ci[:, 0], ci[:, 1] - rate],
            capsize=3,
            label=METHOD_NAMES[m],
        )
    ax.set_xscale("log")
    ax.set_xlabel("evaluations (generator forward + measure)")
    ax.set_ylabel("hit rate (all targets)")
    ax.set_ylim(0, 1.05)
    ax.legend()
    fig.tight_layout()
    files.append(f"{prefix}_control_budgets.png")
    fig.savefig(out_dir / files[-1], dpi=110)
    plt.close(fig)
    if pairs:
        fig, ax = plt.subplots(figsize=(4, 4))
        t, a = np.array(pairs).T
        ax.scatter(t, a, s=12)
        lim = [0, max(t.max(), a.max()) + 2]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set_xlabel("target path length")
        ax.set_ylabel(f"achieved (CMA-ES, {BUDGETS[-1]} evaluations)")
        fig.tight_layout()
        files.append(f"{prefix}_control.png")
        fig.savefig(out_dir / files[-1], dpi=110)
        plt.close(fig)
    return files


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def evaluate(
    name: str = "dungeon",
    n: int = 1000,
    seed: int = 0,
    out_dir: str | Path = "docs",
    wfc_samples: int = 1000,
    control_targets: int = 30,
    generator: LevelGenerator | None = None,
    update_card: bool = False,
) -> dict:
    """Write `<out_dir>/levels_eval_<name>.md` plus plots and sample grids; return the numbers."""
    if not 10 <= n <= MAX_EVAL_SAMPLES:
        raise ValueError(f"n: expected 10..{MAX_EVAL_SAMPLES}, got {n}")
    # The search runs the generator on batches of 12 (one CMA-ES generation); there, torch's thread pool costs
    # far more than it saves, the more so on a shared machine. Restored on the way out.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _evaluate(name, n, seed, Path(out_dir), wfc_samples, control_targets, generator, update_card)
    finally:
        torch.set_num_threads(threads)


def _evaluate(name, n, seed, out_dir, wfc_samples, control_targets, generator, update_card) -> dict:
    gen = generator or LevelGenerator.pretrained(name)
    (out_dir / "img").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = baseline_rows(gen, n, seed, min(wfc_samples, n)) + gan_rows(gen, n, seed)
    kl = kl_numbers(rows, gen, seed)
    table, numbers = quality_table(rows, gen, kl)
    ktable, goals = kl_table(kl, numbers, gen)
    dtable, dups = duplicates_table(gen, n)
    ctable, cdetail, csummary, pairs = control_table(gen, control_targets, seed)
    prefix = f"levels_{name}"
    plots = _plots(numbers, kl, csummary, pairs, out_dir / "img", prefix)
    for row in rows:
        save_levels_png(
            row.sems[:24], out_dir / "img" / f"{prefix}_samples_{_slug(row.name)}.png", scale=5, columns=8
        )
    room = gen.genre.name == "topdown"
    groups = window_groups(gen.corpus)
    n_units = len(gen.corpus.originals) if groups is None else len(np.unique(groups))
    flips = " and ".join(f for f, on in zip(("horizontal", "vertical"), gen.genre.flips, strict=True) if on)
    g = numbers[GAN_REPAIRED]
    md = [
        f"# Level GAN evaluation: {name}",
        "",
        f"Weights `{gen.weights_id}`, {n} samples per generator (WFC: {min(wfc_samples, n)}), seed {seed}; "
        f"run took {time.perf_counter() - t0:.0f} s. Written by `ludoforge levels eval --corpus {name}`.",
        "Every measure follows DESIGN.md.",
        "",
        "## Playability, before and after finishing",
        "",
        "| GAN samples | playable |",
        "|---|---|",
        f"| raw argmax, before any finishing | {numbers[GAN_RAW]['playable']:.1%} |",
        f"| finished ({'room frame and the conditioned doors' if room else 'ladders grounded, start and exit placed'}), "
        f"no repair | {numbers[GAN_FINISHED]['playable']:.1%} |",
        f"| finished and repaired | {g['playable']:.1%} |",
        "",
        (
            "A room is playable when every door on its border reaches every other door, the tile inside each "
            "door and every pickup. The raw argmax counts only as it stands: its border must already be a frame "
            "(wall or door on every border tile), its border doors exactly the conditioned ones, with no start or "
            "exit in it, before the room question is asked. Finishing sets the frame and the doors."
            if room
            else "A segment is playable when the exit is reachable from the start under the jump model. DESIGN.md "
            "asks for exactly one start and one exit, and the generator never makes either (`build_corpus` "
            "strips them from every training window, so placing them is finishing's job): every raw segment is "
            "unplayable by that definition, and 0% is the honest number. Finishing grounds hanging ladders and "
            "places both endpoints."
        ),
        "",
        "## Quality",
        "",
        table,
        "",
        "diversity: mean pairwise Hamming distance (fraction of tiles); novelty: mean distance to the nearest "
        "training example; KL: tile-pattern KL(P_train ‖ Q_gen), ε = 1e-7, where P_train is the training "
        f"examples as the GAN saw them ({len(gen.corpus.originals)} originals with their {flips} flips, "
        f"{len(gen.corpus.examples)} in all); †: the training set's KL cells are the split-half reference below, "
        "not the set against itself; broken: "
        + (
            "a door without its frame, or a gap in the room's border"
            if room
            else "a ladder hanging in the air"
        )
        + f". The sampler draws again any sample that copies a training example{' or is a bare room' if room else ''} "
        "(see Duplicates), so the GAN's training copies are near 0 by construction.",
        *(
            [
                "",
                "Novelty and KL compare the segments as the training windows are kept: `build_corpus` strips every "
                "window's start and exit to floor, and finishing puts one of each in every segment, so those two "
                "tiles become floor before comparing (`Corpus.as_examples`). With them kept, the GAN's KL 2×2 is "
                f"{g['kl2_endpoints_kept']:.3f}.",
            ]
            if not room
            else []
        ),
        "",
        "## Tile-pattern KL against the corpus's own reference",
        "",
        f"Each of {SPLITS} random splits puts half of the training "
        + (
            "rooms"
            if groups is None
            else f"windows in {n_units} stretches of two window lengths, each kept whole on one side (windows "
            "slide by 2 tiles, so neighbours share most of their tiles: split at random, B would be nearly a "
            "shifted copy of A and the reference would measure that overlap, not a second sample; the two "
            "'not the goal' rows show it),"
        )
        + f" in A and the rest in B, both with the {flips} flips P_train has. The reference is "
        "KL(P_A ‖ P_B). Each generator is judged like with like: KL(P_A ‖ Q_G), where G is as many of its levels "
        "as B holds, flipped the same way, on the same splits. ε-smoothed KL charges about log(1/ε) ≈ 16 nats "
        "for every pattern P has and Q lacks, so it depends on how many levels each side holds; 1,000 "
        "generated levels against the full set would not be comparable with one half against the other. Goal: "
        f"ratio ≤ {KL_GOAL_RATIO:g} (docs/levels.md says why), judged at k = 3 and 4: the pattern loss "
        f"(`--pattern-weight`, procgen/levels/train.py) trains the GAN on the {TRAINED_K}×{TRAINED_K} KL, so "
        f"{TRAINED_K}×{TRAINED_K} is a training loss, not a test. The ratio is the mean over splits, with the "
        "5th and 95th percentiles.",
        "",
        ktable,
        "",
        f"![KL ratio by pattern size](img/{plots[0]})",
        "",
        "## Duplicates at five seeds",
        "",
        f"{n} samples per seed, finished, before repair. The shipped sampler draws a sample again from a fresh "
        f"latent of the same seed (up to {MODE_REDRAWS} times) when it exactly copies a training example"
        + (" or is a bare room (floor inside its frame)" if room else "")
        + "; passing the same latents as `z` turns that off. Goal: each seed < 1%.",
        "",
        dtable,
        "",
        "## Control at equal budgets",
        "",
        f"{control_targets} targets, each the measures of a random training level; the same targets, seeds and "
        "conditions for both methods. One evaluation is one generator forward plus `measure` on the finished "
        "level; both methods spend their first on the seed's own latent (so 1 evaluation is conditioning "
        "alone), and a run that reaches zero error stops early. The best level found is then repaired and "
        "measured; a target is hit when every measure is within tolerance "
        f"({', '.join(f'{k} ±{v:g}' for k, v in TOLERANCE.items())}). 95% intervals are Wilson's, over targets.",
        "",
        ctable,
        "",
        cdetail,
        "",
        f"![hit rate by budget](img/{plots[1]})",
        "",
        *([f"![path length control](img/{plots[2]})", ""] if len(plots) > 2 else []),
        "## Samples",
        "",
        *[f"**{row.name}**\n\n![{row.name}](img/{prefix}_samples_{_slug(row.name)}.png)\n" for row in rows],
    ]
    atomic_write_text(out_dir / f"levels_eval_{name}.md", "\n".join(md) + "\n")
    result = {"quality": numbers, "kl_goals": goals, "duplicates": dups, "control": csummary}
    if update_card and gen.weights_stem is not None:
        _record_on_card(gen.weights_stem, result, n, seed)
    return result


def _record_on_card(stem: Path, result: dict, n: int, seed: int) -> None:
    """Put the latest evaluation on the weights card (the training-time metrics stay as they were)."""
    card_path = stem.with_suffix(".json")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    numbers, control = result["quality"], result["control"]
    gan = numbers[GAN_REPAIRED]
    card["latest_eval"] = {
        "command": f"ludoforge levels eval --corpus {stem.name.removeprefix('levels_')} --n {n} --seed {seed}",
        "date": dt.date.today().isoformat(),
        "playable_raw_before_finishing": round(numbers[GAN_RAW]["playable"], 4),
        "playable_finished": round(numbers[GAN_FINISHED]["playable"], 4),
        "playable_after_repair": round(gan["playable"], 4),
        "repair_edit_fraction": round(gan["edit_fraction"], 5),
        "duplicates": round(gan["duplicates"], 4),
        "duplicates_seeds_0_to_4": [round(d, 4) for d in result["duplicates"]["duplicates"]],
        "diversity": round(gan["diversity"], 4),
        "diversity_train": round(numbers["training set"]["diversity"], 4),
        **{f"kl_{k}x{k}": round(gan[f"kl{k}"], 4) for k in KL_SIZES},
        **{f"kl_{k}x{k}_split_half_reference": round(numbers["training set"][f"kl{k}"], 4) for k in KL_SIZES},
        **{f"kl_{k}x{k}_ratio_like_with_like": round(gan[f"kl{k}_ratio"], 3) for k in KL_SIZES},
        "broken_structures": round(gan["broken"], 4),
        "broken_structures_raw_argmax": round(numbers[GAN_RAW]["broken"], 4),
        "control_hit_rate": {
            METHOD_NAMES[m]: {
                str(b): round(c["hit_rate"], 3) for b, c in zip(BUDGETS, control[m], strict=True)
            }
            for m in METHODS
        },
    }
    atomic_write_json(card_path, card, indent=1)
