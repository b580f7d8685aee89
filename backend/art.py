"""`POST /v1/textures`, `/v1/tilesets`, `/v1/sprites` and `/v1/style-transfer`: PNGs plus their JSON (the Tiled
tileset and our index, the walk sheets' frame table), packed as a zip or as blob URLs."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from backend.content import Answer, Packaging, packed, serve_answer
from backend.levels import Seed, Strict
from backend.state import ServerState
from engine.errors import FileFormatError, InputError
from procgen.textures.generator import THEMES

router = APIRouter(tags=["art"])

Theme = Literal["stone_floor", "brick_wall", "lava", "water", "grass_dirt", "wood"]
assert set(Theme.__args__) == set(THEMES)  # type: ignore[attr-defined]
SpriteClass = Literal["hero", "enemy_undead", "enemy_slime", "enemy_critter", "npc_villager", "npc_automaton"]
MAX_STYLE_BYTES = 4 * 1024 * 1024
MAX_STYLE_PIXELS = 1024 * 1024
FILES = {200: {"content": {"application/zip": {}, "image/png": {}}}, 304: {"description": "not modified"}}


def _png(rgb) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


class TexturesRequest(Strict):
    theme: Theme = "stone_floor"
    size: int = Field(256, ge=16, le=1024, description="side in pixels")
    n: int = Field(1, ge=1, le=16)
    seed: Seed = 0
    packaging: Packaging | None = Field(
        None, description="file (the default for one), zip (for several) or urls"
    )

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"theme": "lava", "size": 128, "seed": 3}]}
    )


class FilesAnswer(BaseModel):
    files: list[dict]


@router.post("/textures", response_model=FilesAnswer, responses=FILES)
async def textures(body: TexturesRequest, request: Request) -> Response:
    """Seamless, tileable textures from a theme's texture GAN, as PNG."""
    state: ServerState = request.app.state.ludoforge
    sha = state.weights[f"textures_{body.theme}"]

    def work() -> Answer:
        images = state.textures[body.theme].sample_batch(body.n, body.size, body.seed)
        files = {f"{body.theme}_{i:02d}.png": _png(img) for i, img in enumerate(images)}
        manifest = {"theme": body.theme, "size": body.size, "seed": body.seed, "weights_sha256": sha}
        return packed(
            files, manifest, body.packaging or ("file" if body.n == 1 else "zip"), state.blobs, "packaging"
        )

    return await serve_answer(
        request, body.model_dump(mode="json"), {body.theme: sha}, lambda: state.workers.run(work)
    )


class TilesetRequest(Strict):
    seed: Seed = 0
    tile_px: int = Field(32, ge=8, le=128, description="tile side in pixels")
    floor: Theme = "stone_floor"
    wall: Theme = "brick_wall"
    hazard: Theme = "lava"
    water: Theme = "water"
    door: Theme = "wood"
    decoration: Theme = "grass_dirt"
    packaging: Packaging | None = Field(None, description="zip (default) or urls")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seed": 7, "tile_px": 32}]})


@router.post("/tilesets", response_model=FilesAnswer, responses=FILES)
async def tilesets(body: TilesetRequest, request: Request) -> Response:
    """A whole level tileset: atlas.png, tileset.tsj (Tiled; each tile's `semantic` and `variant`) and index.json
    (per semantic its first cell and variant rule)."""
    from procgen.textures.tileset import TilesetGenerator, TilesetTheme

    state: ServerState = request.app.state.ludoforge
    parts = body.model_dump(exclude={"seed", "tile_px", "packaging"})
    theme = TilesetTheme(name=f"{body.floor}+{body.wall}", **parts)
    weights = {t: state.weights[f"textures_{t}"] for t in sorted(set(parts.values()))}

    def work() -> Answer:
        made = TilesetGenerator(theme, body.tile_px, loaded=state.textures).generate(body.seed)
        manifest = {
            "seed": body.seed,
            "tile_px": body.tile_px,
            "index": made.index(),
            "weights_sha256": weights,
        }
        return packed(made.files(), manifest, body.packaging or "zip", state.blobs, "packaging")

    return await serve_answer(request, body.model_dump(mode="json"), weights, lambda: state.workers.run(work))


class SpritesRequest(Strict):
    seed: Seed = 0
    classes: list[SpriteClass] | None = Field(
        None,
        min_length=1,
        max_length=6,
        description="sprite classes; default the game's cast (the player, enemies and NPCs)",
    )
    packaging: Packaging | None = Field(None, description="zip (default) or urls")

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"seed": 7, "classes": ["hero"]}]}
    )


@router.post("/sprites", response_model=FilesAnswer, responses=FILES)
async def sprites(body: SpritesRequest, request: Request) -> Response:
    """Generated characters as walk sheets (one row per facing, 4 frames each) and cast.json, the frame table."""
    from procgen.characters.cast import CAST, cast_files

    state: ServerState = request.app.state.ludoforge
    roles = CAST if body.classes is None else {"sprites": tuple(dict.fromkeys(body.classes))}
    sha = state.weights["sprites"]

    def work() -> Answer:
        files = cast_files(state.sprites, body.seed, roles)
        return packed(
            files,
            {"seed": body.seed, "weights_sha256": sha},
            body.packaging or "zip",
            state.blobs,
            "packaging",
        )

    return await serve_answer(
        request, body.model_dump(mode="json"), {"sprites": sha}, lambda: state.workers.run(work)
    )


@router.post(
    "/style-transfer",
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "not modified"}},
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"the style exemplar: a PNG or JPEG of at most {MAX_STYLE_BYTES:,} bytes and "
            f"{MAX_STYLE_PIXELS:,} pixels",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def style_transfer(
    request: Request,
    theme: Annotated[Theme, Query(description="the texture whose structure is kept")] = "stone_floor",
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    size: Annotated[int, Query(ge=16, le=256, description="side of the texture in pixels")] = 128,
    steps: Annotated[int, Query(ge=1, le=100, description="optimisation steps (a job allows more)")] = 60,
) -> Response:
    """A theme's texture restyled toward the uploaded exemplar (Gram statistics over a fixed random CNN, with
    wrap-round convolutions, so the result still tiles)."""
    from engine.outside import decode_image

    state: ServerState = request.app.state.ludoforge
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_STYLE_BYTES:
        raise InputError("body", f"the exemplar may be at most {MAX_STYLE_BYTES:,} bytes")
    data = await request.body()
    if len(data) > MAX_STYLE_BYTES:
        raise InputError("body", f"the exemplar may be at most {MAX_STYLE_BYTES:,} bytes")
    try:
        style = decode_image(data, "body", max_pixels=MAX_STYLE_PIXELS)
    except FileFormatError as exc:
        raise InputError("body", str(exc).split(": ", 2)[-1]) from None
    if min(style.shape[:2]) < 8:
        raise InputError(
            "body", f"the exemplar must be at least 8x8 pixels, got {style.shape[1]}x{style.shape[0]}"
        )
    sha = state.weights[f"textures_{theme}"]
    canonical = {
        "theme": theme,
        "seed": seed,
        "size": size,
        "steps": steps,
        "style": hashlib.sha256(data).hexdigest(),
    }

    def work() -> Answer:
        from procgen.textures.style import transfer

        content = state.textures[theme].sample(size, seed)
        styled = transfer(content, style, steps=steps, periodic=True)
        return Answer(_png(styled), "image/png")

    return await serve_answer(request, canonical, {theme: sha}, lambda: state.workers.run(work))


blobs_router = APIRouter(tags=["blobs"])


@blobs_router.get(
    "/blobs/{sha256}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        304: {"description": "not modified"},
        404: {},
    },
)
async def blob(request: Request, sha256: Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$")]) -> Response:
    """A file an answer listed by URL: its bytes, named by their sha256 (kept while the blob store has room;
    asking for the answer again brings it back)."""
    from fastapi import HTTPException

    from backend.content import MAX_AGE_BLOB

    state: ServerState = request.app.state.ludoforge
    data = state.blobs.get(sha256)
    if data is None:
        raise HTTPException(404, f"no blob {sha256} here (yet, or any longer): request its answer again")
    answer = Answer(data, _sniffed(data), MAX_AGE_BLOB, etag=f'"{sha256}"')
    return answer.response(request.headers.get("if-none-match"), "hit")


def _sniffed(data: bytes) -> str:
    """A blob's media type from its first bytes: the store keeps bytes only, and every blob is a PNG or JSON."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:1] in (b"{", b"["):
        return "application/json"
    if data.startswith(b"<?xml"):
        return "application/xml"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"
