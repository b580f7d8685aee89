"""`ludoforge sprites eval`: a Markdown report with sample grids, every measure as procgen.metrics.sprites defines it.

Per class, in one run: the GAN's finished sprites next to the corpus's own (what a perfect copy would score), for
classifier accuracy against the conditioned class, alpha cleanliness, colour count, duplicates, diversity and the
distance to the nearest corpus sprite (with the share of exact copies), so memorising is visible.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from engine.atomic import atomic_write_text
from procgen.characters.animation import walk_sheet
from procgen.characters.classifier import CLASSIFIER_WEIGHTS, SpriteClassifier
from procgen.characters.corpus import load_corpus
from procgen.characters.generator import SpriteGenerator
from procgen.metrics.sprites import (
    alpha_clean_share,
    colour_counts,
    duplicate_share,
    nearest_training,
    pairwise_diversity,
)

BACKDROP = (46, 44, 58)


def on_backdrop(sprites: np.ndarray, columns: int, scale: int = 2) -> Image.Image:
    """A grid image of (N, H, W, 4) sprites over a dark backdrop, 1 px apart, scaled up without smoothing."""
    n, h, w, _ = sprites.shape
    rows = -(-n // columns)
    grid = np.zeros((rows * (h + 2), columns * (w + 2), 3), np.uint8)
    grid[:] = BACKDROP
    for i, sprite in enumerate(sprites):
        r, c = divmod(i, columns)
        cell = grid[r * (h + 2) + 1 : r * (h + 2) + 1 + h, c * (w + 2) + 1 : c * (w + 2) + 1 + w]
        cell[:] = np.where(sprite[..., 3:] > 0, sprite[..., :3], cell)
    return Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)


def measure(sprites: np.ndarray, cls: str, classifier: SpriteClassifier, corpus_images: np.ndarray) -> dict:
    nearest, copies = nearest_training(sprites, corpus_images)
    colours = colour_counts(sprites)
    return {
        "accuracy": classifier.accuracy(sprites, cls),
        "alpha_clean": alpha_clean_share(sprites),
        "colours_mean": float(colours.mean()),
        "colours_max": int(colours.max()),
        "duplicates": duplicate_share(sprites),
        "diversity": pairwise_diversity(sprites),
        "nearest": float(nearest.mean()),
        "copies": copies,
    }


def report(out_dir: Path, per_class: int = 200, seed: int = 0, weights: Path | None = None) -> Path:
    """Write <out_dir>/sprites_eval.md and its images under <out_dir>/img/; return the report's path."""
    out_dir = Path(out_dir)
    (out_dir / "img").mkdir(parents=True, exist_ok=True)
    gen = SpriteGenerator.from_weights(weights, "cpu") if weights else SpriteGenerator.pretrained("cpu")
    classifier = SpriteClassifier.pretrained()
    corpus = load_corpus()
    classifier_card = json.loads(CLASSIFIER_WEIGHTS.with_suffix(".json").read_text(encoding="utf-8"))
    gen.sample(gen.classes[0], 8, seed)  # warm-up
    rows, grids, sheets = [], [], []
    total_seconds, total = 0.0, 0
    for cls in gen.classes:
        t0 = time.perf_counter()
        sprites = gen.sample(cls, per_class, seed)
        total_seconds += time.perf_counter() - t0
        total += per_class
        own = corpus.of_class(cls)
        gen_row = measure(sprites, cls, classifier, corpus.images)
        rows.append((cls, gen_row, measure(own, cls, classifier, corpus.images), len(own)))
        grids.append(sprites[:12])
        sheets.append(walk_sheet(sprites[0]))
    names = "\n".join(f"row {i + 1}: {c}" for i, c in enumerate(gen.classes))
    on_backdrop(np.concatenate(grids), 12).save(out_dir / "img" / "sprites_samples.png")
    on_backdrop(np.concatenate([corpus.of_class(c)[:12] for c in gen.classes]), 12).save(
        out_dir / "img" / "sprites_corpus.png"
    )
    sheet_row = np.concatenate(sheets, axis=1)
    on_backdrop(sheet_row[None], 1).save(out_dir / "img" / "sprites_walk.png")
    all_acc = float(np.mean([r[1]["accuracy"] for r in rows]))
    lines = [
        "# Sprite GAN evaluation",
        "",
        f"Written by `ludoforge sprites eval` on {time.strftime('%Y-%m-%d')}: {per_class} sprites per class "
        f"(seed {seed}), weights `{gen.weights_id}`, {total / total_seconds:,.0f} finished sprites/s on CPU "
        "(generation plus finishing: binary alpha, outline, palette).",
        "",
        "Each class has two rows: the GAN's sprites (**gen**) and the corpus's own sprites (**corpus**, what a "
        "perfect copy would score). Distances are mean absolute RGBA differences in 0..1. *Nearest* is each "
        "sprite's distance to the closest corpus sprite of any class (a corpus sprite is its own nearest, so its "
        "row reads 0); *copies* is the share that are exact corpus sprites.",
        "",
        f"Classifier: `procgen.characters.train_classifier`, {classifier_card['metrics']} on the corpus "
        f"({classifier_card['data']['sprites']} sprites; folds split animation frames, so a held-out frame's "
        "character is usually seen in training).",
        "",
        f"**Mean classifier accuracy over classes: {all_acc:.1%}** (goal ≥90%).",
        "",
        "| class | rows | accuracy | alpha 0/255 | colours mean / max | duplicates | diversity | nearest | copies |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cls, g, c, count in rows:
        for label, r in ((f"gen ({per_class})", g), (f"corpus ({count})", c)):
            lines.append(
                f"| {cls} | {label} | {r['accuracy']:.1%} | {r['alpha_clean']:.1%} | "
                f"{r['colours_mean']:.1f} / {r['colours_max']} | {r['duplicates']:.1%} | {r['diversity']:.3f} | "
                f"{r['nearest']:.3f} | {r['copies']:.1%} |"
            )
    lines += [
        "",
        "## Samples",
        "",
        f"Generated (12 per class; {names.replace(chr(10), ', ')}):",
        "",
        "![generated sprites](img/sprites_samples.png)",
        "",
        "The corpus, same rows:",
        "",
        "![corpus sprites](img/sprites_corpus.png)",
        "",
        "## Walk cycles",
        "",
        "The first generated sprite of each class through the procedural rig (`procgen.characters.animation`): "
        "rows are facings down, left, right, up; columns are contact, passing A, squashed contact, passing B.",
        "",
        "![walk cycles](img/sprites_walk.png)",
    ]
    path = out_dir / "sprites_eval.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
