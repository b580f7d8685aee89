"""Train the conditional sprite GAN on a sprite corpus (hinge loss, projection critic, EMA generator), cleanrl style.

    python -m procgen.characters.train
    python -m procgen.characters.train --corpus path/to/my_sprites --iterations 4000
    python -m procgen.characters.train --dry-run          # two iterations, writes nothing lasting

Classes are drawn evenly, whatever each one's share of the corpus, in runs of four sprites of one class, so the
critic's minibatch spread compares like with like. Real sprites are flipped left-right at random; real and
generated sprites then pass through the same random translations before the critic (DiffAugment). Two more
guards against the generator ignoring its latent within a class: a mode-seeking term (MSGAN, Mao et al., 2019)
rewards different sprites for different latents, and the EMA generator's BatchNorm statistics are measured on
its own outputs before it is sampled or saved.
Everything goes under --run-dir/<name>/ (runs/sprites/sprites/ for the shipped corpus), never into the package:
TensorBoard logs, fixed-noise sample grids (samples/*.png, one row per class), checkpoints and the EMA generator,
generator.safetensors plus its JSON card (command, seed, data, metrics, date). `ludoforge publish
runs/sprites/sprites` ships it as procgen/weights/sprites, which `SpriteGenerator.pretrained()` reads.
"""

from __future__ import annotations

import copy
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import tyro
from PIL import Image
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from engine.errors import InputError
from procgen.characters.classifier import SpriteClassifier, to_tensor
from procgen.characters.corpus import load_corpus
from procgen.characters.gan import SpriteConfig, SpriteCritic, SpriteNet, translate
from procgen.characters.generator import SpriteGenerator
from procgen.core.device import select_device
from procgen.core.training import checkpoint_tensors, hinge_losses, run_facts, update_ema
from procgen.core.weights import WeightsError, save_weights
from procgen.metrics.sprites import alpha_clean_share, colour_counts, duplicate_share, nearest_training

MAX_ITERATIONS = 200_000


@dataclass
class Args:
    corpus: str | None = None
    """a folder with one sub-folder of PNGs per class (default: the shipped corpus)"""
    name: str | None = None
    """run name (default: sprites, or the corpus folder's name)"""
    seed: int = 1
    iterations: int = 3000
    """generator updates (one critic update each)"""
    batch_size: int = 32
    lr_generator: float = 1e-4
    lr_critic: float = 4e-4
    ema_decay: float = 0.995
    mode_seeking: float = 0.1
    """weight of the mode-seeking term (0 turns it off)"""
    width: int = 128
    critic_width: int = 32
    shift: int = 2
    """DiffAugment translation, in pixels"""
    device: str = "auto"
    """auto | cpu | cuda | cuda:N"""
    run_dir: str = "runs/sprites"
    weights_out: str | None = None
    """weights stem (writes .safetensors and .json); default <run-dir>/<name>/generator (publish it with
    `ludoforge publish <run-dir>/<name>`)"""
    sample_every: int = 250
    checkpoint_every: int = 1000
    threads: int = 0
    """torch CPU threads (0: torch's default)"""
    dry_run: bool = False
    """two iterations into a temporary folder: checks the whole pipeline in seconds"""


def save_grid(rgba: torch.Tensor, path: Path, columns: int) -> None:
    """A PNG grid of (B, 4, H, W) sprites in [-1, 1], on a dark backdrop so that alpha shows."""
    img = ((rgba.clamp(-1, 1) + 1) * 127.5).round().byte().cpu().permute(0, 2, 3, 1).numpy()
    b, h, w, _ = img.shape
    rows = -(-b // columns)
    grid = np.full((rows * (h + 2), columns * (w + 2), 3), 40, np.uint8)
    for i, tile in enumerate(img):
        r, c = divmod(i, columns)
        a = tile[..., 3:] / 255.0
        cell = grid[r * (h + 2) + 1 : r * (h + 2) + 1 + h, c * (w + 2) + 1 : c * (w + 2) + 1 + w]
        cell[:] = (tile[..., :3] * a + cell * (1 - a)).round().astype(np.uint8)
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(path)


@torch.no_grad()
def recalibrate_batchnorm(net: SpriteNet, classes: int, device: torch.device, batches: int = 16) -> None:
    """Measure the BatchNorm statistics of `net` itself on random latents (an EMA copy of the weights does not
    match the live net's running statistics), then leave it in eval mode."""
    gen = torch.Generator().manual_seed(0)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the batches below
    net.train()
    for _ in range(batches):
        labels = torch.arange(classes).repeat(64 // classes + 1)[:64]
        net(torch.randn(len(labels), net.cfg.latent_dim, generator=gen).to(device), labels.to(device))
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 0.1
    net.eval()


def card_metrics(gen: SpriteGenerator, corpus_images: np.ndarray, per_class: int, seed: int) -> dict:
    """The headline measures for the card (the full report is `procgen.characters.evaluate`)."""
    metrics: dict = {"per_class": per_class}
    sprites = {c: gen.sample(c, per_class, seed) for c in gen.classes}
    every = np.concatenate(list(sprites.values()))
    try:
        classifier = SpriteClassifier.pretrained()
    except WeightsError:
        classifier = None
    if classifier is not None and classifier.classes == gen.classes:
        metrics["classifier_accuracy"] = round(
            float(np.mean([classifier.accuracy(s, c) for c, s in sprites.items()])), 4
        )
    nearest, copies = nearest_training(every, corpus_images)
    metrics |= {
        "alpha_clean_share": alpha_clean_share(every),
        "colours_max": int(colour_counts(every).max()),
        "duplicate_share": round(duplicate_share(every), 4),
        "nearest_training_distance": round(float(nearest.mean()), 4),
        "training_copies": round(copies, 4),
    }
    return metrics


def train(args: Args, command: str | None = None) -> Path:
    """Train, write the weights and card, return the weights path."""
    if not 1 <= args.iterations <= MAX_ITERATIONS:
        raise InputError("iterations", f"expected 1..{MAX_ITERATIONS}, got {args.iterations}")
    if not 2 <= args.batch_size <= 1024:
        raise InputError("batch_size", f"expected 2..1024, got {args.batch_size}")
    if not 0 <= args.shift <= 8:
        raise InputError("shift", f"expected 0..8, got {args.shift}")
    if args.dry_run:
        args.iterations, args.sample_every, args.checkpoint_every = 2, 1, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = select_device(args.device)
    corpus = load_corpus(args.corpus)
    name = args.name or ("sprites" if args.corpus is None else Path(args.corpus).name)
    tmp = tempfile.TemporaryDirectory(prefix="ludoforge-dry-run-") if args.dry_run else None
    run_dir = Path(tmp.name if tmp else args.run_dir) / name
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    # A trainer never writes into procgen/weights/: `ludoforge publish` does, after checking the card.
    weights_out = Path(args.weights_out) if args.weights_out and not tmp else run_dir / "generator"

    classes = len(corpus.classes)
    images = to_tensor(corpus.images).to(device)
    labels = torch.from_numpy(corpus.labels).to(device)
    cfg = SpriteConfig(classes=corpus.classes, width=args.width)
    net, critic = SpriteNet(cfg).to(device), SpriteCritic(classes, args.critic_width).to(device)
    ema = copy.deepcopy(net).eval()
    opt_g = torch.optim.Adam(net.parameters(), lr=args.lr_generator, betas=(0.0, 0.99))
    opt_c = torch.optim.Adam(critic.parameters(), lr=args.lr_critic, betas=(0.0, 0.99))
    writer = SummaryWriter(str(run_dir))
    writer.add_text("args", "\n".join(f"{k}: {v}" for k, v in asdict(args).items()))
    data_gen = torch.Generator().manual_seed(args.seed)
    fixed_gen = torch.Generator().manual_seed(args.seed)
    columns = 8
    fixed_z = torch.randn(classes * columns, cfg.latent_dim, generator=fixed_gen).to(device)
    fixed_labels = torch.arange(classes).repeat_interleave(columns).to(device)

    group = SpriteCritic.GROUP
    if args.batch_size % group:
        raise InputError("batch_size", f"expected a multiple of {group}, got {args.batch_size}")
    by_class = [torch.nonzero(labels.cpu() == c).squeeze(1) for c in range(classes)]

    def class_runs() -> torch.Tensor:
        """batch_size labels: runs of `group` equal labels, each run's class drawn evenly."""
        runs = torch.randint(0, classes, (args.batch_size // group,), generator=data_gen)
        return runs.repeat_interleave(group)

    def real_batch() -> tuple[torch.Tensor, torch.Tensor]:
        wanted = class_runs()
        idx = torch.stack(
            [
                by_class[c][torch.randint(0, len(by_class[c]), (1,), generator=data_gen)[0]]
                for c in wanted.tolist()
            ]
        )
        real = images[idx.to(device)]
        flip = (torch.rand(args.batch_size, generator=data_gen) < 0.5).to(device)
        return torch.where(flip[:, None, None, None], real.flip(-1), real), wanted.to(device)

    def latents() -> torch.Tensor:
        return torch.randn(args.batch_size, cfg.latent_dim, generator=data_gen).to(device)

    def augment(rgba: torch.Tensor) -> torch.Tensor:
        return translate(rgba, args.shift, data_gen)

    start = time.perf_counter()
    for it in tqdm(range(1, args.iterations + 1), desc=f"train {name}", unit="it", disable=None):
        real, real_labels = real_batch()
        fake_labels = class_runs().to(device)
        with torch.no_grad():
            fake = net(latents(), fake_labels)
        critic_loss = hinge_losses(critic(augment(real), real_labels), critic(augment(fake), fake_labels))
        opt_c.zero_grad(set_to_none=True)
        critic_loss.backward()
        opt_c.step()

        fake_labels = class_runs().to(device)
        z1, z2 = latents(), latents()
        fake = net(torch.cat([z1, z2]), torch.cat([fake_labels, fake_labels]))
        fake1, fake2 = fake.chunk(2)
        gen_loss = -critic(augment(fake1), fake_labels).mean()
        if args.mode_seeking:
            # MSGAN: the image distance per latent distance, inverted so that larger spread is a lower loss.
            spread = (fake1 - fake2).abs().mean((1, 2, 3)) / (z1 - z2).abs().mean(1)
            gen_loss = gen_loss + args.mode_seeking / (spread.mean() + 1e-5)
        opt_g.zero_grad(set_to_none=True)
        gen_loss.backward()
        opt_g.step()
        update_ema(ema, net, args.ema_decay)
        if it % 25 == 0 or args.dry_run:
            writer.add_scalar("losses/critic_hinge", critic_loss.item(), it)
            writer.add_scalar("losses/generator", gen_loss.item(), it)
            writer.add_scalar("charts/its_per_s", it / (time.perf_counter() - start), it)
        if it % args.sample_every == 0 or it == args.iterations:
            recalibrate_batchnorm(ema, classes, device)
            with torch.no_grad():
                save_grid(ema(fixed_z, fixed_labels), run_dir / "samples" / f"iter_{it:06d}.png", columns)
        if it % args.checkpoint_every == 0 or it == args.iterations:
            ckpt = checkpoint_tensors(net, critic, ema)
            save_weights(
                run_dir / "checkpoints" / f"iter_{it:06d}", ckpt, {"config": cfg.to_dict(), "iteration": it}
            )
    train_seconds = time.perf_counter() - start

    sprite_gen = SpriteGenerator(copy.deepcopy(ema).cpu(), weights_id=name, device="cpu")
    metrics = card_metrics(sprite_gen, corpus.images, 8 if args.dry_run else 200, args.seed)
    for key, value in metrics.items():
        writer.add_scalar(f"eval/{key}", value, args.iterations)
    writer.close()
    card = {
        "model": "procgen.characters.gan.SpriteNet (EMA of the trained generator)",
        # Only the shipped corpus's GAN is the package's; one of your own loads by path (--weights).
        **({"publish_as": "procgen/weights/sprites"} if args.corpus is None else {}),
        "config": cfg.to_dict(),
        "command": command or f"python -m procgen.characters.train {shlex.join(sys.argv[1:])}",
        "args": asdict(args),
        "seed": args.seed,
        "data": {
            "corpus": args.corpus or "procgen/data/sprites (Kenney CC0, see ATTRIBUTION.md)",
            "sprites": len(corpus),
            "per_class": {c: int((corpus.labels == i).sum()) for i, c in enumerate(corpus.classes)},
        },
        "metrics": metrics,
        **run_facts(train_seconds, device),
    }
    path = save_weights(weights_out, {k: v for k, v in ema.state_dict().items()}, card)
    print(f"weights: {path}\nmetrics: {metrics}")
    if tmp:
        tmp.cleanup()
    return path


def main(argv: list[str] | None = None, prog: str = "python -m procgen.characters.train") -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    train(args, command=f"{prog} {shlex.join(argv)}".strip())


if __name__ == "__main__":
    main()
