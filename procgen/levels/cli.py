"""`ludoforge levels ...`: train, sample, evaluate and export levels from the command line."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from procgen.levels.corpus import SHIPPED_CORPORA

app = typer.Typer(
    help="Level GAN: train on a corpus, sample playable levels, evaluate, export dungeons.",
    no_args_is_help=True,
)

FORMATS = ("json", "tmj", "tmx", "png", "txt")
MAX_CLI_SAMPLES = 10_000
MAX_SEED = 2**31 - 1

CorpusOption = Annotated[str, typer.Option(help=f"Shipped generator: {', '.join(SHIPPED_CORPORA)}.")]
WeightsOption = Annotated[
    Path | None, typer.Option(help="Your own weights stem (from `levels train`) instead of a shipped one.")
]


def _generator(corpus: str, weights: Path | None):
    from procgen.levels.generator import LevelGenerator

    if weights is not None:
        return LevelGenerator.from_weights(weights)
    if corpus not in SHIPPED_CORPORA:
        raise typer.BadParameter(
            f"expected one of {sorted(SHIPPED_CORPORA)}, got {corpus!r}", param_hint="--corpus"
        )
    return LevelGenerator.pretrained(corpus)


def _pairs(text: str | None, what: str) -> dict[str, list[float]]:
    """'a=1,b=2,b=3' → {'a': [1.0], 'b': [2.0, 3.0]}."""
    out: dict[str, list[float]] = {}
    for part in filter(None, (text or "").split(",")):
        key, sep, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            raise typer.BadParameter(f"{what}: expected name=number pairs, got {part!r}") from None
        if not sep or not math.isfinite(number):
            raise typer.BadParameter(f"{what}: expected name=number pairs with finite numbers, got {part!r}")
        out.setdefault(key.strip(), []).append(number)
    return out


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False
)
def train(ctx: typer.Context) -> None:
    """Train the level GAN into runs/levels/<name>/ (all options: `ludoforge levels train --help`). Example:
    `ludoforge levels train --corpus my_levels/ --window 16 14 --iterations 3000`, then `ludoforge levels sample
    --weights runs/levels/my_levels/generator`. A run on a shipped corpus ships with `ludoforge publish
    runs/levels/dungeon`."""
    from procgen.levels.train import main as train_main

    train_main(list(ctx.args), prog="ludoforge levels train")


@app.command()
def sample(
    out: Annotated[
        Path, typer.Option(help="A file (one level; format from its extension) or a folder.")
    ] = Path("levels_out"),
    n: Annotated[int, typer.Option(min=1, max=MAX_CLI_SAMPLES, help="How many levels.")] = 1,
    seed: Annotated[int | None, typer.Option(min=0, max=MAX_SEED, help="Seed (random if omitted).")] = None,
    corpus: CorpusOption = "dungeon",
    weights: WeightsOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help=f"Format when --out is a folder: {', '.join(FORMATS)}.")
    ] = "tmj",
    repair: Annotated[bool, typer.Option(help="Repair unplayable samples (minimum edits, CP-SAT).")] = True,
    density: Annotated[
        str | None, typer.Option(help="Condition, e.g. 'openness=0.6,enemies=2,hazard=0.05,pickups=1'.")
    ] = None,
    doors: Annotated[
        str | None, typer.Option(help="Room doors, e.g. 'north=7,east=5' (x on north/south, y on west/east).")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Latent search (CMA-ES) toward e.g. 'path_length=24,enemies=2'.")
    ] = None,
) -> None:
    """Sample levels from a trained generator and write them as json/tmj/tmx/png/txt."""
    from engine.formats import write_level
    from procgen.levels.preview import save_levels_png

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format: expected one of {FORMATS}, got {fmt!r}")
    if out.suffix and out.suffix.lstrip(".").lower() not in FORMATS:
        raise typer.BadParameter(
            f"{out.suffix!r} is not a level format (expected one of {FORMATS}, or a folder name without one)",
            param_hint="--out",
        )
    seed = random.randrange(MAX_SEED) if seed is None else seed
    gen = _generator(corpus, weights)
    conditions: dict = {}
    if density:
        conditions["density"] = {k: v[-1] for k, v in _pairs(density, "--density").items()}
    if doors:
        door_pairs = _pairs(doors, "--doors")
        if any(p != int(p) for v in door_pairs.values() for p in v):
            raise typer.BadParameter("expected side=integer pairs, e.g. north=7", param_hint="--doors")
        conditions["doors"] = {k: [int(p) for p in v] for k, v in door_pairs.items()}
    try:  # the generator's own check of the conditions, so a bad --density or --doors is the user's error
        gen.conditions(1, np.random.default_rng(0), conditions)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--density/--doors") from None
    if target:
        from procgen.levels.control import search

        targets = {k: v[-1] for k, v in _pairs(target, "--target").items()}
        try:  # the search's own check of the targets, so a bad --target is the user's error
            results = [search(gen, targets, seed=seed + i, conditions=conditions) for i in range(n)]
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--target") from None
        levels = [r.level for r in results]
        for r in results:
            typer.echo(f"{r.level.meta.name}: {'hit' if r.hit else 'miss'} {r.measures}")
    else:
        levels = gen.sample(n, seed=seed, conditions=conditions or None, repair=repair)
    single = n == 1 and out.suffix.lstrip(".").lower() in FORMATS
    if single:
        write_level(levels[0], out)
        typer.echo(f"Wrote 1 level (seed {seed}) to {out}")
        return
    out.mkdir(parents=True, exist_ok=True)
    for i, level in enumerate(levels):
        write_level(level, out / f"level_{i:04d}.{fmt}")
    save_levels_png(np.stack([lv.tiles for lv in levels[:256]]), out / "preview.png", scale=6)
    typer.echo(f"Wrote {n} levels (seed {seed}) to {out}/level_*.{fmt}, and {out}/preview.png")


@app.command("eval")
def eval_(
    corpus: CorpusOption = "dungeon",
    weights: WeightsOption = None,
    n: Annotated[int, typer.Option(min=10, max=20_000, help="Samples per generator.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED)] = 0,
    out: Annotated[Path, typer.Option(help="Folder for the Markdown report and its plots.")] = Path("docs"),
    wfc_samples: Annotated[int, typer.Option(min=1, max=20_000, help="WFC baseline samples.")] = 1000,
    control_targets: Annotated[
        int, typer.Option(min=1, max=1000, help="Targets for the control table.")
    ] = 30,
    update_card: Annotated[
        bool,
        typer.Option(
            help="Also record the headline numbers on the weights card: an explicit step, since for the shipped "
            "weights that card is in the package."
        ),
    ] = False,
) -> None:
    """Evaluate a generator against the training set, random tiles and WFC; write docs/levels_eval_<name>.md."""
    from procgen.levels.evaluate import evaluate

    gen = _generator(corpus, weights)
    name = corpus if weights is None else Path(weights).name
    numbers = evaluate(
        name, n, seed, out, wfc_samples, control_targets, generator=gen, update_card=update_card
    )
    gan = numbers["quality"]["GAN + repair"]
    typer.echo(
        f"Wrote {out}/levels_eval_{name}.md: playable {gan['playable']:.1%} after repair, "
        f"KL2 {gan['kl2']:.3f}, duplicates {gan['duplicates']:.1%}"
    )


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Output file: .tmj, .tmx, .json, .txt or .png.")],
    seed: Annotated[int | None, typer.Option(min=0, max=MAX_SEED, help="Seed (random if omitted).")] = None,
    rooms: Annotated[int, typer.Option(min=2, max=24, help="Rooms on the critical path.")] = 6,
    branches: Annotated[int, typer.Option(min=0, max=24, help="Side rooms off the path.")] = 1,
    locked_doors: Annotated[
        int, typer.Option(min=0, max=22, help="Locked doors, each with its key before it.")
    ] = 1,
) -> None:
    """A whole dungeon of GAN rooms (the demo game's levels) as one level file."""
    from engine.formats import write_level
    from procgen.levels.dungeon import DungeonSettings, generate_dungeon
    from procgen.levels.generator import LevelGenerator

    seed = random.randrange(MAX_SEED) if seed is None else seed
    settings = DungeonSettings(rooms=rooms, branches=branches, locked_doors=locked_doors)
    level = generate_dungeon(seed, settings, generator=LevelGenerator.pretrained("dungeon"))
    write_level(level, out)
    typer.echo(f"Wrote seed {seed}'s dungeon ({level.width}x{level.height} tiles) to {out}")
