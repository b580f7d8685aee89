"""`ludoforge textures ...`: train, sample and evaluate the seamless texture GAN from the command line."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Annotated

import typer

from procgen.textures.generator import MAX_SIZE, MIN_SIZE, THEMES

app = typer.Typer(
    help="Texture GAN: seamless, tileable textures per theme; train on your own image; evaluate.",
    no_args_is_help=True,
)

MAX_CLI_SAMPLES = 256
MAX_SEED = 2**31 - 1

ThemeOption = Annotated[str, typer.Option(help=f"Shipped theme: {', '.join(THEMES)}.")]
WeightsOption = Annotated[
    Path | None,
    typer.Option(help="Your own weights stem (from `textures train`) instead of a shipped theme."),
]


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False
)
def train(ctx: typer.Context) -> None:
    """Train the texture GAN on one image into runs/textures/<name>/ (all options: `ludoforge textures train
    --help`). Example: `ludoforge textures train --theme my_marble.png --iterations 2000`, then `ludoforge
    textures sample --weights runs/textures/my_marble/generator`. A run on a shipped theme ships with `ludoforge
    publish runs/textures/lava`."""
    from procgen.textures.train import main as train_main

    train_main(list(ctx.args), prog="ludoforge textures train")


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="A .png file (one texture) or a folder.")] = Path("textures_out"),
    theme: ThemeOption = "stone_floor",
    weights: WeightsOption = None,
    n: Annotated[int, typer.Option(min=1, max=MAX_CLI_SAMPLES, help="How many textures.")] = 1,
    size: Annotated[int, typer.Option(min=MIN_SIZE, max=MAX_SIZE, help="Side in pixels.")] = 256,
    seed: Annotated[int | None, typer.Option(min=0, max=MAX_SEED, help="Seed (random if omitted).")] = None,
) -> None:
    """Sample seamless textures as PNG."""
    from PIL import Image
    from tqdm import tqdm

    from procgen.textures.generator import TextureGenerator

    if theme not in THEMES and weights is None:
        raise typer.BadParameter(f"--theme: expected one of {THEMES}, got {theme!r}")
    seed = random.randrange(MAX_SEED) if seed is None else seed
    if out.suffix and (out.suffix.lower() != ".png" or n > 1):
        expected = "a folder name" if n > 1 else "a .png file or a folder name"
        raise typer.BadParameter(f"expected {expected}, got {out.name!r}", param_hint="--out")
    gen = TextureGenerator.from_weights(weights) if weights else TextureGenerator.pretrained(theme)
    if out.suffix:
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(gen.sample_batch(1, size, seed)[0]).save(out)
        typer.echo(f"Wrote a {size}x{size} {gen.theme} texture (seed {seed}) to {out}")
        return
    out.mkdir(parents=True, exist_ok=True)
    written = 0  # each chunk is written as it comes, so memory follows the chunk and not --n
    with tqdm(total=n, desc="textures", unit="tex", disable=n < 4) as bar:
        for chunk in gen.iter_batches(n, size, seed):
            for img in chunk:
                Image.fromarray(img).save(out / f"{gen.theme}_{written:03d}.png")
                written += 1
            bar.update(len(chunk))
    typer.echo(f"Wrote {n} {size}x{size} {gen.theme} textures (seed {seed}) to {out}/")


@app.command()
def tileset(
    out: Annotated[
        Path, typer.Option(help="Folder for atlas.png, tileset.tsj (Tiled) and index.json.")
    ] = Path("tileset_out"),
    seed: Annotated[int | None, typer.Option(min=0, max=MAX_SEED, help="Seed (random if omitted).")] = None,
    tile_px: Annotated[int, typer.Option(min=8, max=128, help="Tile side in pixels.")] = 32,
    floor: Annotated[str, typer.Option(help="Floor texture theme.")] = "stone_floor",
    wall: Annotated[str, typer.Option(help="Wall texture theme.")] = "brick_wall",
    style: Annotated[
        Path | None, typer.Option(help="An image to restyle every texture toward (slow: about a minute).")
    ] = None,
) -> None:
    """A whole level tileset (floor and wall variants, doors, hazards, water, decoration) as an atlas."""
    from procgen.textures.tileset import TilesetGenerator, TilesetTheme

    seed = random.randrange(MAX_SEED) if seed is None else seed
    try:
        theme = TilesetTheme(name=f"{floor}+{wall}", floor=floor, wall=wall)
        made = TilesetGenerator(theme, tile_px).generate(seed, style=_image(style) if style else None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    index = made.save(out)
    typer.echo(f"Wrote a {len(made.tiles)}-tile {tile_px}px tileset (seed {seed}) to {out}/ ({index.name})")


def _image(path: Path):
    """An RGB image as (H, W, 3) uint8, or a clear CLI error naming the file (the outside-data rule, with the
    size checked before decoding)."""
    from engine.errors import FileFormatError
    from engine.outside import read_outside_image

    try:
        return read_outside_image(path)
    except FileFormatError as exc:
        raise typer.BadParameter(str(exc)) from None


style_app = typer.Typer(
    help="Style transfer over a fixed random-weight CNN (no pretrained weights).", no_args_is_help=True
)


@style_app.command("transfer")
def style_transfer(
    content: Annotated[Path, typer.Option(help="The image whose structure is kept.")],
    style: Annotated[Path, typer.Option(help="The image whose colours and texture statistics are taken.")],
    out: Annotated[Path, typer.Option(help="Output .png.")] = Path("styled.png"),
    steps: Annotated[int, typer.Option(min=1, max=2000, help="Optimisation steps.")] = 100,
    periodic: Annotated[
        bool, typer.Option(help="Treat the content as a seamless texture (keeps it tiling).")
    ] = False,
) -> None:
    """Restyle an image (a texture, or a tileset atlas) toward a style exemplar, keeping its edges and layout."""
    from PIL import Image

    from procgen.metrics.textures import gram_distance
    from procgen.textures.style import edge_agreement, transfer

    if out.suffix.lower() != ".png":
        raise typer.BadParameter(f"expected a .png file, got {out.name!r}", param_hint="--out")
    content_rgb, style_rgb = _image(content), _image(style)
    try:
        result = transfer(content_rgb, style_rgb, steps=steps, periodic=periodic, progress=True)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(result).save(out)
    before, after = gram_distance(content_rgb, style_rgb)[0], gram_distance(result, style_rgb)[0]
    typer.echo(
        f"Wrote {out}: Gram distance to the style {before:.3f} -> {after:.3f}, "
        f"edge agreement with the content {edge_agreement(result, content_rgb):.2f}"
    )


@app.command("eval")
def eval_(
    n: Annotated[int, typer.Option(min=2, max=256, help="Samples per row.")] = 64,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED)] = 0,
    out: Annotated[Path, typer.Option(help="Folder for the Markdown report and its images.")] = Path("docs"),
    theme: Annotated[list[str] | None, typer.Option(help="Themes to evaluate (default: all).")] = None,
) -> None:
    """Seam ratio at random cuts (the headline, with its goal), Gram distance, diversity and nearest-patch
    distance, against the exemplar cut at random, its periodic component and shuffled patches."""
    from procgen.textures.evaluate import report

    themes = tuple(theme) if theme else THEMES
    bad = [t for t in themes if t not in THEMES]
    if bad:
        raise typer.BadParameter(f"--theme: expected some of {THEMES}, got {bad}")
    path = report(out, n, seed, themes)
    typer.echo(f"Wrote {path}")
