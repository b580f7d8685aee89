"""`ludoforge train npc|q|narrator|narrator-q`, `ludoforge npc eval` and `ludoforge narrator eval`: train the
NPC and narrator policies and measure them on unseen levels and held-out players."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

train_app = typer.Typer(
    help="Train policies: PPO per NPC role, the tabular Q-learning baseline, or the narrator.",
    no_args_is_help=True,
)
npc_app = typer.Typer(help="NPC policies: evaluate them on unseen test levels.", no_args_is_help=True)
narrator_app = typer.Typer(
    help="The narrator: compare it with its baselines on held-out player types.", no_args_is_help=True
)

_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@train_app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def npc(ctx: typer.Context) -> None:
    """PPO for one role on the batched env, exported to ONNX with a card in runs/npc/<role>/ (all options:
    `ludoforge train npc --help`). Example: `ludoforge train npc --role hunter --total-steps 2000000`, then
    `ludoforge publish runs/npc/hunter` to ship it."""
    from agents.train.ppo_npc import main

    main(list(ctx.args), prog="ludoforge train npc")


@train_app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def q(ctx: typer.Context) -> None:
    """Tabular Q-learning baseline, into runs/qlearning/<role>/ (all options: `ludoforge train q --help`).
    Example: `ludoforge train q --role hunter --seed 1`, then `ludoforge publish runs/qlearning/hunter`."""
    from agents.train.qlearning import main

    main(list(ctx.args), prog="ludoforge train q")


@train_app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def narrator(ctx: typer.Context) -> None:
    """PPO for the narrator on simulated players, exported to ONNX with a card in runs/narrator/ (all options:
    `ludoforge train narrator --help`). Example: `ludoforge train narrator --total-timesteps 150000`, then
    `ludoforge publish runs/narrator` to ship it."""
    from agents.train.ppo_narrator import main

    main(list(ctx.args), prog="ludoforge train narrator")


@train_app.command("narrator-q", context_settings=_PASS_THROUGH, add_help_option=False)
def narrator_q(ctx: typer.Context) -> None:
    """Tabular Q-learning baseline for the narrator, into runs/narrator_q/ (all options: `ludoforge train
    narrator-q --help`); `ludoforge publish runs/narrator_q` ships it."""
    from agents.train.q_narrator import main

    main(list(ctx.args), prog="ludoforge train narrator-q")


@train_app.command("narrator-rules", context_settings=_PASS_THROUGH, add_help_option=False)
def narrator_rules(ctx: typer.Context) -> None:
    """CMA-ES for the rule-based narrator's thresholds on the training personas, into runs/narrator_cma/<run>/
    (all options: `ludoforge train narrator-rules --help`); `ludoforge publish runs/narrator_cma/<run>` ships
    it."""
    from agents.train.cma_narrator import main

    main(list(ctx.args), prog="ludoforge train narrator-rules")


@train_app.command("player-model", context_settings=_PASS_THROUGH, add_help_option=False)
def player_model(ctx: typer.Context) -> None:
    """Fit the narrator's player model on simulated players, into runs/player_model/ (all options: `ludoforge
    train player-model --help`); `ludoforge publish runs/player_model` ships it."""
    from agents.train.fit_player_model import main

    main(list(ctx.args), prog="ludoforge train player-model")


@npc_app.command("eval")
def evaluate(
    episodes: Annotated[int, typer.Option(min=20, max=10_000, help="Episodes per role and policy.")] = 200,
    out: Annotated[Path, typer.Option(help="The Markdown report.")] = Path("docs/agents_eval.md"),
    q_table: Annotated[
        Path | None,
        typer.Option(
            help="The hunter's Q-learning table stem (default: the shipped agents/policies/hunter_q); "
            "evaluation never trains one."
        ),
    ] = None,
) -> None:
    """Shipped policies against the scripted baselines, random and the shipped Q-learning table, on unseen test
    levels."""
    from agents.evaluate import write_report

    if q_table is not None and not q_table.with_suffix(".safetensors").is_file():
        raise typer.BadParameter(
            f"{q_table.with_suffix('.safetensors')}: no such Q table", param_hint="--q-table"
        )
    write_report(out, episodes, q_table)
    typer.echo(f"wrote {out}")


@narrator_app.command("eval")
def narrator_eval(
    episodes: Annotated[int, typer.Option(min=10, max=5_000, help="Runs per held-out player type.")] = 200,
    out: Annotated[Path, typer.Option(help="The Markdown report.")] = Path("docs/narrator_eval.md"),
) -> None:
    """Silent, random, rule-based, Q-learning and PPO narrators on held-out player types and unseen dungeons."""
    from agents.narrator.evaluate import write_report

    write_report(out, episodes)
    typer.echo(f"wrote {out}")
