"""VGLC-style ASCII levels (`.txt`, one character a tile) with a JSON legend beside them.

The legend follows the VGLC convention, `{"tiles": {"W": ["wall", ...]}}`; our writer adds a `ludoforge` block
(tile ids, names, spawns, meta) so that a write -> read round trip is exact. A plain VGLC legend still reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.atomic import atomic_write_bytes
from engine.formats.fields import FieldReader, load_json, read_bounded
from engine.formats.json_level import level_from_dict, level_to_dict
from engine.level import MAX_LEVEL_SIDE, SEMANTICS, Legend, Level, Semantic, TileDef

SHARED_LEGEND_NAME = "legend.json"


def legend_path_for(level_path: str | Path) -> Path:
    """The legend beside a level: `<stem>.legend.json` if present, else the folder's shared `legend.json`."""
    level_path = Path(level_path)
    own = level_path.with_suffix(".legend.json")
    return own if own.exists() else level_path.parent / SHARED_LEGEND_NAME


def read_legend(path: str | Path) -> tuple[Legend, dict[str, Any]]:
    """Parse a VGLC legend; returns the Legend and the `ludoforge` extension block (empty for plain VGLC)."""
    return legend_from_text(read_bounded(path), path)


def legend_from_text(text: str, path: str | Path) -> tuple[Legend, dict[str, Any]]:
    """`read_legend` on text already read; errors name `path`."""
    r = FieldReader(path)
    data = load_json(text, path)
    tiles = r.get(data, "tiles", dict, "tiles")
    ext = r.get(data, "ludoforge", dict, "ludoforge", default={})
    ids = r.get(ext, "ids", dict, "ludoforge.ids", default={})
    names = r.get(ext, "names", dict, "ludoforge.names", default={})
    known = {s.value for s in SEMANTICS}
    defs = []
    for order, (char, tags) in enumerate(tiles.items()):
        field = f"tiles[{char!r}]"
        tags = [tags] if isinstance(tags, str) else tags
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise r.error(field, f"expected a list of tag strings, got {tags!r}")
        semantic = next((t for t in tags if t in known), None)
        if semantic is None:
            raise r.error(field, f"no tag among {tags} is a known semantic (expected one of {sorted(known)})")
        if len(char) != 1:
            raise r.error(field, f"legend keys must be single characters, got {char!r}")
        tile_id = ids.get(char, order)
        if not isinstance(tile_id, int) or isinstance(tile_id, bool):
            raise r.error(f"ludoforge.ids[{char!r}]", f"expected an integer, got {tile_id!r}")
        defs.append(TileDef(tile_id, Semantic(semantic), char, names.get(char, semantic)))
    legend = Legend(tuple(defs))
    try:
        legend.validate()
    except ValueError as e:
        raise r.error("tiles", str(e)) from None
    return legend, ext


def parse_ascii(text: str, legend: Legend, path: str | Path | None = None) -> np.ndarray:
    """ASCII rows -> uint8 tile grid, with errors naming the row and column of a bad character."""
    r = FieldReader(path)
    rows = text.splitlines()
    while rows and rows[-1] == "":
        rows.pop()
    if not rows:
        raise r.error("rows", "the file has no rows; expected a rectangular grid of legend characters")
    width = len(rows[0])
    if not (1 <= len(rows) <= MAX_LEVEL_SIDE and 1 <= width <= MAX_LEVEL_SIDE):
        raise r.error("rows", f"a {width}x{len(rows)} grid is outside 1..{MAX_LEVEL_SIDE} on each side")
    lookup = {t.char: t.id for t in legend.tiles}
    tiles = np.empty((len(rows), width), dtype=np.uint8)
    for y, row in enumerate(rows):
        if len(row) != width:
            raise r.error(f"row {y}", f"has {len(row)} characters; expected {width} like row 0 (ragged grid)")
        for x, char in enumerate(row):
            tile_id = lookup.get(char)
            if tile_id is None:
                chars = "".join(lookup)
                raise r.error(
                    f"row {y}, column {x}", f"character {char!r} is not in the legend (defined: {chars!r})"
                )
            tiles[y, x] = tile_id
    return tiles


def to_ascii(level: Level) -> str:
    chars = np.array([" "] * 256)
    for t in level.legend.tiles:
        chars[t.id] = t.char
    return "\n".join("".join(row) for row in chars[level.tiles]) + "\n"


def read_vglc(path: str | Path, legend_path: str | Path | None = None) -> Level:
    path = Path(path)
    legend_path = Path(legend_path) if legend_path else legend_path_for(path)
    if not legend_path.exists():
        raise FieldReader(path).error(
            "legend", f"no legend found (looked for {legend_path}); pass one explicitly"
        )
    legend, ext = read_legend(legend_path)
    return vglc_from_text(read_bounded(path), path, legend, ext, legend_path)


def vglc_from_text(
    text: str, path: str | Path, legend: Legend, ext: dict[str, Any], legend_path: str | Path
) -> Level:
    """A VGLC level from its text and its parsed legend; errors name `path` or `legend_path`."""
    path = Path(path)
    tiles = parse_ascii(text, legend, path)
    # Spawns and meta live in the legend's extension block; the JSON reader checks them, naming the legend file.
    data = level_to_dict(FieldReader(path).validated(Level(tiles=tiles, legend=legend)))
    data["spawns"] = ext.get("spawns", [])
    data["meta"] = ext.get("meta", {"generator": "vglc", "name": path.stem})
    return level_from_dict(data, legend_path)


def vglc_files(level: Level, stem: str) -> dict[str, bytes]:
    """`<stem>.txt` (ASCII) first, then its legend `<stem>.legend.json` carrying ids, spawns and meta."""
    return {f"{stem}.txt": to_ascii(level).encode("utf-8"), f"{stem}.legend.json": _legend_bytes(level)}


def _legend_bytes(level: Level) -> bytes:
    d = level_to_dict(level)
    legend = {
        "tiles": {t.char: [t.semantic.value] for t in level.legend.tiles},
        "ludoforge": {
            "ids": {t.char: t.id for t in level.legend.tiles},
            "names": {t.char: t.name for t in level.legend.tiles},
            "spawns": d["spawns"],
            "meta": d["meta"],
        },
    }
    return (json.dumps(legend, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def write_vglc(level: Level, path: str | Path, legend_path: str | Path | None = None) -> None:
    """Write `<path>` (ASCII) and its legend (default `<stem>.legend.json`) carrying ids, spawns and meta."""
    path = Path(path)
    legend_path = Path(legend_path) if legend_path else path.with_suffix(".legend.json")
    atomic_write_bytes(legend_path, _legend_bytes(level))
    atomic_write_bytes(path, to_ascii(level).encode("utf-8"))
