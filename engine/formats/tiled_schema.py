"""The shape of a Tiled map as ludoforge reads it, as pydantic models: every field's type and bounds in one place.

A `.tmj` map is validated as parsed, strictly (a JSON 2.9 is not a gid, `"48"` is not a coordinate); a `.tmx`
map is first turned into the same shape. A failure becomes a LevelFormatError naming the file and the field,
for example `layers[0].data[17]`. What the models do not say (a gid's tileset, an object's cell on the map)
the reader checks against them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import LevelFormatError
from engine.level import MAX_LEVEL_SIDE

GID_FLAGS = 0xF0000000
"""the top four bits of a gid are Tiled's flip and rotation flags, not part of the tile's number"""
MAX_TILE_PX = 4096
MAX_TILE_ID = 255
"""a level's tile ids are bytes"""
MAX_NAME = 1024
MAX_TILESETS = 64
MAX_LAYERS = 256
MAX_OBJECTS = 65_536
MAX_PROPERTIES = 256

Side = Annotated[int, Field(ge=1, le=MAX_LEVEL_SIDE)]
Pixels = Annotated[int, Field(ge=1, le=MAX_TILE_PX)]
Gid = Annotated[int, Field(ge=0, le=0xFFFFFFFF)]
Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]
Name = Annotated[str, Field(max_length=MAX_NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)


class Property(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    type: Literal["string", "int", "float", "bool", "color", "file", "object", "class"] = "string"
    value: Annotated[str, Field(max_length=65_536)] | int | float | bool | None = None


Properties = Annotated[list[Property], Field(max_length=MAX_PROPERTIES)]


class TilesetTile(_Strict):
    id: Annotated[int, Field(ge=0, le=MAX_TILE_ID)]
    properties: Properties = []


class TilesetTiles(_Strict):
    """A tileset's own content: what an external `.tsj`/`.tsx` file holds."""

    tilewidth: Pixels | None = None
    tileheight: Pixels | None = None
    tiles: Annotated[list[TilesetTile], Field(max_length=MAX_TILE_ID + 1)] = []


class Tileset(TilesetTiles):
    """A map's tileset entry: embedded, or a `source` naming an external file beside the map."""

    firstgid: Annotated[int, Field(ge=1, le=~GID_FLAGS & 0xFFFFFFFF)]
    source: Annotated[str, Field(min_length=1, max_length=4096)] | None = None


class TileLayer(_Strict):
    type: Literal["tilelayer"]
    name: Name = ""
    data: list[Gid] | Annotated[str, Field(max_length=64 * 1024 * 1024)]
    encoding: Literal["csv", "base64"] | None = None
    compression: Literal["", "zlib", "gzip", "zstd"] | None = None


class MapObject(_Strict):
    type: Name = ""
    class_: Name = Field("", alias="class")
    x: Coordinate = 0.0
    y: Coordinate = 0.0
    properties: Properties = []


class ObjectGroup(_Strict):
    type: Literal["objectgroup"]
    name: Name = ""
    objects: Annotated[list[MapObject], Field(max_length=MAX_OBJECTS)] = []


class OtherLayer(_Strict):
    """Layers a ludoforge level does not use, accepted and ignored."""

    type: Literal["imagelayer", "group"]


Layer = Annotated[TileLayer | ObjectGroup | OtherLayer, Field(discriminator="type")]


class TiledMap(_Strict):
    width: Side
    height: Side
    tilewidth: Pixels
    tileheight: Pixels
    infinite: bool = False
    tilesets: Annotated[list[Tileset], Field(min_length=1, max_length=MAX_TILESETS)]
    layers: Annotated[list[Layer], Field(max_length=MAX_LAYERS)]
    properties: Properties = []

    @model_validator(mode="after")
    def _finite_and_ordered(self) -> TiledMap:
        if self.infinite:
            raise ValueError("infinite maps (stored in chunks) are not supported; save the map as fixed-size")
        firstgids = [ts.firstgid for ts in self.tilesets]
        if firstgids != sorted(set(firstgids)):
            raise ValueError(f"tilesets' firstgid values must increase, got {firstgids}")
        return self


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Any, path: Path) -> M:
    """`data` as `model`, or a LevelFormatError naming `path` and the first field that does not fit."""
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        raise LevelFormatError(path, _field(first["loc"]), _message(first)) from None


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("tilelayer", "objectgroup", "imagelayer", "group"):
            continue  # the discriminator's tag, not a field
        elif part.startswith(("list[", "str", "int", "float", "bool", "function-")):
            continue  # which member of a union failed
        else:
            out += f".{part}" if out else part
    return out or "map"


def _message(error: dict[str, Any]) -> str:
    given = error.get("input")
    shown = "" if isinstance(given, dict | list) else f", got {given!r:.60}"
    return f"{error['msg'].removeprefix('Value error, ')}{shown}"
