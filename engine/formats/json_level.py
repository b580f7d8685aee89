"""ludoforge's own versioned JSON level format (`.json`): the reference format, lossless and readable."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.atomic import atomic_write_bytes
from engine.formats.fields import FieldReader, load_json, read_bounded
from engine.level import MAX_LEVEL_SIDE, Legend, Level, LevelMeta, Spawn, TileDef, parse_semantic

FORMAT_NAME = "ludoforge.level"
FORMAT_VERSION = 1


def level_to_dict(level: Level) -> dict[str, Any]:
    level.validate()
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "width": level.width,
        "height": level.height,
        "legend": [
            {"id": t.id, "semantic": t.semantic.value, "char": t.char, "name": t.name}
            for t in level.legend.tiles
        ],
        "tiles": level.tiles.tolist(),
        "spawns": [
            {"kind": s.kind.value, "x": s.x, "y": s.y, "properties": dict(s.properties)} for s in level.spawns
        ],
        "meta": {
            "seed": level.meta.seed,
            "generator": level.meta.generator,
            "version": level.meta.version,
            "name": level.meta.name,
        },
    }


def level_from_dict(data: Any, path: str | Path | None = None) -> Level:
    """Parse our JSON structure; LevelFormatError names the field that is wrong."""
    r = FieldReader(path)
    fmt = r.get(data, "format", str, "format")
    if fmt != FORMAT_NAME:
        raise r.error("format", f"expected {FORMAT_NAME!r}, got {fmt!r}")
    version = r.get(data, "version", int, "version")
    if version != FORMAT_VERSION:
        raise r.error(
            "version", f"format version {version} is not supported (this build reads {FORMAT_VERSION})"
        )
    width = r.get(data, "width", int, "width")
    height = r.get(data, "height", int, "height")
    if not (1 <= width <= MAX_LEVEL_SIDE and 1 <= height <= MAX_LEVEL_SIDE):
        raise r.error("width", f"size {width}x{height} is outside 1..{MAX_LEVEL_SIDE}")

    legend_entries = []
    for i, entry in enumerate(r.get(data, "legend", list, "legend")):
        f = f"legend[{i}]"
        legend_entries.append(
            TileDef(
                id=r.get(entry, "id", int, f"{f}.id"),
                semantic=_semantic(r, r.get(entry, "semantic", str, f"{f}.semantic"), f"{f}.semantic"),
                char=r.get(entry, "char", str, f"{f}.char"),
                name=r.get(entry, "name", str, f"{f}.name", default=""),
            )
        )

    rows = r.get(data, "tiles", list, "tiles")
    if len(rows) != height:
        raise r.error("tiles", f"has {len(rows)} rows; expected height {height}")
    for y, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise r.error(f"tiles[{y}]", f"expected a list of {width} tile ids, got {got}")
        for x, v in enumerate(row):
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 255:
                raise r.error(f"tiles[{y}][{x}]", f"expected a tile id in 0..255, got {v!r}")
    tiles = np.array(rows, dtype=np.uint8).reshape(height, width)

    spawns = []
    for i, s in enumerate(r.get(data, "spawns", list, "spawns", default=[])):
        f = f"spawns[{i}]"
        props = r.get(s, "properties", dict, f"{f}.properties", default={})
        for k, v in props.items():
            if not isinstance(v, str | int | float | bool) or (isinstance(v, float) and not math.isfinite(v)):
                raise r.error(f"{f}.properties.{k}", f"expected a string, finite number or bool, got {v!r}")
        spawns.append(
            Spawn(
                kind=_semantic(r, r.get(s, "kind", str, f"{f}.kind"), f"{f}.kind"),
                x=r.get(s, "x", int, f"{f}.x"),
                y=r.get(s, "y", int, f"{f}.y"),
                properties=dict(props),
            )
        )

    m = r.get(data, "meta", dict, "meta", default={})
    seed = m.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise r.error("meta.seed", f"expected an integer or null, got {seed!r}")
    meta = LevelMeta(
        seed=seed,
        generator=r.get(m, "generator", str, "meta.generator", default="authored"),
        version=r.get(m, "version", int, "meta.version", default=LevelMeta().version),
        name=r.get(m, "name", str, "meta.name", default=""),
    )
    return r.validated(
        Level(tiles=tiles, legend=Legend(tuple(legend_entries)), spawns=tuple(spawns), meta=meta)
    )


def _semantic(r: FieldReader, value: str, field: str):
    try:
        return parse_semantic(value, field)
    except ValueError as e:
        raise r.error(field, str(e).split(": ", 1)[1]) from None


def json_bytes(level: Level) -> bytes:
    """The level as our JSON file's bytes."""
    return (json.dumps(level_to_dict(level), indent=1) + "\n").encode("utf-8")


def write_json(level: Level, path: str | Path) -> None:
    atomic_write_bytes(path, json_bytes(level))


def read_json(path: str | Path) -> Level:
    return level_from_dict(load_json(read_bounded(path), path), path)
