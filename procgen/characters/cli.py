"""`ludoforge sprites ...`: train, sample and evaluate the conditional sprite GAN from the command line."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Sprite GAN: 32x32 characters per class (hero, enemies, NPCs) with walk cycles; train; evaluate.",
    no_args_is_help=True,
)

MAX_CLI_SAMPLES = 1024
MAX_SEED = 2**31 - 1

WeightsOption = Annotated[
    Path | None,
    typer.Option(help="Your own weights stem (from `sprites train`) instead of the shipped ones."),
]


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False
)
def train(ctx: typer.Context) -> None:
    """Train the sprite GAN into runs/sprites/<name>/ (all options: `ludoforge sprites train --help`). Example:
    `ludoforge sprites train --corpus my_sprites/ --iterations 4000` (one sub-folder of PNGs per class), then
    `ludoforge sprites sample --weights runs/sprites/my_sprites/generator`. A run on the shipped corpus ships with
    `ludoforge publish runs/sprites/sprites`."""
    from procgen.characters.train import main as train_main

    train_main(list(ctx.args), prog="ludoforge sprites train")


@app.command()
def sample(
    cls: Annotated[str, typer.Option("--cls", help="Class: hero, enemy_undead, npc_villager, ...")] = "hero",
    out: Annotated[Path, typer.Option(help="Folder for the PNGs.")] = Path("sprites_out"),
    weights: WeightsOption = None,
    n: Annotated[int, typer.Option(min=1, max=MAX_CLI_SAMPLES, help="How many sprites.")] = 16,
    seed: Annotated[int | None, typer.Option(min=0, max=MAX_SEED, help="Seed (random if omitted).")] = None,
    walk: Annotated[
        bool, typer.Option(help="Also write each sprite's walk-cycle sheet (rows: down, left, right, up).")
    ] = False,
    scale: Annotated[int, typer.Option(min=1, max=16, help="Integer upscale of the written PNGs.")] = 1,
) -> None:
    """Sample finished sprites (binary alpha, outline, ≤16 colours) as RGBA PNGs, plus a sheet of them all."""
    from PIL import Image

    from procgen.characters.animation import walk_sheet
    from procgen.characters.generator import SpriteGenerator

    seed = random.randrange(MAX_SEED) if seed is None else seed
    gen = SpriteGenerator.from_weights(weights) if weights else SpriteGenerator.pretrained()
    if cls not in gen.classes:
        raise typer.BadParameter(f"--cls: expected one of {gen.classes}, got {cls!r}")
    sprites = gen.sample(cls, n, seed)
    out.mkdir(parents=True, exist_ok=True)

    def save(rgba, path: Path) -> None:
        img = Image.fromarray(rgba, "RGBA")
        img.resize((img.width * scale, img.height * scale), Image.NEAREST).save(path)

    for i, sprite in enumerate(sprites):
        save(sprite, out / f"{cls}_{i:03d}.png")
        if walk:
            save(walk_sheet(sprite), out / f"{cls}_{i:03d}_walk.png")
    columns = min(n, 8)
    sheet = sprites.reshape(-1, columns, *sprites.shape[1:]) if n % columns == 0 else None
    if sheet is not None:
        save(
            sheet.transpose(0, 2, 1, 3, 4).reshape(-1, columns * sprites.shape[2], 4),
            out / f"{cls}_sheet.png",
        )
    typer.echo(f"Wrote {n} {cls} sprites (seed {seed}) to {out}/" + (" with walk sheets" if walk else ""))


@app.command("eval")
def eval_(
    per_class: Annotated[int, typer.Option(min=10, max=2000, help="Sprites per class.")] = 200,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED)] = 0,
    out: Annotated[Path, typer.Option(help="Folder for the Markdown report and its images.")] = Path("docs"),
    weights: WeightsOption = None,
) -> None:
    """Classifier accuracy, alpha cleanliness, colours, duplicates and nearest-corpus distance, per class."""
    from procgen.characters.evaluate import report

    path = report(out, per_class, seed, weights)
    typer.echo(f"Wrote {path}")
