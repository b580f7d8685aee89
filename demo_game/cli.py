"""The `ludoforge` command: play the game (windowed or headless) and export a seed's dungeon."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from agents.cli import narrator_app, npc_app, train_app
from demo_game.content import MAX_SEED
from engine.errors import LudoforgeError
from procgen.characters.cli import app as sprites_app
from procgen.levels.cli import app as levels_app
from procgen.levels.cli import export as levels_export
from procgen.textures.cli import app as textures_app
from procgen.textures.cli import style_app

app = typer.Typer(
    help="ludoforge: a roguelite whose dungeons, art and NPCs are generated and trained.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(levels_app, name="levels")
app.add_typer(textures_app, name="textures")
app.add_typer(style_app, name="style")
app.add_typer(sprites_app, name="sprites")
app.add_typer(train_app, name="train")
app.add_typer(npc_app, name="npc")
app.add_typer(narrator_app, name="narrator")

SeedOption = Annotated[
    int | None, typer.Option(min=0, max=MAX_SEED, help="Dungeon seed (random if omitted).")
]


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback needs --token-file.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8750,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (share them a --cache-dir).")
    ] = 1,
    token_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the token every request must send as `Authorization: Bearer`."),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for the disk cache, blobs, uploads, jobs and trained generators."),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="An origin a browser page may call from (repeat for more; '*' any)."),
    ] = None,
    rate_limit: Annotated[
        float | None,
        typer.Option(min=0.01, help="Requests a second per client (default: none on loopback, 50 beyond)."),
    ] = None,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Worker threads making content.")] = 2,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds before a generation is 504.")
    ] = 30.0,
    batching: Annotated[bool, typer.Option(help="Coalesce concurrent level requests into batches.")] = True,
    generation_process: Annotated[
        bool, typer.Option(help="Make level batches in a child process (off: on the worker threads).")
    ] = True,
    max_batch: Annotated[int, typer.Option(min=1, max=4096, help="Levels in one batch at most.")] = 64,
    max_wait_ms: Annotated[
        float, typer.Option(min=0, max=1000, help="How long a request waits for a batch.")
    ] = 2.0,
    log_level: Annotated[
        str, typer.Option(help="debug, info (one access-log line a request), warning.")
    ] = "info",
) -> None:
    """Serve the content API (FastAPI, under /v1) that game engines and web pages call: see docs/backend.md."""
    from backend.serve import serve as run_server  # the CLI is the backend's client: nothing else imports it
    from backend.settings import ServerSettings, read_token

    settings = ServerSettings(
        host=host,
        port=port,
        token=read_token(token_file) if token_file else None,
        cache_dir=cache_dir,
        cors_origins=tuple(cors_origin or ()),
        rate_limit=rate_limit,
        threads=threads,
        timeout_s=timeout,
        batching=batching,
        generation_process=generation_process,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
    )
    run_server(settings, workers=workers, log_level=log_level)


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


@app.command()
def play(
    seed: SeedOption = None,
    headless: Annotated[bool, typer.Option(help="Run the scripted autoplay with no window.")] = False,
    seconds: Annotated[float, typer.Option(min=1, max=600, help="Game seconds the autoplay may run.")] = 60.0,
    out: Annotated[
        Path, typer.Option(help="Folder for the autoplay's recording (demo.webp) and summary.json.")
    ] = Path("out"),
    language: Annotated[
        str | None,
        typer.Option(help="The narrator's language: en or zh (default: the saved setting, else en)."),
    ] = None,
    narrator: Annotated[
        bool | None, typer.Option("--narrator/--no-narrator", help="Whether the narrator speaks.")
    ] = None,
) -> None:
    """Play a dungeon. With no display (or --headless) a bot plays and writes a GIF, a summary and the
    narrator's log."""
    from demo_game.narration import LANGUAGES, Settings, settings_path

    if language is not None and language not in LANGUAGES:
        raise typer.BadParameter(f"expected one of {LANGUAGES}, got {language!r}", param_hint="--language")
    from engine.app.saves import default_save_path
    from engine.errors import SaveError

    try:
        saved = Settings.load(settings_path(default_save_path()))
    except SaveError as e:  # a broken settings file must not stop the game: say so and use the defaults
        typer.echo(f"Ignoring the saved settings: {e}", err=True)
        saved = Settings()
    settings = Settings(
        language=language if language is not None else saved.language,
        narrator=narrator if narrator is not None else saved.narrator,
    )
    if not headless and not has_display():
        typer.echo("No display found (DISPLAY and WAYLAND_DISPLAY are unset): running the headless autoplay.")
        headless = True
    if headless:
        from demo_game.autoplay import run_autoplay

        seed = 7 if seed is None else seed
        typer.echo(
            f"Autoplay: seed {seed}, up to {seconds:g} s of game time -> {out}/demo.webp, {out}/summary.json"
        )
        summary = run_autoplay(seed, seconds, out, language=settings.language, narrator=settings.narrator)
        typer.echo(
            f"{summary['outcome']} after {summary['game_seconds']} s, {summary['frames']} frames at "
            f"{summary['fps']} FPS; wrote {summary['recording']} and {out / 'summary.json'}"
        )
        if (narrated := summary["narrator"]) is not None:
            typer.echo(
                f"narrator ({narrated['policy']}, {narrated['language']}): {narrated['interventions']} "
                f"interventions in {narrated['decisions']} decisions; log in {narrated['log']}"
            )
            for line in narrated["lines"]:
                typer.echo(f"  {line}")
        return
    from demo_game.scenes import PlayScene, TitleScene
    from engine.app.scene import Game

    if language is not None or narrator is not None:
        settings.save(settings_path(default_save_path()))  # the title screen shows what was asked for
    game = Game()
    if seed is None:
        game.run(TitleScene())
    else:
        from demo_game.content import new_world

        game.run(PlayScene(new_world(seed), default_save_path(), settings))


@app.command()
def publish(
    run: Annotated[Path, typer.Argument(help="A run folder a trainer wrote, e.g. runs/npc/hunter.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the run and say what would be copied; copy nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace shipped files that differ from the run's.")
    ] = False,
    package_root: Annotated[
        Path | None,
        typer.Option(hidden=True, help="Publish into this copy of the repository instead (tests)."),
    ] = None,
) -> None:
    """Copy a training run's artefacts (weights, policy, their JSON cards) into the package, where the game and
    `pretrained()` load them. Each file is checked against the sha256 on its card first."""
    from demo_game.publish import REPO_ROOT
    from demo_game.publish import publish as publish_run

    root = package_root or REPO_ROOT
    steps = publish_run(run, root, dry_run=dry_run, force=force)
    for step in steps:
        typer.echo(("would " if dry_run and step.action != "unchanged" else "") + step.describe(root))
    written = sum(s.action != "unchanged" for s in steps)
    typer.echo(
        f"{'dry run: ' if dry_run else ''}{written} of {len(steps)} files {'to write' if dry_run else 'written'}"
    )


# `ludoforge export` is kept as a short name for `ludoforge levels export`.
app.command("export", help="Write a seed's dungeon (GAN rooms) to a level file; same as `levels export`.")(
    levels_export
)


BUG_REPORT_LINE = "ludoforge hit an internal error; please report it with the traceback above."


def main() -> None:
    """Entry point. The project's typed errors (bad input, bad files) become one line on stderr and exit code 2,
    with no traceback. Anything else is a bug: it keeps its traceback, asks for a report and exits with 1."""
    try:
        app()
    except LudoforgeError as e:
        typer.echo(f"error: {e}", err=True)
        raise SystemExit(2) from None
    except Exception:
        # A bare ValueError or OSError is as likely to be our bug as the user's mistake, so it is never
        # dressed up as a usage error: the traceback is what a bug report needs.
        traceback.print_exc()
        typer.echo(BUG_REPORT_LINE, err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
