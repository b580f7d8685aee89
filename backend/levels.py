"""`POST /v1/levels`, `/v1/levels/check`, `/v1/levels/repair` and `/v1/dungeons`: playable levels in any of the
level formats, each with the solver's verdict, and a client's own level checked or repaired.

A level answer is JSON by default (the levels inline, in ludoforge's level format); asked for TMJ, TMX, VGLC text
or PNG, by the `format` field or the Accept header, the files come as a zip, as blob URLs, or (one PNG) as the
file itself.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.content import LEVEL_JSON, MEDIA, Answer, Packaging, json_bytes, packed, serve_answer
from backend.state import ServerState
from engine.errors import InputError
from engine.formats import decode_level, encode_level
from engine.formats.json_level import level_to_dict
from engine.level import Legend, Level
from procgen.levels.generator import SampleReport, SampleRequest
from procgen.levels.genre import TOPDOWN, Genre
from procgen.levels.solver import Solution, solve

router = APIRouter(tags=["levels"])
LEVEL_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON (format json, or packaging urls), a zip of the files, one PNG, or one level file",
        "content": {"application/zip": {}, "image/png": {}, LEVEL_JSON: {"schema": {"type": "object"}}},
    },
    304: {"description": "If-None-Match named this answer's ETag"},
}

MAX_SEED = 2**31 - 1
MAX_LEVELS = 64
"""levels in one request; more is a batch job"""
REPAIR_TIME_LIMIT_S = 10.0
"""wall-clock net behind CP-SAT's work limit for a client's level"""
MAX_JOB_LEVELS = 10_000
"""levels in one `levels` job"""
MAX_SEARCH_LEVELS = 4
"""levels in one request with a search target (each is a 400-evaluation latent search)"""
LevelFormat = Literal["json", "tmj", "tmx", "txt", "png"]
ACCEPT_FORMATS = {
    "application/json": "json",
    "application/vnd.tiled.tmj+json": "tmj",
    "application/vnd.tiled.tmx+xml": "tmx",
    "application/xml": "tmx",
    "text/plain": "txt",
    "image/png": "png",
}
Seed = Annotated[
    int, Field(ge=0, le=MAX_SEED, description="the same seed gives the same bytes", examples=[7])
]
DoorList = Annotated[
    list[Annotated[int, Field(ge=1, le=254)]], Field(max_length=16, description="positions along that side")
]


class Strict(BaseModel):
    """A request model: unknown fields and loose types (`false` for a number, "7" for a seed) are refused, so
    what the schema says is what the server takes."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Doors(Strict):
    """Where a room's doors are: x along north and south, y along west and east (1..width-2 or height-2)."""

    north: DoorList = []
    south: DoorList = []
    west: DoorList = []
    east: DoorList = []


class Density(Strict):
    """The room GAN's density conditions; an unnamed one is drawn from the corpus."""

    openness: float | None = Field(None, ge=0, le=1, description="share of open tiles")
    enemies: float | None = Field(None, ge=0, le=32, description="enemies per room")
    hazard: float | None = Field(None, ge=0, le=1, description="share of hazard tiles")
    pickups: float | None = Field(None, ge=0, le=32, description="pickups per room")


class Conditions(Strict):
    doors: Doors | None = None
    density: Density | None = None


class Target(Strict):
    """What the latent search (CMA-ES) steers each level toward; at least one."""

    path_length: float | None = Field(None, ge=0, le=1000, examples=[24])
    enemies: float | None = Field(None, ge=0, le=32)
    hazard: float | None = Field(None, ge=0, le=1)
    openness: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _some(self) -> Target:
        if not self.as_dict():
            raise ValueError("name at least one of path_length, enemies, hazard, openness")
        return self

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class LevelsRequest(Strict):
    generator: str = Field(
        "dungeon",
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_-]+$",
        description='"dungeon" (16x11 rooms), "platformer" (16x16 segments), or a generator id a training job made',
    )
    n: int = Field(1, ge=1, le=MAX_LEVELS, description=f"levels; at most {MAX_SEARCH_LEVELS} with a target")
    seed: Seed = 0
    conditions: Conditions | None = None
    target: Target | None = None
    repair: bool = Field(True, description="repair unplayable samples with the fewest edits (CP-SAT)")
    format: LevelFormat | None = Field(
        None, description="json, tmj, tmx, txt or png; else from Accept; else json"
    )
    packaging: Packaging | None = Field(
        None, description="for files: zip (default), urls (blob URLs in JSON) or file (when there is one)"
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"generator": "dungeon", "n": 2, "seed": 7, "conditions": {"doors": {"north": [7]}}}]
        },
    )


class SolverResult(BaseModel):
    playable: bool
    reason: str = Field("", description="why not, when not playable")
    path_length: int = Field(description="steps on the path the solver found (0 when not playable)")
    path: list[tuple[int, int]] = Field(description="(x, y) cells of that path after the first")
    critical_tiles: list[tuple[int, int]] = Field(
        description="(x, y) cells every route passes through: blocking one makes the level unplayable"
    )


class LevelEntry(BaseModel):
    name: str
    index: int
    level: dict[str, Any] | None = Field(
        None, description="the level in ludoforge's JSON format (format json)"
    )
    files: list[Any] | None = Field(
        None, description="its files (other formats): names in a zip, or blob entries"
    )
    solver: SolverResult
    raw_playable: bool | None = Field(None, description="was it playable as generated, before repair")
    repair_edits: int | None = None
    search: dict[str, Any] | None = Field(
        None, description="with a target: the measures reached and whether hit"
    )


class LevelsAnswer(BaseModel):
    generator: str
    weights_sha256: str
    seed: int
    genre: dict[str, Any] = Field(
        description="the rules the levels are playable under: name, and jump limits"
    )
    format: str
    levels: list[LevelEntry]


def solver_result(solution: Solution) -> dict[str, Any]:
    return {
        "playable": solution.playable,
        "reason": solution.reason,
        "path_length": solution.length,
        "path": [list(c) for c in solution.path],
        "critical_tiles": sorted([list(c) for c in solution.critical]),
    }


def genre_dict(genre: Genre) -> dict[str, Any]:
    """The rules a level is playable under, as `Genre.to_dict` writes them and `Genre.from_dict` reads them
    ({"genre": "platformer", "max_jump_height": ..., ...})."""
    return genre.to_dict()


def chosen_format(given: str | None, accept: str | None) -> str:
    """The `format` field, else the first format the Accept header names (by q-value), else json."""
    if given is not None:
        return given
    ranked = []
    for i, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            ranked.append((-float(q), i, media.lower()))
        except ValueError:
            continue
    for _, _, media in sorted(ranked):
        if media in ACCEPT_FORMATS:
            return ACCEPT_FORMATS[media]
    return "json"


def level_answer(
    levels: list[tuple[Level, dict[str, Any]]],
    fmt: str,
    packaging: str | None,
    manifest: dict[str, Any],
    blobs: Any,
) -> Answer:
    """Levels, each with its entry (solver result and the rest), as one answer in `fmt`: inline JSON, or files."""
    if fmt == "json" and packaging is None:
        entries = [{**entry, "level": level_to_dict(level)} for level, entry in levels]
        return Answer(json_bytes({**manifest, "format": fmt, "levels": entries}), MEDIA[".json"])
    files: dict[str, bytes] = {}
    entries = []
    for i, (level, entry) in enumerate(levels):
        made = encode_level(level, fmt, f"level_{i:04d}")
        files.update(made)
        entries.append({**entry, "files": list(made)})
    default = "file" if len(files) == 1 else "zip"
    manifest = {**manifest, "format": fmt, "levels": entries}
    answer = packed(files, manifest, packaging or default, blobs, "packaging", json_file_media=LEVEL_JSON)
    if packaging == "urls":  # each level's entry lists its own files' blob entries, not just their names
        body = json.loads(answer.body)
        by_name = {f["name"]: f for f in body.pop("files")}
        for entry in body["levels"]:
            entry["files"] = [by_name[name] for name in entry["files"]]
        return Answer(json_bytes(body), MEDIA[".json"])
    if len(levels) == 1 and answer.media_type != "application/zip" and answer.media_type != MEDIA[".json"]:
        solver = levels[0][1]["solver"]
        headers = {
            **answer.headers,
            "X-Playable": str(solver["playable"]).lower(),
            "X-Path-Length": str(solver["path_length"]),
        }
        return Answer(answer.body, answer.media_type, headers=headers)
    return answer


def _conditions(conditions: Conditions | None) -> dict[str, Any] | None:
    if conditions is None:
        return None
    out: dict[str, Any] = {}
    if conditions.doors is not None:
        doors = {side: list(v) for side, v in conditions.doors.model_dump().items() if v}
        if doors:
            out["doors"] = doors
    if conditions.density is not None:
        density = {k: v for k, v in conditions.density.model_dump().items() if v is not None}
        if density:
            out["density"] = density
    return out or None


def _as_input_error(exc: ValueError, default_field: str) -> InputError:
    """A generator's ValueError ("conditions.doors.north: 20 is not on the border") as a 422 naming the field."""
    text = str(exc)
    field, sep, message = text.partition(": ")
    return InputError(field if sep and " " not in field else default_field, message if sep else text)


@router.post(
    "/levels",
    response_model=LevelsAnswer,
    responses=LEVEL_FILES,
)
async def levels(body: LevelsRequest, request: Request) -> Response:
    """`n` levels from a generator: each playable when `repair` is on, each with its solver result."""
    state: ServerState = request.app.state.ludoforge
    generator = state.generators.get(body.generator)
    if generator is None:  # perhaps one another server process trained: loaded off the event loop
        generator = await state.workers.run(lambda: state.generator(body.generator))
    if generator is None:
        raise InputError("generator", f"expected one of {sorted(state.generators)}, got {body.generator!r}")
    fmt = chosen_format(body.format, request.headers.get("accept"))
    conditions = _conditions(body.conditions)
    try:  # the generator's own check, before any work: a door off the border names its field
        if conditions is not None:
            generator.conditions(1, np.random.default_rng(0), conditions)
    except ValueError as exc:
        raise _as_input_error(exc, "conditions") from None
    if body.target is not None and body.n > MAX_SEARCH_LEVELS:
        raise InputError("n", f"expected at most {MAX_SEARCH_LEVELS} levels with a target, got {body.n}")
    # A condition or target outside what the corpus holds has no meaning to the generator (and sends the search
    # after levels only heavy repair can make): each is held to the training examples' own range.
    ranges = generator.density_ranges
    given = [("conditions.density", (conditions or {}).get("density", {}))]
    if body.target is not None:
        given.append(("target", {k: v for k, v in body.target.as_dict().items() if k in ranges}))
        area = generator.cfg.height * generator.cfg.width
        if (body.target.path_length or 0) > area:
            raise InputError(
                "target.path_length", f"expected 0..{area} (the level's cells), got {body.target.path_length}"
            )
    for where, values in given:
        for name, value in values.items():
            lo, hi = ranges[name]
            if not lo - 1e-6 <= value <= hi + 1e-6:
                raise InputError(
                    f"{where}.{name}",
                    f"expected {lo:.3g}..{hi:.3g} (the {body.generator} corpus's range), got {value:g}",
                )
    canonical = {**body.model_dump(mode="json"), "format": fmt}
    manifest = {
        "generator": body.generator,
        "weights_sha256": state.weights[body.generator],
        "seed": body.seed,
        "genre": genre_dict(generator.genre),
    }
    room = generator.genre.name == "topdown"
    kind = "room" if room else "segment"

    def finish(codes: np.ndarray, report: SampleReport, solutions: list[Solution]) -> Answer:
        made = []
        for i, grid in enumerate(codes):
            level = generator.as_level(grid, body.seed, "procgen.levels.gan", f"{kind}-{body.seed}-{i}")
            entry = {
                "name": level.meta.name,
                "index": i,
                "solver": solver_result(solutions[i]),
                "raw_playable": bool(report.raw_playable[i]),
                "repair_edits": int(report.edits[i]),
            }
            made.append((level, entry))
        return level_answer(made, fmt, body.packaging, manifest, state.blobs)

    def searched() -> Answer:
        from procgen.levels.control import search

        assert body.target is not None
        made = []
        for i in range(body.n):
            result = search(generator, body.target.as_dict(), seed=body.seed + i, conditions=conditions)
            level = result.level
            entry = {
                "name": level.meta.name,
                "index": i,
                "solver": solver_result(solve(level.tiles, generator.genre, room=room)),
                "search": {"hit": result.hit, "measures": result.measures, "targets": result.targets},
            }
            made.append((level, entry))
        return level_answer(made, fmt, body.packaging, manifest, state.blobs)

    async def make() -> Answer:
        if body.target is not None:
            return await state.workers.run(searched)
        request_ = SampleRequest(body.n, body.seed, conditions, body.repair)
        return await state.batchers[body.generator].sample(request_, finish)

    return await serve_answer(request, canonical, {body.generator: state.weights[body.generator]}, make)


# ------------------------------------------------------------------------------------------ a client's level


class GenreSpec(Strict):
    name: Literal["topdown", "platformer"] = "topdown"
    max_jump_height: int = Field(3, ge=1, le=16)
    max_jump_width: int = Field(4, ge=1, le=16)
    gravity: int = Field(1, ge=1, le=16)

    def genre(self) -> Genre:
        if self.name == "topdown":
            return TOPDOWN
        rules = self.model_dump(exclude={"name"})
        return Genre.from_dict({"genre": self.name, **rules}, "genre")


class LevelUpload(Strict):
    format: Literal["json", "tmj", "tmx", "txt"] = Field(
        "json",
        description="what `level` is: ludoforge JSON or Tiled JSON (objects), TMX or VGLC text (strings)",
    )
    level: dict[str, Any] | str = Field(
        description="the level itself; a Tiled map's tileset must be embedded"
    )
    legend: dict[str, Any] | None = Field(None, description="the VGLC legend, for format txt")
    genre: GenreSpec = GenreSpec()
    room: bool = Field(
        False, description="ask the room question: every door reaches the others and every pickup"
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "format": "txt",
                    "level": "WWWWW\nWS.EW\nWWWWW\n",
                    "legend": {"tiles": {"W": ["wall"], ".": ["floor"], "S": ["start"], "E": ["exit"]}},
                }
            ]
        },
    )

    def parsed(self) -> Level:
        text = self.level if isinstance(self.level, str) else json.dumps(self.level)
        if isinstance(self.level, str) != (self.format in ("tmx", "txt")):
            expected = "a string" if self.format in ("tmx", "txt") else "an object"
            raise InputError("level", f"format {self.format} expects the level as {expected}")
        legend = None if self.legend is None else json.dumps(self.legend)
        return decode_level(text, self.format, "level", legend)


class RepairUpload(LevelUpload):
    max_edit_fraction: float = Field(1.0, ge=0, le=1, description="refuse a repair that changes more tiles")
    out_format: LevelFormat = Field("json", description="the repaired level's format")
    packaging: Packaging | None = None


class CheckAnswer(BaseModel):
    solver: SolverResult
    width: int
    height: int


class RepairAnswer(BaseModel):
    edits: int
    optimal: bool
    lower_bound: int
    solver: SolverResult
    level: dict[str, Any] | None = None


@router.post("/levels/check", response_model=CheckAnswer, responses={304: {"description": "not modified"}})
async def check(body: LevelUpload, request: Request) -> Response:
    """The solver's verdict on a client's level: playable or why not, the path, and the critical tiles."""
    state: ServerState = request.app.state.ludoforge

    def work() -> Answer:
        level = body.parsed()
        sol = solve(level, body.genre.genre(), room=body.room)
        answer = {"solver": solver_result(sol), "width": level.width, "height": level.height}
        return Answer(json_bytes(answer), MEDIA[".json"])

    return await serve_answer(request, body.model_dump(mode="json"), {}, lambda: state.workers.run(work))


@router.post("/levels/repair", response_model=RepairAnswer, responses=LEVEL_FILES)
async def repair(body: RepairUpload, request: Request) -> Response:
    """A client's level made playable with the fewest tile edits (CP-SAT top-down, label search platformer)."""
    from procgen.levels.repair import repair as repair_level

    state: ServerState = request.app.state.ludoforge

    def work() -> Answer:
        level = body.parsed()
        genre = body.genre.genre()
        # The request timeout bounds the answer; this bounds the work behind it, so a 504 frees its thread soon.
        limit = min(REPAIR_TIME_LIMIT_S, state.settings.timeout_s)
        result = repair_level(
            level.semantic_grid(),
            genre,
            room=body.room,
            max_edit_fraction=body.max_edit_fraction,
            time_limit_s=limit,
        )
        # The repair works on semantics, whose codes are the default legend's ids: the answer uses that legend.
        fixed = Level(
            tiles=result.tiles, legend=Legend.default(), spawns=level.spawns, meta=level.meta
        ).validate()
        entry = {
            "name": level.meta.name,
            "index": 0,
            "edits": int(result.edits),
            "optimal": bool(result.optimal),
            "lower_bound": int(result.lower_bound),
            "solver": solver_result(solve(fixed, genre, room=body.room)),
        }
        answer = level_answer([(fixed, entry)], body.out_format, body.packaging, {}, state.blobs)
        if body.out_format == "json" and body.packaging is None:  # one level: its fields at the top
            (only,) = json.loads(answer.body)["levels"]
            return Answer(json_bytes(only), MEDIA[".json"])
        return answer

    return await serve_answer(request, body.model_dump(mode="json"), {}, lambda: state.workers.run(work))


# --------------------------------------------------------------------------------------------------- dungeons


class DungeonRequest(Strict):
    seed: Seed = 0
    rooms: int = Field(6, ge=2, le=24, description="rooms on the critical path, start and exit included")
    branches: int = Field(1, ge=0, le=24, description="side rooms off the critical path (at most `rooms`)")
    locked_doors: int = Field(
        1, ge=0, le=22, description="locked doors on the path (at most rooms-2), a key each"
    )
    room_density: Density | None = Field(None, description="density conditions for every GAN room")
    room_source: Literal["gan", "authored"] = Field(
        "gan", description="rooms from the room GAN, or the corpus"
    )
    cast: bool = Field(
        True, description="give the NPCs their roles as the game does (guards, hunters, a companion)"
    )
    format: LevelFormat | None = None
    packaging: Packaging | None = None

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seed": 7, "rooms": 6}]})


class DungeonAnswer(BaseModel):
    seed: int
    weights_sha256: str
    format: str
    levels: list[LevelEntry]


@router.post(
    "/dungeons",
    response_model=DungeonAnswer,
    responses=LEVEL_FILES,
)
async def dungeons(body: DungeonRequest, request: Request) -> Response:
    """A whole dungeon for a seed: a graph of rooms with corridors, locks and keys, playable end to end."""
    from procgen.levels.dungeon import ROOM_DENSITY_RANGES, DungeonSettings, cast_roles, generate_dungeon

    state: ServerState = request.app.state.ludoforge
    given = {} if body.room_density is None else body.room_density.model_dump()
    density = tuple(sorted((k, v) for k, v in given.items() if v is not None))
    for name, value in density:
        lo, hi = ROOM_DENSITY_RANGES[name]
        if not lo <= value <= hi:
            raise InputError(f"room_density.{name}", f"expected {lo}..{hi} for a dungeon room, got {value}")
    settings = DungeonSettings(body.rooms, body.branches, body.locked_doors, density).validate()
    fmt = chosen_format(body.format, request.headers.get("accept"))
    canonical = {**body.model_dump(mode="json"), "format": fmt}
    gan = body.room_source == "gan"
    sha = state.weights["dungeon"] if gan else ""

    def work() -> Answer:
        level = generate_dungeon(body.seed, settings, generator=state.generators["dungeon"] if gan else None)
        if body.cast:
            level = cast_roles(level, body.seed)
        entry = {"name": level.meta.name, "index": 0, "solver": solver_result(solve(level))}
        manifest = {"seed": body.seed, "weights_sha256": sha}
        return level_answer([(level, entry)], fmt, body.packaging, manifest, state.blobs)

    return await serve_answer(request, canonical, {"dungeon": sha}, lambda: state.workers.run(work))
