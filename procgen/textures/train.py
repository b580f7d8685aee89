"""Train the periodic texture GAN on one exemplar image (PSGAN style, hinge loss, EMA generator), cleanrl style.

    python -m procgen.textures.train --theme brick_wall
    python -m procgen.textures.train --theme path/to/my_texture.png --name my_texture
    python -m procgen.textures.train --theme lava --dry-run          # two iterations, writes nothing lasting

Each step shows the critic random crops of the exemplar (with horizontal flips) and generator outputs of the same
size; both see the texture only through patches, which is what lets the generator run at any size afterwards.
Everything goes under --run-dir/<name>/ (runs/textures/<name>/), never into the package: TensorBoard logs,
fixed-noise sample grids (samples/*.png), checkpoints and the EMA generator, generator.safetensors plus its JSON
card (command, seed, data, metrics, date). For a shipped theme, `ludoforge publish runs/textures/lava` ships it
as procgen/weights/textures_lava, which `TextureGenerator.pretrained("lava")` reads; your own loads by path.
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

from engine.errors import FileFormatError, InputError
from engine.outside import read_outside_image
from procgen.core.device import select_device
from procgen.core.training import checkpoint_tensors, hinge_losses, run_facts, update_ema
from procgen.core.weights import save_weights
from procgen.metrics.textures import diversity, gram_distance, nearest_patch_distance, seam_ratio
from procgen.textures.gan import PIXELS_PER_CELL, PatchCritic, TextureConfig, TextureNet
from procgen.textures.generator import EXEMPLAR_DIR, THEMES, TextureGenerator

MAX_ITERATIONS = 100_000
MAX_EXEMPLAR_PIXELS = 4096 * 4096


@dataclass
class Args:
    theme: str = "stone_floor"
    """a shipped theme (stone_floor, brick_wall, lava, water, grass_dirt, wood) or the path of an RGB image"""
    name: str | None = None
    """run and weights name (default: the theme, or the image's file name)"""
    seed: int = 1
    iterations: int = 1500
    """generator updates (one critic update each)"""
    batch_size: int = 8
    crop: int = 128
    """side of the training crops, a multiple of 16; the exemplar must be at least this big"""
    lr: float = 2e-4
    ema_decay: float = 0.995
    width: int = 128
    """generator channels at the latent resolution"""
    critic_width: int = 32
    device: str = "auto"
    """auto | cpu | cuda | cuda:N"""
    run_dir: str = "runs/textures"
    weights_out: str | None = None
    """weights stem (writes .safetensors and .json); default <run-dir>/<name>/generator (publish it with
    `ludoforge publish <run-dir>/<name>`)"""
    sample_every: int = 250
    checkpoint_every: int = 500
    threads: int = 0
    """torch CPU threads (0: torch's default)"""
    dry_run: bool = False
    """two iterations into a temporary folder: checks the whole pipeline in seconds"""


def load_exemplar(theme: str) -> tuple[np.ndarray, str]:
    """(H, W, 3) uint8 and a description of where it came from."""
    if theme in THEMES:
        path = EXEMPLAR_DIR / f"{theme}.png"
    else:
        path = Path(theme)
        if not path.is_file():
            raise InputError("theme", f"{theme!r} is neither a shipped theme {THEMES} nor an image file")
    try:
        return read_outside_image(path, max_pixels=MAX_EXEMPLAR_PIXELS), str(path)
    except FileFormatError as exc:
        raise InputError("theme", str(exc)) from None


def random_crops(exemplar: torch.Tensor, n: int, crop: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 3, crop, crop) crops of a (3, H, W) image in [-1, 1], each flipped left-right with probability 1/2."""
    _, h, w = exemplar.shape
    ys = torch.randint(0, h - crop + 1, (n,), generator=gen)
    xs = torch.randint(0, w - crop + 1, (n,), generator=gen)
    crops = torch.stack(
        [exemplar[:, y : y + crop, x : x + crop] for y, x in zip(ys.tolist(), xs.tolist(), strict=True)]
    )
    flip = torch.rand(n, generator=gen) < 0.5
    crops[flip] = crops[flip].flip(-1)
    return crops


def save_grid(rgb: torch.Tensor, path: Path, columns: int = 4) -> None:
    """A PNG grid of (B, 3, H, W) images in [-1, 1]."""
    img = ((rgb.clamp(-1, 1) + 1) * 127.5).round().byte().cpu().permute(0, 2, 3, 1).numpy()
    b, h, w, _ = img.shape
    rows = -(-b // columns)
    grid = np.zeros((rows * h, columns * w, 3), np.uint8)
    for i, tile in enumerate(img):
        grid[(i // columns) * h : (i // columns + 1) * h, (i % columns) * w : (i % columns + 1) * w] = tile
    Image.fromarray(grid).save(path)


def card_metrics(gen: TextureGenerator, exemplar: np.ndarray, samples: int, seed: int) -> dict[str, float]:
    """The headline measures for the card (the full report is `procgen.textures.evaluate`)."""
    made = gen.sample_batch(samples, 256, seed)
    return {
        "samples": samples,
        "seam_ratio_mean": round(float(np.mean([seam_ratio(t) for t in made])), 4),
        "seam_ratio_max": round(max(seam_ratio(t) for t in made), 4),
        "gram_distance": round(float(gram_distance(made, exemplar).mean()), 4),
        "diversity": round(diversity(made), 4),
        "nearest_patch_distance": round(nearest_patch_distance(made, exemplar), 4),
    }


def train(args: Args, command: str | None = None) -> Path:
    """Train, write the weights and card, return the weights path."""
    if not 1 <= args.iterations <= MAX_ITERATIONS:
        raise InputError("iterations", f"expected 1..{MAX_ITERATIONS}, got {args.iterations}")
    if args.crop % PIXELS_PER_CELL or not 32 <= args.crop <= 512:
        raise InputError("crop", f"expected a multiple of {PIXELS_PER_CELL} in 32..512, got {args.crop}")
    if not 1 <= args.batch_size <= 256:
        raise InputError("batch_size", f"expected 1..256, got {args.batch_size}")
    if args.dry_run:
        args.iterations, args.sample_every, args.checkpoint_every = 2, 1, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = select_device(args.device)
    pixels, source = load_exemplar(args.theme)
    if min(pixels.shape[:2]) < args.crop:
        raise InputError(
            "crop", f"{source}: image is {pixels.shape[1]}x{pixels.shape[0]}, smaller than --crop {args.crop}"
        )
    name = args.name or (args.theme if args.theme in THEMES else Path(args.theme).stem)
    tmp = tempfile.TemporaryDirectory(prefix="ludoforge-dry-run-") if args.dry_run else None
    run_dir = Path(tmp.name if tmp else args.run_dir) / name
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    # A trainer never writes into procgen/weights/: `ludoforge publish` does, after checking the card.
    weights_out = Path(args.weights_out) if args.weights_out and not tmp else run_dir / "generator"

    exemplar = torch.from_numpy(np.array(pixels)).permute(2, 0, 1).float().div(127.5).sub(1).to(device)
    cfg = TextureConfig(width=args.width)
    net, critic = TextureNet(cfg).to(device), PatchCritic(args.critic_width).to(device)
    ema = copy.deepcopy(net).eval()
    opt_g = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_c = torch.optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.999))
    writer = SummaryWriter(str(run_dir))
    writer.add_text("args", "\n".join(f"{k}: {v}" for k, v in asdict(args).items()))
    data_gen = torch.Generator().manual_seed(args.seed)
    cells = args.crop // PIXELS_PER_CELL
    fixed = net.latent(
        8, 2 * cells, 2 * cells, torch.Generator().manual_seed(args.seed)
    )  # twice the crop: any size

    def noise() -> list[torch.Tensor]:
        return [t.to(device) for t in net.latent(args.batch_size, cells, cells, data_gen)]

    start = time.perf_counter()
    for it in tqdm(range(1, args.iterations + 1), desc=f"train {name}", unit="it", disable=None):
        real = random_crops(exemplar, args.batch_size, args.crop, data_gen)
        with torch.no_grad():
            fake = net(*noise())
        critic_loss = hinge_losses(critic(real), critic(fake))
        opt_c.zero_grad(set_to_none=True)
        critic_loss.backward()
        opt_c.step()

        gen_loss = -critic(net(*noise())).mean()
        opt_g.zero_grad(set_to_none=True)
        gen_loss.backward()
        opt_g.step()
        update_ema(ema, net, args.ema_decay)
        if it % 25 == 0 or args.dry_run:
            writer.add_scalar("losses/critic_hinge", critic_loss.item(), it)
            writer.add_scalar("losses/generator", gen_loss.item(), it)
            writer.add_scalar("charts/its_per_s", it / (time.perf_counter() - start), it)
        if it % args.sample_every == 0 or it == args.iterations:
            with torch.no_grad():
                save_grid(ema(*(t.to(device) for t in fixed)), run_dir / "samples" / f"iter_{it:06d}.png")
        if it % args.checkpoint_every == 0 or it == args.iterations:
            ckpt = checkpoint_tensors(net, critic, ema)
            save_weights(
                run_dir / "checkpoints" / f"iter_{it:06d}", ckpt, {"config": cfg.to_dict(), "iteration": it}
            )
    train_seconds = time.perf_counter() - start

    texture_gen = TextureGenerator(copy.deepcopy(ema).cpu(), name, weights_id=name, device="cpu")
    metrics = card_metrics(texture_gen, pixels, 4 if args.dry_run else 16, args.seed)
    for key, value in metrics.items():
        writer.add_scalar(f"eval/{key}", value, args.iterations)
    writer.close()
    card = {
        "model": "procgen.textures.gan.TextureNet (EMA of the trained generator)",
        # Only a shipped theme has a package name that `TextureGenerator.pretrained` reads; others load by path.
        **({"publish_as": f"procgen/weights/textures_{args.theme}"} if args.theme in THEMES else {}),
        "config": cfg.to_dict(),
        "theme": name,
        "command": command or f"python -m procgen.textures.train {shlex.join(sys.argv[1:])}",
        "args": asdict(args),
        "seed": args.seed,
        "data": {"exemplar": Path(source).name, "size": list(pixels.shape[:2])},
        "metrics": metrics,
        **run_facts(train_seconds, device),
    }
    path = save_weights(weights_out, {k: v for k, v in ema.state_dict().items()}, card)
    print(f"weights: {path}\nmetrics: {metrics}")
    if tmp:
        tmp.cleanup()
    return path


def main(argv: list[str] | None = None, prog: str = "python -m procgen.textures.train") -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = tyro.cli(Args, args=argv, prog=prog, description=__doc__)
    train(args, command=f"{prog} {shlex.join(argv)}".strip())


if __name__ == "__main__":
    main()
