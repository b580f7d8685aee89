"""Train the level GAN on a tile corpus: conditional WGAN-GP, EMA generator, one readable file (cleanrl style).

    python -m procgen.levels.train --corpus dungeon
    python -m procgen.levels.train --corpus path/to/my_levels --window 16 14 --iterations 4000
    python -m procgen.levels.train --corpus dungeon --dry-run        # two iterations, writes nothing lasting
    python -m procgen.levels.train --corpus dungeon --resume-from runs/levels/dungeon/checkpoints/iter_002500 \
        --iterations 4000 --pattern-weight 30 --lr 1e-4                # fine-tune toward the corpus's 2×2 patterns

Everything goes under --run-dir/<name>/ (runs/levels/<name>/), never into the package: TensorBoard logs,
fixed-noise sample grids (samples/*.png), checkpoints (checkpoints/*.safetensors) and the final EMA generator,
generator.safetensors plus its JSON card (command, seed, data, metrics). For a shipped corpus, `ludoforge publish
runs/levels/dungeon` then ships it as procgen/weights/levels_dungeon, which `LevelGenerator.pretrained("dungeon")`
reads; a generator of your own corpus loads by path (`ludoforge levels sample --weights runs/levels/mine/generator`).
"""

from __future__ import annotations

import copy
import dataclasses
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import tyro
from torch.nn import functional as F
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from engine.errors import InputError
from engine.level import Semantic
from procgen.core.device import select_device
from procgen.core.training import checkpoint_part, checkpoint_tensors, run_facts, update_ema
from procgen.core.weights import WeightsError, load_weights, save_weights
from procgen.levels.corpus import SHIPPED_CORPORA, Corpus, build_corpus, shipped_corpus
from procgen.levels.gan import (
    DENSITY_NAMES,
    Critic,
    GanConfig,
    Generator,
    calibrate_logit_bias,
    codes_from_logits,
    density_of,
    door_masks,
    one_hot,
    soft_density,
)
from procgen.levels.generator import LevelGenerator
from procgen.levels.preview import save_grid

MAX_ITERATIONS = 200_000
MAX_BATCH = 4096


@dataclass
class Args:
    corpus: str = "dungeon"
    """a shipped corpus ("dungeon", "platformer") or a folder of levels with a legend.json"""
    legend: str | None = None
    """the corpus legend, when it is not the folder's (or its parent's) legend.json"""
    window: tuple[int, int] | None = None
    """(width, height) of the training windows; omit for a folder of same-sized rooms"""
    stride: int = 2
    """tiles between sliding windows"""
    name: str | None = None
    """run name (default: the corpus name)"""
    seed: int = 1
    """seeds torch, numpy and the data order"""
    iterations: int = 2500
    """generator updates"""
    batch_size: int = 64
    n_critic: int = 3
    """critic updates per generator update"""
    lr: float = 2e-4
    gp_weight: float = 10.0
    """WGAN-GP gradient-penalty weight"""
    condition_weight: float = 2.0
    """weight of the generator's losses for matching the requested density and door mask"""
    ema_decay: float = 0.999
    straight_through: bool = False
    """show the critic hard one-hot tiles (gradients through the softmax): stops a generator hiding behind
    mushy probabilities whose argmax is nothing like a level"""
    z_dim: int = 32
    width_mult: int = 32
    """channels in the first conv layer of both nets"""
    device: str = "auto"
    """auto | cpu | cuda | cuda:N"""
    run_dir: str = "runs/levels"
    weights_out: str | None = None
    """weights stem (writes .safetensors and .json); default <run-dir>/<name>/generator (publish it with
    `ludoforge publish <run-dir>/<name>`)"""
    sample_every: int = 250
    checkpoint_every: int = 1000
    eval_samples: int = 1000
    """samples for the card's metrics"""
    threads: int = 0
    """torch CPU threads (0: torch's default)"""
    dry_run: bool = False
    """two iterations into a temporary folder: checks the whole pipeline in seconds"""
    from_checkpoint: str | None = None
    """skip training: calibrate and write the weights and card from this checkpoint's EMA generator (a stem
    under <run-dir>/<name>/checkpoints/, e.g. iter_006000), for a run stopped early or a better checkpoint"""
    resume_from: str | None = None
    """continue training from this checkpoint (a path stem; all three nets, fresh optimisers): iterations go on
    from the checkpoint's own count up to --iterations, and the card records the checkpoint and its command"""
    pattern_weight: float = 0.0
    """weight of the generator's 2×2 tile-pattern loss (see PatternLoss); 0 leaves it out"""
    pattern_temperature: float = 0.3
    """softmax temperature inside the pattern loss: lower tracks the argmax decoding more closely"""
    pattern_batch: int = 128
    """rooms per generator update when the pattern loss is on: expected pattern frequencies need more windows
    than the critic's batch"""


def load_corpus(args: Args) -> Corpus:
    if args.corpus in SHIPPED_CORPORA and args.legend is None and args.window is None:
        return shipped_corpus(args.corpus)
    folder = SHIPPED_CORPORA.get(args.corpus, Path(args.corpus))
    return build_corpus(folder, args.legend, args.window, args.stride, name=args.name)


def to_tiles(logits: torch.Tensor, straight_through: bool) -> torch.Tensor:
    """What the critic sees of a generated level: the softmax, or its argmax one-hot with the softmax's gradient."""
    probs = logits.softmax(1)
    if not straight_through:
        return probs
    hard = F.one_hot(probs.argmax(1), probs.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    return hard - probs.detach() + probs


class PatternLoss:
    """KL(P_train ‖ Q) over 2×2 tile patterns, where Q is a batch's expected pattern frequencies when every tile
    is drawn from its (sharpened) softmax independently: DESIGN.md's tile-pattern KL made differentiable.

    The critic judges whole rooms and lets rare local arrangements slip (treasure against a wall, a pocket of
    void, a wide hazard pool), and the 2×2 KL is mostly those. This term asks for the corpus's local statistics
    over the whole batch, never for any one room, so it cannot pull the generator toward copying.
    """

    def __init__(self, examples: np.ndarray, channels: tuple[int, ...], device: torch.device) -> None:
        from procgen.metrics.levels import pattern_counts

        counts = pattern_counts(examples, 2)
        index_of = {code: i for i, code in enumerate(channels)}
        c = len(channels)
        flat = [
            ((index_of[tl] * c + index_of[tr]) * c + index_of[bl]) * c + index_of[br]
            for tl, tr, bl, br in (np.frombuffer(key, np.uint8).tolist() for key in counts)
        ]
        weights = np.array(list(counts.values()), np.float64)
        self.flat_index = torch.tensor(flat, dtype=torch.long, device=device)
        self.p_train = torch.tensor(weights / weights.sum(), dtype=torch.float32, device=device)
        self.channels = c

    def __call__(self, probs: torch.Tensor) -> torch.Tensor:
        c = self.channels

        def corner(t: torch.Tensor) -> torch.Tensor:  # (C, every window in the batch)
            return t.transpose(0, 1).reshape(c, -1)

        tl, tr = corner(probs[:, :, :-1, :-1]), corner(probs[:, :, :-1, 1:])
        bl, br = corner(probs[:, :, 1:, :-1]), corner(probs[:, :, 1:, 1:])
        top = (tl[:, None] * tr[None]).reshape(c * c, -1)
        bottom = (bl[:, None] * br[None]).reshape(c * c, -1)
        q = (top @ bottom.T / top.shape[1]).reshape(-1)[self.flat_index]
        return (self.p_train * (self.p_train.log() - (q + 1e-7).log())).sum()


def provenance(checkpoint_card: dict, path: str | Path) -> dict:
    """What a card keeps of the checkpoint it came from: its path, iteration, time and command, and (for a
    resumed run) its own origin, so that a card holds the whole chain of commands."""
    kept = {k: checkpoint_card.get(k) for k in ("iteration", "seconds", "command", "resumed_from")}
    return {**kept, "checkpoint": str(path)}


def gradient_penalty(critic: Critic, real, fake, density, doors) -> torch.Tensor:
    alpha = torch.rand(len(real), 1, 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed, density, doors).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def condition_loss(
    probs: torch.Tensor, density, doors, cfg: GanConfig, door_channel: int | None
) -> torch.Tensor:
    """Ask the generator to honour its conditions: density in normalised units, and doors where the mask says."""
    loss = F.mse_loss(cfg.normalise(soft_density(probs, cfg)), cfg.normalise(density))
    if door_channel is not None:
        p_door = probs[:, door_channel].clamp(1e-6, 1 - 1e-6)
        ring = torch.zeros_like(doors, dtype=torch.bool)
        ring[:, [0, -1], :] = True
        ring[:, :, [0, -1]] = True
        loss = loss + F.binary_cross_entropy(p_door[ring], doors[ring])
    return loss


def calibrated(
    net: Generator,
    cfg: GanConfig,
    corpus: Corpus,
    density_all: torch.Tensor,
    doors_all: torch.Tensor,
    seed: int,
    samples: int = 2000,
) -> GanConfig:
    """`cfg` with the decoding offsets fitted on fresh conditions from the training set (see
    gan.calibrate_logit_bias). A room's frame is fixed after sampling, so only its interior is matched."""
    examples = corpus.examples
    # Its own random streams, so that checkpointing more or less often leaves training itself unchanged.
    idx = torch.from_numpy(np.random.default_rng(seed).integers(0, len(examples), samples))
    z = torch.randn(samples, cfg.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        device = density_all.device
        log_probs = (
            net(z.to(device), density_all[idx.to(device)], doors_all[idx.to(device)]).log_softmax(1).cpu()
        )
    h, w = corpus.shape
    counted = np.ones((h, w), dtype=bool)
    if corpus.genre.name == "topdown":
        counted[[0, -1], :] = False
        counted[:, [0, -1]] = False
    frozen = (Semantic.DOOR.code,) if corpus.genre.name == "topdown" else ()
    return dataclasses.replace(
        cfg, logit_bias=calibrate_logit_bias(log_probs, cfg.channels, examples, counted, frozen)
    )


def checkpoint_metrics(
    net: Generator, cfg: GanConfig, corpus: Corpus, density_all, doors_all, seed: int, samples: int = 500
) -> dict[str, float]:
    """Quick quality of the EMA generator mid-run (calibrated argmax, before finishing and repair): enough to
    see whether longer training still pays."""
    from procgen.metrics.levels import diversity, tile_pattern_kl

    was = net.cfg
    net.cfg = calibrated(net, cfg, corpus, density_all, doors_all, seed)
    device = density_all.device
    idx = torch.from_numpy(np.random.default_rng(seed + 1).integers(0, len(corpus.examples), samples))
    z = torch.randn(samples, cfg.z_dim, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        logits = net(z.to(device), density_all[idx.to(device)], doors_all[idx.to(device)])
    codes = codes_from_logits(logits, net.cfg.channels, net.cfg.logit_bias)
    net.cfg = was
    return {"kl_2x2": tile_pattern_kl(corpus.examples, codes, 2), "diversity": diversity(codes)}


Progress = Callable[[str, float], None]
"""progress(stage, fraction done 0..1): "training" once per iteration, then "evaluating" and "writing" """


def train(args: Args, command: str | None = None, progress: Progress | None = None) -> Path:
    """Train, write the weights and card, return the weights path. `progress`, if given, hears each stage."""
    report = progress or (lambda stage, done: None)
    if not 1 <= args.iterations <= MAX_ITERATIONS:
        raise InputError("iterations", f"expected 1..{MAX_ITERATIONS}, got {args.iterations}")
    if not 2 <= args.batch_size <= MAX_BATCH:
        raise InputError("batch_size", f"expected 2..{MAX_BATCH}, got {args.batch_size}")
    if not 2 <= args.pattern_batch <= MAX_BATCH:
        raise InputError("pattern_batch", f"expected 2..{MAX_BATCH}, got {args.pattern_batch}")
    if args.pattern_weight < 0 or args.pattern_temperature <= 0:
        raise InputError(
            "pattern_weight, pattern_temperature",
            f"expected ≥ 0 and > 0, got {args.pattern_weight}, {args.pattern_temperature}",
        )
    command = command or f"python -m procgen.levels.train {shlex.join(sys.argv[1:])}"
    if args.dry_run:
        args.iterations, args.eval_samples, args.sample_every, args.checkpoint_every = 2, 64, 1, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = select_device(args.device)
    corpus = load_corpus(args)
    name = args.name or corpus.name
    tmp = tempfile.TemporaryDirectory(prefix="ludoforge-dry-run-") if args.dry_run else None
    run_dir = Path(tmp.name if tmp else args.run_dir) / name
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    # A trainer never writes into procgen/weights/: `ludoforge publish` does, after checking the card.
    weights_out = Path(args.weights_out) if args.weights_out and not tmp else run_dir / "generator"

    examples = corpus.examples
    density = density_of(examples)
    doors = door_masks(examples) if corpus.genre.name == "topdown" else np.zeros(examples.shape, np.float32)
    h, w = corpus.shape
    cfg = GanConfig(
        height=h,
        width=w,
        channels=corpus.channels,
        z_dim=args.z_dim,
        width_mult=args.width_mult,
        density_mean=tuple(float(v) for v in density.mean(0)),
        density_std=tuple(float(v) for v in density.std(0) + 1e-3),
    )
    real_all = one_hot(examples, cfg.channels).to(device)
    density_all = torch.from_numpy(density).to(device)
    doors_all = torch.from_numpy(doors).to(device)
    door_channel = (
        cfg.channels.index(2) if corpus.genre.name == "topdown" else None
    )  # Semantic.DOOR.code == 2

    gen, critic = Generator(cfg).to(device), Critic(cfg).to(device)
    ema = copy.deepcopy(gen).eval()
    opt_g = torch.optim.Adam(gen.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.9))
    writer = SummaryWriter(str(run_dir))
    writer.add_text("args", "\n".join(f"{k}: {v}" for k, v in asdict(args).items()))
    fixed = torch.from_numpy(rng.choice(len(examples), 32, replace=len(examples) < 32)).to(device)
    fixed_z = torch.randn(32, cfg.z_dim, generator=torch.Generator().manual_seed(args.seed)).to(device)

    def batch(size: int = args.batch_size) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.from_numpy(rng.integers(0, len(examples), size)).to(device)
        return real_all[idx], density_all[idx], doors_all[idx]

    start = time.perf_counter()
    first, trained_before, resumed = 1, 0.0, None
    if args.resume_from:
        tensors, ckpt_card = load_weights(args.resume_from)
        saved = ckpt_card.get("config")
        if (
            not isinstance(saved, dict)
            or saved.keys() != cfg.to_dict().keys()
            or GanConfig.from_dict(saved) != cfg
        ):
            raise WeightsError(
                f"{args.resume_from}.json",
                "config",
                "does not match this corpus and these args "
                "(train on the same corpus with the same --z-dim and --width-mult)",
            )
        for net, prefix in ((gen, "generator"), (critic, "critic"), (ema, "ema")):
            net.load_state_dict(checkpoint_part(tensors, prefix))
        first = int(ckpt_card["iteration"]) + 1
        if first > args.iterations:
            raise InputError(
                "iterations", f"expected more than the checkpoint's {first - 1}, got {args.iterations}"
            )
        trained_before = ckpt_card.get("seconds")
        resumed = provenance(ckpt_card, args.resume_from)
    pattern_loss = PatternLoss(examples, cfg.channels, device) if args.pattern_weight else None
    generator_batch = args.pattern_batch if pattern_loss else args.batch_size
    written_from = None
    if args.from_checkpoint:
        tensors, ckpt_card = load_weights(run_dir / "checkpoints" / args.from_checkpoint)
        written_from = provenance(ckpt_card, run_dir / "checkpoints" / args.from_checkpoint)
        ema.load_state_dict(checkpoint_part(tensors, "ema"))
        args.iterations = int(ckpt_card["iteration"])
        trained_before = ckpt_card.get("seconds")
        first = args.iterations + 1  # nothing left to train
    report("training", 0.0)
    for it in tqdm(range(first, args.iterations + 1), desc=f"train {name}", unit="it", disable=None):
        report("training", (it - first) / max(1, args.iterations - first + 1))
        for _ in range(args.n_critic):
            real, dens, door = batch()
            z = torch.randn(len(real), cfg.z_dim, device=device)
            with torch.no_grad():
                fake = to_tiles(gen(z, dens, door), args.straight_through)
            wdist = critic(real, dens, door).mean() - critic(fake, dens, door).mean()
            gp = gradient_penalty(critic, real, fake, dens, door)
            opt_c.zero_grad(set_to_none=True)
            (-wdist + args.gp_weight * gp).backward()
            opt_c.step()
        _, dens, door = batch(generator_batch)
        z = torch.randn(len(dens), cfg.z_dim, device=device)
        logits = gen(z, dens, door)
        probs = logits.softmax(1)
        adv = -critic(to_tiles(logits, args.straight_through), dens, door).mean()
        cond = condition_loss(probs, dens, door, cfg, door_channel)
        loss = adv + args.condition_weight * cond
        if pattern_loss:
            pattern = pattern_loss((logits / args.pattern_temperature).softmax(1))
            loss = loss + args.pattern_weight * pattern
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        update_ema(ema, gen, args.ema_decay)
        if it % 25 == 0 or args.dry_run:
            writer.add_scalar("losses/wasserstein", wdist.item(), it)
            writer.add_scalar("losses/gradient_penalty", gp.item(), it)
            writer.add_scalar("losses/generator_adversarial", adv.item(), it)
            writer.add_scalar("losses/condition", cond.item(), it)
            if pattern_loss:
                writer.add_scalar("losses/pattern_kl_2x2", pattern.item(), it)
            writer.add_scalar("charts/its_per_s", it / (time.perf_counter() - start), it)
        if it % args.sample_every == 0 or it == args.iterations:
            with torch.no_grad():
                logits = ema(fixed_z, density_all[fixed], doors_all[fixed])
            save_grid(logits, cfg, run_dir / "samples" / f"iter_{it:06d}.png")
        if it % args.checkpoint_every == 0 or it == args.iterations:
            ckpt = checkpoint_tensors(gen, critic, ema)
            save_weights(
                run_dir / "checkpoints" / f"iter_{it:06d}",
                ckpt,
                {
                    "config": cfg.to_dict(),
                    "iteration": it,
                    "seconds": round((trained_before or 0.0) + time.perf_counter() - start, 1),
                    "command": command,
                    **({"resumed_from": resumed} if resumed else {}),
                },
            )
            quality = checkpoint_metrics(ema, cfg, corpus, density_all, doors_all, args.seed)
            for key, value in quality.items():
                writer.add_scalar(f"checkpoint/{key}", value, it)
            tqdm.write(f"iteration {it}: " + ", ".join(f"{k} {v:.4f}" for k, v in quality.items()))
    train_seconds = None if trained_before is None else trained_before + time.perf_counter() - start
    if resumed:
        resumed["seconds_after_resume"] = round(time.perf_counter() - start, 1)

    report("evaluating", 0.0)
    ema = ema.cpu()
    cfg = calibrated(ema, cfg, corpus, density_all.cpu(), doors_all.cpu(), args.seed)
    ema.cfg = cfg

    level_gen = LevelGenerator(ema, corpus, weights_id=name)
    metrics = level_gen.card_metrics(args.eval_samples, seed=args.seed)
    for key, value in metrics.items():
        writer.add_scalar(f"eval/{key}", value, args.iterations)
    writer.close()
    card = {
        "model": "procgen.levels.gan.Generator (EMA of the trained generator)",
        # Only a shipped corpus has a package name that `LevelGenerator.pretrained` reads; others load by path.
        **({"publish_as": f"procgen/weights/levels_{args.corpus}"} if args.corpus in SHIPPED_CORPORA else {}),
        "config": cfg.to_dict(),
        "genre": corpus.genre.to_dict(),
        "condition_names": {"density": list(DENSITY_NAMES), "doors": "border door mask (H, W)"},
        "command": command,
        "args": asdict(args),
        "seed": args.seed,
        "data": {
            "corpus": corpus.name,
            "levels": [lv.meta.name for lv in corpus.levels],
            "examples": len(examples),
            "originals": len(corpus.originals),
        },
        "metrics": metrics,
        **({"resumed_from": resumed} if resumed else {}),
        **({"written_from_checkpoint": written_from} if written_from else {}),
        **run_facts(train_seconds, device),
    }
    report("writing", 0.0)
    path = save_weights(weights_out, {k: v for k, v in ema.state_dict().items()}, card)
    print(f"weights: {path}\nmetrics: {metrics}")
    if tmp:
        tmp.cleanup()
    return path


def main(argv: list[str] | None = None, prog: str = "python -m procgen.levels.train") -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    train(args, command=f"{prog} {shlex.join(argv)}".strip())


if __name__ == "__main__":
    main()
