"""`ludoforge levels eval`: every DESIGN.md measure for the GAN and its baselines, in one run, as Markdown + plots.

Rows, all finished the same way for the genre (a room frame with the conditioned doors, or a start and exit):
- the training set itself (its originals),
- random tiles (i.i.d., drawn with the training set's tile frequencies),
- WaveFunctionCollapse, overlapping model, trained on the same examples,
- the GAN without repair, and the GAN with repair.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import atomic_write_text
from procgen.levels.control import TARGETS, TOLERANCE, measure, search
from procgen.levels.generator import LevelGenerator
from procgen.levels.preview import save_levels_png
from procgen.levels.solver import is_playable
from procgen.levels.structure import finish
from procgen.levels.wfc import OverlappingWFC
from procgen.metrics.levels import broken_structures, diversity, duplicates, novelty, tile_pattern_kl

MAX_EVAL_SAMPLES = 20_000


@dataclass
class Row:
    name: str
    sems: np.ndarray
    playable: float
    repaired: bool = False
    edit_fraction: float = 0.0
    repair_ms: float = 0.0
    seconds_per_level: float = 0.0
    raw: np.ndarray | None = None
    """the generator's argmax before the genre's finishing step (frame, ladders, endpoints), when there is one"""


def _playable(sems: np.ndarray, gen: LevelGenerator) -> np.ndarray:
    room = gen.genre.name == "topdown"
    return np.array([is_playable(s, gen.genre, room=room) for s in sems])


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

    wfc = OverlappingWFC(corpus.examples)
    t0 = time.perf_counter()
    made = np.stack([wfc.generate(h, w, rng) for _ in range(wfc_samples)])
    per = (time.perf_counter() - t0) / wfc_samples
    made = finish(made, doors[:wfc_samples], gen.genre.name)
    rows.append(
        Row("WFC (overlapping, N=2)", made, float(_playable(made, gen).mean()), seconds_per_level=per)
    )
    return rows


def gan_rows(gen: LevelGenerator, n: int, seed: int) -> list[Row]:
    """The GAN as it samples (finished, checked), then the same samples through the generator's own repair."""
    t0 = time.perf_counter()
    raw, report = gen.sample_codes(n, seed, repair=False)
    per = (time.perf_counter() - t0) / n
    fixed, repaired = gen.repair_codes(raw.copy(), report.raw, report.raw_playable)
    times = repaired.repair_seconds[~report.raw_playable]
    return [
        Row("GAN, no repair", raw, float(report.raw_playable.mean()), seconds_per_level=per, raw=report.raw),
        Row(
            "GAN + repair",
            fixed,
            float(_playable(fixed, gen).mean()),
            repaired=True,
            edit_fraction=float(repaired.edits.sum() / (n * raw[0].size)),
            repair_ms=float(np.median(times) * 1e3) if len(times) else 0.0,
            seconds_per_level=per + float(times.sum()) / n,
            raw=report.raw,
        ),
    ]


def quality_table(rows: list[Row], gen: LevelGenerator) -> tuple[str, dict[str, dict[str, float]]]:
    train = gen.corpus.examples
    lines = [
        "| generator | n | playable | tiles edited | repair ms (median) | duplicates | diversity | novelty | training copies | KL 2×2 | KL 3×3 | KL 4×4 | broken | broken before finishing | ms/level |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    numbers: dict[str, dict[str, float]] = {}
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
            "kl2": tile_pattern_kl(train, as_trained, 2),
            "kl3": tile_pattern_kl(train, as_trained, 3),
            "kl4": tile_pattern_kl(train, as_trained, 4),
            "kl2_endpoints_kept": tile_pattern_kl(train, row.sems, 2),
            "broken": float(broken_structures(row.sems, gen.genre.name).mean()),
            "broken_raw": float(
                broken_structures(row.raw if row.raw is not None else row.sems, gen.genre.name).mean()
            ),
            "ms_per_level": row.seconds_per_level * 1e3,
        }
        numbers[row.name] = m
        edited = f"{m['edit_fraction']:.2%}" if row.repaired else "–"
        rep_ms = f"{row.repair_ms:.1f}" if row.repaired else "–"
        lines.append(
            f"| {row.name} | {m['n']} | {m['playable']:.1%} | {edited} | {rep_ms} | {m['duplicates']:.1%} | "
            f"{m['diversity']:.3f} | {m['novelty']:.3f} | {m['training_copies']:.1%} | {m['kl2']:.3f} | "
            f"{m['kl3']:.3f} | {m['kl4']:.3f} | {m['broken']:.1%} | {m['broken_raw']:.1%} | {m['ms_per_level']:.2f} |"
        )
    return "\n".join(lines), numbers


def control_table(gen: LevelGenerator, targets_n: int, seed: int) -> tuple[str, dict, list]:
    """Targets drawn from the training levels' own measures (so each is achievable), then for each: conditioning
    alone, and conditioning plus CMA-ES."""
    rng = np.random.default_rng(seed)
    originals = gen.corpus.originals
    room = gen.genre.name == "topdown"
    picked = originals[rng.choice(len(originals), targets_n, replace=len(originals) < targets_n)]
    sems = picked if room else finish(picked, np.zeros(picked.shape, np.float32), gen.genre.name)
    results = {"conditioning only": [], "conditioning + CMA-ES": []}
    pairs = []
    for k, sem in enumerate(sems):
        m = measure(sem, gen)
        targets = {key: m[key] for key in TARGETS if m[key] >= 0}
        for label, use in (("conditioning only", False), ("conditioning + CMA-ES", True)):
            res = search(gen, targets, seed=seed + k, use_search=use)
            results[label].append(res)
            if use:
                pairs.append((targets.get("path_length", 0), res.measures["path_length"]))
    lines = [
        "| method | hit rate (all targets) | "
        + " | ".join(f"{t} hit / mean abs error" for t in TARGETS)
        + " |",
        "|---|---|" + "---|" * len(TARGETS),
    ]
    summary = {}
    for label, res in results.items():
        cells = []
        per = {}
        for t in TARGETS:
            errs = [r.errors[t] for r in res if t in r.targets]
            hit = np.mean([e <= TOLERANCE[t] + 1e-9 for e in errs])
            per[t] = {"hit": float(hit), "mae": float(np.mean(errs))}
            cells.append(f"{hit:.0%} / {np.mean(errs):.3g}")
        rate = float(np.mean([r.hit for r in res]))
        summary[label] = {"hit_rate": rate, **per}
        lines.append(f"| {label} | {rate:.0%} | " + " | ".join(cells) + " |")
    return "\n".join(lines), summary, pairs


def _plots(numbers: dict, pairs: list, out_dir: Path, prefix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(numbers)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    x = np.arange(len(names))
    for j, k in enumerate(("kl2", "kl3", "kl4")):
        ax.bar(x + (j - 1) * 0.27, [numbers[n][k] for n in names], 0.27, label=f"{k[-1]}×{k[-1]}")
    ax.set_xticks(x, names, rotation=15, fontsize=8)
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylabel("KL(train ‖ generated)")
    ax.legend()
    fig.tight_layout()
    kl_png = f"{prefix}_kl.png"
    fig.savefig(out_dir / kl_png, dpi=110)
    plt.close(fig)
    files = [kl_png]
    if pairs:
        fig, ax = plt.subplots(figsize=(4, 4))
        t, a = np.array(pairs).T
        ax.scatter(t, a, s=12)
        lim = [0, max(t.max(), a.max()) + 2]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set_xlabel("target path length")
        ax.set_ylabel("achieved (CMA-ES)")
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
    gen = generator or LevelGenerator.pretrained(name)
    out_dir = Path(out_dir)
    (out_dir / "img").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = baseline_rows(gen, n, seed, min(wfc_samples, n)) + gan_rows(gen, n, seed)
    table, numbers = quality_table(rows, gen)
    ctable, csummary, pairs = control_table(gen, control_targets, seed)
    prefix = f"levels_{name}"
    plots = _plots(numbers, pairs, out_dir / "img", prefix)
    for row in rows:
        save_levels_png(
            row.sems[:24], out_dir / "img" / f"{prefix}_samples_{_slug(row.name)}.png", scale=5, columns=8
        )
    card = gen.weights_id
    md = [
        f"# Level GAN evaluation: {name}",
        "",
        f"Weights `{card}`, {n} samples per generator (WFC: {min(wfc_samples, n)}), seed {seed}; "
        f"run took {time.perf_counter() - t0:.0f} s. Written by `ludoforge levels eval --corpus {name}`.",
        "Every measure follows DESIGN.md. Playability for rooms: every border door reaches every other door, the tile inside each door and "
        "every pickup; for platformer segments: the exit reachable from the start under the jump model.",
        "",
        "## Quality",
        "",
        table,
        "",
        "diversity: mean pairwise Hamming distance (fraction of tiles); novelty: mean distance to the nearest "
        "training example; KL: tile-pattern KL(P_train ‖ Q_gen), ε = 1e-7; broken: "
        + (
            "a door without its frame, or a gap in the room's border"
            if gen.genre.name == "topdown"
            else "a ladder hanging in the air"
        )
        + ".",
        *(
            [
                "",
                "Novelty and KL compare the segments as the training windows are kept: `build_corpus` strips every "
                "window's start and exit to floor, and finishing puts one of each in every segment, so those two "
                "tiles become floor before comparing (`Corpus.as_examples`). With them kept, the GAN's KL 2×2 is "
                f"{numbers['GAN + repair']['kl2_endpoints_kept']:.3f}.",
            ]
            if gen.genre.name == "platformer"
            else []
        ),
        "",
        f"![KL by pattern size](img/{plots[0]})",
        "",
        "## Control",
        "",
        f"{control_targets} targets, each the measures of a random training level. A target counts as hit when "
        f"every measure is within tolerance ({', '.join(f'{k} ±{v:g}' for k, v in TOLERANCE.items())}).",
        "",
        ctable,
        "",
        *([f"![path length control](img/{plots[1]})", ""] if len(plots) > 1 else []),
        "## Samples",
        "",
        *[f"**{row.name}**\n\n![{row.name}](img/{prefix}_samples_{_slug(row.name)}.png)\n" for row in rows],
    ]
    atomic_write_text(out_dir / f"levels_eval_{name}.md", "\n".join(md) + "\n")
    if update_card and gen.weights_stem is not None:
        _record_on_card(gen.weights_stem, numbers, csummary, n, seed)
    return {"quality": numbers, "control": csummary}


def _record_on_card(stem: Path, numbers: dict, control: dict, n: int, seed: int) -> None:
    """Put the latest evaluation on the weights card (the training-time metrics stay as they were)."""
    card_path = stem.with_suffix(".json")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    gan = numbers["GAN + repair"]
    card["latest_eval"] = {
        "command": f"ludoforge levels eval --corpus {stem.name.removeprefix('levels_')} --n {n} --seed {seed}",
        "date": dt.date.today().isoformat(),
        "playable_raw": round(numbers["GAN, no repair"]["playable"], 4),
        "playable_after_repair": round(gan["playable"], 4),
        "repair_edit_fraction": round(gan["edit_fraction"], 5),
        "duplicates": round(gan["duplicates"], 4),
        "diversity": round(gan["diversity"], 4),
        "diversity_train": round(numbers["training set"]["diversity"], 4),
        "kl_2x2": round(gan["kl2"], 4),
        "broken_structures": round(gan["broken"], 4),
        "broken_structures_raw_argmax": round(gan["broken_raw"], 4),
        "control_hit_rate_cma_es": round(control["conditioning + CMA-ES"]["hit_rate"], 3),
    }
    atomic_write_text(card_path, json.dumps(card, indent=1) + "\n")
