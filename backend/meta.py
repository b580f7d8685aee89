"""`GET /v1/health` and `GET /v1/info`: whether the generators are loaded, and what this server runs (the version,
the generators with their cards' sha, date and headline metrics, and the limits)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backend.state import ServerState
from procgen.core.weights import WEIGHTS_DIR

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    status: str = Field(
        examples=["ready"], description='"ready" once the generators are loaded, else "loading"'
    )


class Card(BaseModel):
    name: str = Field(examples=["levels_dungeon"])
    sha256: str = Field(description="the weights' sha256, as on the card")
    date: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict, description="the card's headline numbers")


class Limits(BaseModel):
    max_body_bytes: int
    token_required: bool
    levels_per_request: int
    levels_per_job: int
    timeout_s: float
    rate_limit_per_s: float | None = Field(description="requests a second per client; null: none")


class Corpus(BaseModel):
    generator: str = Field(examples=["dungeon"])
    corpus: str = Field(description="the corpus it was trained on")
    genre: dict[str, Any] = Field(description="the rules its levels are playable under")
    width: int
    height: int
    examples: int = Field(description="training examples (windows, flips included)")
    weights_sha256: str


class Info(BaseModel):
    version: str
    generators: list[str] = Field(examples=[["dungeon", "platformer"]])
    corpora: list[Corpus] = Field(description="each level generator with its corpus, genre and level size")
    weights: list[Card]
    limits: Limits


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(request: Request) -> JSONResponse:
    """200 and "ready" once start-up has loaded the generators; 503 and "loading" before."""
    ready = request.app.state.ludoforge.ready
    return JSONResponse({"status": "ready" if ready else "loading"}, status_code=200 if ready else 503)


@router.get("/info", response_model=Info)
def info(request: Request) -> Info:
    """The version, the generators, every shipped weights card (sha, date, headline metrics) and the limits."""
    state: ServerState = request.app.state.ludoforge
    cards = []
    for path in sorted(WEIGHTS_DIR.glob("*.json")):
        card = json.loads(path.read_text(encoding="utf-8"))  # our own shipped cards, checked by their tests
        metrics = card.get("metrics", {})
        headline = {k: v for k, v in metrics.items() if isinstance(v, int | float | str | bool) or v is None}
        cards.append(
            Card(
                name=path.stem, sha256=card.get("weights_sha256", ""), date=card.get("date"), metrics=headline
            )
        )
    from backend.levels import MAX_JOB_LEVELS, MAX_LEVELS, genre_dict

    corpora = [
        Corpus(
            generator=name,
            corpus=gen.corpus.name,
            genre=genre_dict(gen.genre),
            width=gen.cfg.width,
            height=gen.cfg.height,
            examples=len(gen.corpus.examples),
            weights_sha256=state.weights.get(name, ""),
        )
        for name, gen in sorted(state.generators.items())
    ]
    settings = state.settings
    return Info(
        version=request.app.version,
        generators=sorted(state.generators) if state.ready else [],
        corpora=corpora,
        weights=cards,
        limits=Limits(
            max_body_bytes=settings.max_body_bytes,
            token_required=settings.token is not None,
            levels_per_request=MAX_LEVELS,
            levels_per_job=MAX_JOB_LEVELS,
            timeout_s=settings.timeout_s,
            rate_limit_per_s=settings.rate_limit,
        ),
    )
