"""Train the sprite classifier that measures the sprite GAN's recognisability, cleanrl style.

    python -m procgen.characters.train_classifier
    python -m procgen.characters.train_classifier --corpus path/to/my_sprites
    python -m procgen.characters.train_classifier --dry-run

It first scores itself by stratified k-fold cross-validation on the corpus (each fold trained from scratch and
tested on sprites it never saw), then trains on the whole corpus and writes <run-dir>/<corpus>/classifier.safetensors plus its JSON card (beside
the sprite GAN's run; `ludoforge publish runs/sprites/sprites` ships it as procgen/weights/sprites_classifier,
which the sprite metrics read). Every
corpus sprite is also seen after `pixelart.finish_sprite` (outline, palette), so that the generator's finishing
is not what the classifier reacts to. Augmentations: left-right flips, translations of up to 2 px, brightness.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import tyro
from torch.nn import functional as F
from tqdm import tqdm

from engine.errors import InputError
from procgen.characters.classifier import SpriteClassifierNet, to_tensor
from procgen.characters.corpus import SpriteCorpus, load_corpus
from procgen.characters.gan import translate
from procgen.characters.pixelart import finish_sprite
from procgen.core.training import run_facts
from procgen.core.weights import save_weights

MAX_STEPS = 100_000


@dataclass
class Args:
    corpus: str | None = None
    """a folder with one sub-folder of PNGs per class (default: the shipped corpus)"""
    seed: int = 1
    steps: int = 600
    batch_size: int = 64
    lr: float = 2e-3
    width: int = 32
    folds: int = 5
    """cross-validation folds for the card's held-out accuracy (0 to skip)"""
    run_dir: str = "runs/sprites"
    weights_out: str | None = None
    """weights stem (writes .safetensors and .json); default <run-dir>/<corpus name>/classifier"""
    threads: int = 0
    dry_run: bool = False
    """a few steps and two folds into a temporary folder"""


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flips, ±2 px translations and a brightness change of up to ±15% (alpha untouched)."""
    flip = torch.rand(len(x), generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    x = translate(x, 2, gen)
    gain = 1 + (torch.rand(len(x), 1, 1, 1, generator=gen) - 0.5) * 0.3
    rgb = ((x[:, :3] + 1) * gain - 1).clamp(-1, 1)
    return torch.cat([torch.where(x[:, 3:] > 0, rgb, x[:, :3]), x[:, 3:]], 1)


def fit(images: torch.Tensor, labels: torch.Tensor, classes: int, args: Args) -> SpriteClassifierNet:
    """Train a fresh net on (N, 4, 32, 32) images, drawing classes evenly (the corpus is unbalanced)."""
    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    net = SpriteClassifierNet(classes, args.width)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.steps)
    weights = 1.0 / torch.bincount(labels, minlength=classes)[labels].float()
    net.train()
    for _ in range(args.steps):
        idx = torch.multinomial(weights, args.batch_size, replacement=True, generator=gen)
        loss = F.cross_entropy(net(augment(images[idx], gen)), labels[idx], label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


def with_finished(corpus: SpriteCorpus) -> tuple[torch.Tensor, torch.Tensor]:
    """The corpus twice: as drawn, and after the generator's finishing."""
    finished = np.stack([finish_sprite(s) for s in corpus.images])
    images = to_tensor(np.concatenate([corpus.images, finished]))
    labels = torch.from_numpy(np.concatenate([corpus.labels, corpus.labels]))
    return images, labels


def cross_validate(corpus: SpriteCorpus, args: Args) -> float:
    """Stratified k-fold accuracy on held-out corpus sprites (as drawn)."""
    rng = np.random.default_rng(args.seed)
    fold_of = np.empty(len(corpus), np.int64)
    for c in range(len(corpus.classes)):
        members = rng.permutation(np.nonzero(corpus.labels == c)[0])
        fold_of[members] = np.arange(len(members)) % args.folds
    correct = 0
    for fold in tqdm(range(args.folds), desc="cross-validation", unit="fold", disable=None):
        train_idx = fold_of != fold
        part = SpriteCorpus(corpus.images[train_idx], corpus.labels[train_idx], corpus.classes, corpus.names)
        net = fit(*with_finished(part), len(corpus.classes), args)
        with torch.no_grad():
            predicted = net(to_tensor(corpus.images[~train_idx])).argmax(1).numpy()
        correct += int((predicted == corpus.labels[~train_idx]).sum())
    return correct / len(corpus)


def train(args: Args, command: str | None = None) -> Path:
    if not 1 <= args.steps <= MAX_STEPS:
        raise InputError("steps", f"expected 1..{MAX_STEPS}, got {args.steps}")
    if args.folds == 1 or not 0 <= args.folds <= 20:
        raise InputError("folds", f"expected 0 or 2..20, got {args.folds}")
    if args.dry_run:
        args.steps, args.folds = 5, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    corpus = load_corpus(args.corpus)
    start = time.perf_counter()
    held_out = cross_validate(corpus, args) if args.folds else None
    net = fit(*with_finished(corpus), len(corpus.classes), args)
    with torch.no_grad():
        train_accuracy = float((net(to_tensor(corpus.images)).argmax(1).numpy() == corpus.labels).mean())
    tmp = tempfile.TemporaryDirectory(prefix="ludoforge-dry-run-") if args.dry_run else None
    # Beside the sprite GAN's run; a trainer never writes into procgen/weights/ (`ludoforge publish` does).
    name = "sprites" if args.corpus is None else Path(args.corpus).name
    run_dir = Path(tmp.name if tmp else args.run_dir) / name
    weights_out = Path(args.weights_out) if args.weights_out and not tmp else run_dir / "classifier"
    metrics = {"train_accuracy": round(train_accuracy, 4)}
    if held_out is not None:
        metrics[f"{args.folds}_fold_accuracy"] = round(held_out, 4)
    card = {
        "model": "procgen.characters.classifier.SpriteClassifierNet",
        # Only the shipped corpus's classifier is the package's; one of your own loads by path.
        **({"publish_as": "procgen/weights/sprites_classifier"} if args.corpus is None else {}),
        "config": {"classes": list(corpus.classes), "width": args.width},
        "command": command or f"python -m procgen.characters.train_classifier {shlex.join(sys.argv[1:])}",
        "args": asdict(args),
        "seed": args.seed,
        "data": {
            "corpus": args.corpus or "procgen/data/sprites (Kenney CC0, see ATTRIBUTION.md)",
            "sprites": len(corpus),
            "per_class": {c: int((corpus.labels == i).sum()) for i, c in enumerate(corpus.classes)},
        },
        "metrics": metrics,
        "note": "k-fold folds split animation frames, so a character's other frames may be in training",
        **run_facts(time.perf_counter() - start),
    }
    path = save_weights(weights_out, dict(net.state_dict()), card)
    print(f"weights: {path}\nmetrics: {metrics}")
    if tmp:
        tmp.cleanup()
    return path


def main(argv: list[str] | None = None, prog: str = "python -m procgen.characters.train_classifier") -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    train(args, command=f"{prog} {shlex.join(argv)}".strip())


if __name__ == "__main__":
    main()
