"""Tiled maps, JSON (`.tmj`) and XML (`.tmx`), readable and writable, that open in the Tiled editor.

A map has a tile layer "tiles", an object layer "spawns", and one tileset whose tiles carry their meaning as
the properties `semantic`, `char` and `name`. The tileset is embedded or external (`.tsj`/`.tsx`), with an
image of flat semantic colours. TMX is parsed into the TMJ shape, so one function reads both.
"""

from __future__ import annotations

import base64
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from engine.atomic import atomic_write_bytes
from engine.errors import LevelFormatError
from engine.formats.fields import FieldReader, load_json, read_bounded
from engine.formats.png_preview import SEMANTIC_COLOURS
from engine.formats.tiled_schema import (
    GID_FLAGS,
    MAX_TILE_ID,
    ObjectGroup,
    Property,
    TiledMap,
    TileLayer,
    TilesetTiles,
    validated,
)
from engine.level import (
    DEFAULT_CHARS,
    MAX_LEVEL_SIDE,
    Legend,
    Level,
    LevelMeta,
    Spawn,
    TileDef,
    parse_semantic,
)
from engine.outside import decompress

TILE_PX = 16
TILED_VERSION = "1.8.2"
MAP_FORMAT_VERSION = "1.8"
TILE_LAYER = "tiles"
SPAWN_LAYER = "spawns"
META_PREFIX = "ludoforge."

TilesetMode = Literal["embedded", "external"]


# --------------------------------------------------------------------------------------------------- writing


def _typed_property(name: str, value: str | int | float | bool) -> dict[str, Any]:
    kind = (
        "bool"
        if isinstance(value, bool)
        else "int"
        if isinstance(value, int)
        else "float"
        if isinstance(value, float)
        else "string"
    )
    return {"name": name, "type": kind, "value": value}


def _tileset_dict(level: Level, image_name: str) -> dict[str, Any]:
    count = max(level.legend.ids) + 1
    columns = min(count, 16)
    rows = -(-count // columns)
    return {
        "name": "ludoforge",
        "type": "tileset",
        "version": MAP_FORMAT_VERSION,
        "tiledversion": TILED_VERSION,
        "tilewidth": TILE_PX,
        "tileheight": TILE_PX,
        "tilecount": columns * rows,
        "columns": columns,
        "margin": 0,
        "spacing": 0,
        "image": image_name,
        "imagewidth": columns * TILE_PX,
        "imageheight": rows * TILE_PX,
        "tiles": [
            {
                "id": t.id,
                "properties": [
                    _typed_property("char", t.char),
                    _typed_property("name", t.name),
                    _typed_property("semantic", t.semantic.value),
                ],
            }
            for t in level.legend.tiles
        ],
    }


def _tileset_image(level: Level, tileset: dict[str, Any]) -> bytes:
    """Flat semantic colours with a darker rim, so the map is readable in the editor."""
    img = np.zeros((tileset["imageheight"], tileset["imagewidth"], 4), np.uint8)
    cols = tileset["columns"]
    for t in level.legend.tiles:
        y0, x0 = (t.id // cols) * TILE_PX, (t.id % cols) * TILE_PX
        colour = np.array((*SEMANTIC_COLOURS[t.semantic], 255), np.uint8)
        img[y0 : y0 + TILE_PX, x0 : x0 + TILE_PX] = colour // 2 + np.array((0, 0, 0, 128), np.uint8)
        img[y0 + 1 : y0 + TILE_PX - 1, x0 + 1 : x0 + TILE_PX - 1] = colour
    buf = io.BytesIO()
    Image.fromarray(img, "RGBA").save(buf, format="PNG")
    return buf.getvalue()


def _map_dict(level: Level, tileset_entry: dict[str, Any]) -> dict[str, Any]:
    m = level.meta
    props = [
        _typed_property(META_PREFIX + "generator", m.generator),
        _typed_property(META_PREFIX + "name", m.name),
    ]
    if m.seed is not None:
        props.append(_typed_property(META_PREFIX + "seed", m.seed))
    props.append(_typed_property(META_PREFIX + "version", m.version))
    objects = [
        {
            "id": i + 1,
            "name": "",
            "type": s.kind.value,
            "x": s.x * TILE_PX,
            "y": s.y * TILE_PX,
            "width": TILE_PX,
            "height": TILE_PX,
            "rotation": 0,
            "visible": True,
            **(
                {"properties": [_typed_property(k, v) for k, v in sorted(s.properties.items())]}
                if s.properties
                else {}
            ),
        }
        for i, s in enumerate(level.spawns)
    ]
    return {
        "type": "map",
        "version": MAP_FORMAT_VERSION,
        "tiledversion": TILED_VERSION,
        "orientation": "orthogonal",
        "renderorder": "right-down",
        "width": level.width,
        "height": level.height,
        "tilewidth": TILE_PX,
        "tileheight": TILE_PX,
        "infinite": False,
        "nextlayerid": 3,
        "nextobjectid": len(objects) + 1,
        "properties": props,
        "tilesets": [tileset_entry],
        "layers": [
            {
                "type": "tilelayer",
                "id": 1,
                "name": TILE_LAYER,
                "width": level.width,
                "height": level.height,
                "x": 0,
                "y": 0,
                "opacity": 1,
                "visible": True,
                "data": (level.tiles.astype(np.int64) + 1).ravel().tolist(),
            },
            {
                "type": "objectgroup",
                "id": 2,
                "name": SPAWN_LAYER,
                "draworder": "topdown",
                "x": 0,
                "y": 0,
                "opacity": 1,
                "visible": True,
                "objects": objects,
            },
        ],
    }


def tiled_files(
    level: Level, stem: str, xml: bool = False, tileset: TilesetMode = "embedded"
) -> dict[str, bytes]:
    """A `.tmj` (or `.tmx`) map named `<stem>`, first, then its tileset image and, if asked, its external
    tileset, by file name."""
    level.validate()
    image_name = f"{stem}.tiles.png"
    ts = _tileset_dict(level, image_name)
    files = {f"{stem}.{'tmx' if xml else 'tmj'}": b"", image_name: _tileset_image(level, ts)}
    if tileset == "external":
        ts_name = f"{stem}{'.tsx' if xml else '.tsj'}"
        ts_text = _tileset_to_xml(ts) if xml else json.dumps(ts, indent=1)
        files[ts_name] = (ts_text + "\n").encode("utf-8")
        entry = {"firstgid": 1, "source": ts_name}
    elif tileset == "embedded":
        entry = {"firstgid": 1, **ts}
        entry.pop("type"), entry.pop("version"), entry.pop("tiledversion")
    else:
        raise ValueError(f"tileset: expected 'embedded' or 'external', got {tileset!r}")
    m = _map_dict(level, entry)
    files[next(iter(files))] = ((_map_to_xml(m) if xml else json.dumps(m, indent=1)) + "\n").encode("utf-8")
    return files


def write_tiled(level: Level, path: str | Path, tileset: TilesetMode = "embedded") -> None:
    """Write `.tmj` or `.tmx` (by suffix), its tileset image `<stem>.tiles.png`, and an external tileset if asked."""
    path = Path(path)
    files = tiled_files(level, path.stem, xml=path.suffix.lower() == ".tmx", tileset=tileset)
    main, *others = files
    for name in others:
        atomic_write_bytes(path.parent / name, files[name])
    atomic_write_bytes(path, files[main])


def _props_xml(parent: ET.Element, props: list[dict[str, Any]]) -> None:
    if not props:
        return
    el = ET.SubElement(parent, "properties")
    for p in props:
        v = p["value"]
        text = (
            ("true" if v else "false") if isinstance(v, bool) else repr(v) if isinstance(v, float) else str(v)
        )
        attrs = {"name": p["name"], "value": text}
        if p["type"] != "string":
            attrs["type"] = p["type"]
        ET.SubElement(el, "property", attrs)


def _tileset_element(ts: dict[str, Any], tag_attrs: dict[str, str]) -> ET.Element:
    el = ET.Element("tileset", tag_attrs)
    for k in ("name", "tilewidth", "tileheight", "tilecount", "columns"):
        el.set(k, str(ts[k]))
    ET.SubElement(
        el, "image", {"source": ts["image"], "width": str(ts["imagewidth"]), "height": str(ts["imageheight"])}
    )
    for tile in ts["tiles"]:
        t = ET.SubElement(el, "tile", {"id": str(tile["id"])})
        _props_xml(t, tile["properties"])
    return el


def _tileset_to_xml(ts: dict[str, Any]) -> str:
    el = _tileset_element(ts, {"version": MAP_FORMAT_VERSION, "tiledversion": TILED_VERSION})
    ET.indent(el)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="unicode")


def _map_to_xml(m: dict[str, Any]) -> str:
    attrs = {
        k: str(m[k]) for k in ("version", "tiledversion", "orientation", "renderorder", "width", "height")
    }
    attrs.update({k: str(m[k]) for k in ("tilewidth", "tileheight", "nextlayerid", "nextobjectid")})
    attrs["infinite"] = "0"
    root = ET.Element("map", attrs)
    _props_xml(root, m["properties"])
    ts = m["tilesets"][0]
    if "source" in ts:
        ET.SubElement(root, "tileset", {"firstgid": str(ts["firstgid"]), "source": ts["source"]})
    else:
        root.append(_tileset_element(ts, {"firstgid": str(ts["firstgid"])}))
    tiles, spawns = m["layers"]
    layer = ET.SubElement(root, "layer", {k: str(tiles[k]) for k in ("id", "name", "width", "height")})
    w = tiles["width"]
    rows = [",".join(map(str, tiles["data"][i : i + w])) for i in range(0, len(tiles["data"]), w)]
    ET.SubElement(layer, "data", {"encoding": "csv"}).text = "\n" + ",\n".join(rows) + "\n"
    group = ET.SubElement(root, "objectgroup", {"id": str(spawns["id"]), "name": spawns["name"]})
    for o in spawns["objects"]:
        keys = ("id", "type", "x", "y", "width", "height")
        obj = ET.SubElement(group, "object", {k: str(o[k]) for k in keys})
        _props_xml(obj, o.get("properties", []))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# --------------------------------------------------------------------------------------------------- reading


def _xml_root(text: str, r: FieldReader) -> ET.Element:
    try:
        return ET.fromstring(text)
    except ET.ParseError as e:
        raise r.error("file", f"is not well-formed XML: {e}") from None


def _props_from_xml(el: ET.Element) -> list[dict[str, Any]]:
    props = el.find("properties")
    if props is None:
        return []
    return [
        {"name": p.get("name", ""), "type": p.get("type", "string"), "value": p.get("value", p.text or "")}
        for p in props.findall("property")
    ]


def _number_attrs(
    el: ET.Element, keys: tuple[str, ...], r: FieldReader, where: str, floats: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The attributes `keys` of `el` as numbers (integers, or floats for `floats`): the schema bounds them."""
    out: dict[str, Any] = {}
    for k in keys:
        v = el.get(k)
        if v is None:
            continue
        # Object geometry may be fractional in Tiled; map sizes and ids are integers. Python's int() and
        # float() also take " 5 ", "0_5" and other scripts' digits, which no Tiled file holds.
        pattern = _DECIMAL if k in floats else _INTEGER
        if not pattern.fullmatch(v) or len(v) > 40:
            expected = "a number" if k in floats else "an integer"
            raise r.error(f"{where}.{k}", f"expected {expected}, got {v[:40]!r}")
        out[k] = float(v) if k in floats else int(v)
    return out


_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|-?\.[0-9]+([eE][-+]?[0-9]+)?")


def _tileset_from_xml(el: ET.Element, r: FieldReader, where: str) -> dict[str, Any]:
    ts: dict[str, Any] = _number_attrs(el, ("firstgid", "tilewidth", "tileheight"), r, where)
    if el.get("source"):
        ts["source"] = el.get("source")
        return ts
    ts["tiles"] = [
        {**_number_attrs(t, ("id",), r, f"{where}.tiles[{i}]"), "properties": _props_from_xml(t)}
        for i, t in enumerate(el.findall("tile"))
    ]
    return ts


def _tmx_to_dict(root: ET.Element, r: FieldReader) -> dict[str, Any]:
    """A TMX document in the TMJ shape, for the one schema (engine.formats.tiled_schema)."""
    if root.tag != "map":
        raise r.error("map", f"expected a <map> root element, got <{root.tag}>")
    m: dict[str, Any] = _number_attrs(root, ("width", "height", "tilewidth", "tileheight"), r, "map")
    m["infinite"] = root.get("infinite", "0") == "1"
    m["properties"] = _props_from_xml(root)
    m["tilesets"] = [
        _tileset_from_xml(ts, r, f"tilesets[{i}]") for i, ts in enumerate(root.findall("tileset"))
    ]
    layers: list[dict[str, Any]] = []
    for el in root:
        where = f"layers[{len(layers)}]"
        if el.tag == "layer":
            data_el = el.find("data")
            layer: dict[str, Any] = {"type": "tilelayer", "name": el.get("name", "")}
            if data_el is None:
                raise r.error(f"{where}.data", "is missing")
            enc = data_el.get("encoding")
            text = (data_el.text or "").strip()
            if enc == "csv":
                tokens = [t.strip() for t in text.split(",")] if text.count(",") < MAX_LEVEL_SIDE**2 else None
                if tokens is None or not all(t.isascii() and t.isdigit() and len(t) <= 10 for t in tokens):
                    raise r.error(
                        f"{where}.data", f"expected at most {MAX_LEVEL_SIDE**2:,} comma-separated gids"
                    )
                layer["data"] = [int(t) for t in tokens]
            elif enc == "base64":
                layer.update(data=text, encoding="base64", compression=data_el.get("compression", ""))
            else:
                gids = [_number_attrs(t, ("gid",), r, f"{where}.data") for t in data_el.findall("tile")]
                layer["data"] = [g.get("gid", 0) for g in gids]
            layers.append(layer)
        elif el.tag == "objectgroup":
            objects = []
            for i, o in enumerate(el.findall("object")):
                obj = _number_attrs(o, ("x", "y"), r, f"{where}.objects[{i}]", floats=("x", "y"))
                obj["type"] = o.get("type") or o.get("class") or ""
                obj["properties"] = _props_from_xml(o)
                objects.append(obj)
            layers.append({"type": "objectgroup", "name": el.get("name", ""), "objects": objects})
    m["layers"] = layers
    return m


def _layer_gids(layer: TileLayer, cells: int, r: FieldReader, field: str) -> np.ndarray:
    """The layer's gids (int64), exactly `cells` of them; base64 data is decoded and decompressed only up to
    the bytes that many cells take."""
    if isinstance(layer.data, list):
        if len(layer.data) != cells:
            raise r.error(field, f"has {len(layer.data)} cells; expected width*height = {cells}")
        return np.array(layer.data, dtype=np.int64)
    if layer.encoding != "base64":
        raise r.error(field, "expected a list of gids, or base64 data with encoding 'base64'")
    if (
        len(layer.data) > 8 * cells + 1024
    ):  # base64 of 4 bytes a cell, with room for a compressor's worst case
        raise r.error(field, f"is {len(layer.data):,} characters, more than {cells:,} cells need")
    try:
        raw = base64.b64decode(layer.data.strip(), validate=True)
    except ValueError as e:
        raise r.error(field, f"could not decode base64 tile data: {e}") from None
    if layer.compression:
        raw = decompress(raw, layer.compression, 4 * cells, r.path, field, LevelFormatError)
    if len(raw) != 4 * cells:
        raise r.error(field, f"holds {len(raw) // 4} cells; expected width*height = {cells}")
    return np.frombuffer(raw, dtype="<u4").astype(np.int64)


def _typed_value(p: Property, r: FieldReader, field: str) -> str | int | float | bool:
    kind, value = p.type, p.value
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() not in ("true", "false"):
                raise ValueError(value)
            return str(value).lower() == "true"
        if kind == "int":
            if isinstance(value, float | bool) or (isinstance(value, str) and not _INTEGER.fullmatch(value)):
                raise ValueError(value)  # int() would take " 5 ", "0_5" and other scripts' digits
            number = int(value)  # type: ignore[arg-type]
            if abs(number) >= 2**63:
                raise ValueError(value)
            return number
        if kind == "float":
            number = float(value)  # type: ignore[arg-type]
            if not np.isfinite(number):
                raise ValueError(value)
            return number
    except (TypeError, ValueError, OverflowError):
        raise r.error(field, f"expected a {kind} (finite, 64-bit), got {str(value)[:40]!r}") from None
    return "" if value is None else str(value)


def _load_external_tileset(source: str, base_dir: Path, r: FieldReader, field: str) -> TilesetTiles:
    """A tileset file the map names, which must sit in or under the map's folder."""
    ts_path = base_dir / source
    tr = FieldReader(ts_path)
    try:
        text = read_bounded(ts_path, within=base_dir)
    except LevelFormatError as e:
        raise r.error(f"{field}.source", f"{source!r}: {str(e).split(': ', 2)[-1]}") from None
    if ts_path.suffix.lower() == ".tsx":
        root = _xml_root(text, tr)
        if root.tag != "tileset":
            raise tr.error("tileset", f"expected a <tileset> root element, got <{root.tag}>")
        return validated(TilesetTiles, _tileset_from_xml(root, tr, "tileset"), ts_path)
    return validated(TilesetTiles, load_json(text, ts_path), ts_path)


def _legend_from_tileset(ts: TilesetTiles, r: FieldReader) -> Legend:
    entries: list[tuple[int, Any, str | None, str]] = []
    for i, tile in enumerate(ts.tiles):
        props = {p.name: p.value for p in tile.properties}
        if "semantic" not in props:
            continue
        field = f"tilesets[0].tiles[{i}].properties.semantic"
        try:
            semantic = parse_semantic(props["semantic"], field)
        except ValueError as e:
            raise r.error(field, str(e).split(": ", 1)[1]) from None
        char = str(props["char"]) if "char" in props else None
        entries.append((tile.id, semantic, char, str(props.get("name", semantic.value))))
    if not entries:
        raise r.error(
            "tilesets", "no tileset tile has a 'semantic' property; give each used tile one in Tiled"
        )
    # Maps made by hand in Tiled may lack the `char` property: use the default character, or a free one.
    used = {c for _, _, c, _ in entries if c}
    spare = (c for c in "abcdfghijmpqrstuvwxyzABCEFGIJKMNOPQRTUVYZ0123456789" if c not in used)
    defs = []
    for tile_id, semantic, char, name in entries:
        if char is None:
            char = DEFAULT_CHARS[semantic] if DEFAULT_CHARS[semantic] not in used else next(spare)
            used.add(char)
        defs.append(TileDef(tile_id, semantic, char, name))
    try:
        return Legend(tuple(defs))
    except ValueError as e:
        raise r.error("tilesets[0].tiles", str(e)) from None


def _tile_ids(m: TiledMap, layer: TileLayer, r: FieldReader) -> np.ndarray:
    """The map's tiles as the first tileset's ids, (height, width) uint8: flip flags masked off, and every
    gid within the first tileset's range (the gids from its firstgid up to the next tileset's)."""
    field = f"layers[{TILE_LAYER!r}].data"
    gids = _layer_gids(layer, m.width * m.height, r, field) & ~GID_FLAGS
    first = m.tilesets[0].firstgid
    end = m.tilesets[1].firstgid if len(m.tilesets) > 1 else first + MAX_TILE_ID + 1
    outside = (gids < first) | (gids >= end)
    if outside.any():
        y, x = divmod(int(np.flatnonzero(outside)[0]), m.width)
        gid = int(gids[y * m.width + x])
        if gid == 0:
            raise r.error(field, f"cell (x={x}, y={y}) is empty; every cell needs a tile")
        raise r.error(
            field,
            f"cell (x={x}, y={y}) has gid {gid}, outside the first tileset's gids {first}..{end - 1}; a "
            "ludoforge level's tiles all come from its first tileset",
        )
    return (gids - first).astype(np.uint8).reshape(m.height, m.width)


def _spawns(m: TiledMap, r: FieldReader) -> list[Spawn]:
    groups = [layer for layer in m.layers if isinstance(layer, ObjectGroup)]
    group = next((g for g in groups if g.name == SPAWN_LAYER), None)
    spawns = []
    for i, o in enumerate(group.objects if group else []):
        f = f"layers[{SPAWN_LAYER!r}].objects[{i}]"
        try:
            semantic = parse_semantic(o.type or o.class_, f"{f}.type")
        except ValueError as e:
            raise r.error(f"{f}.type", str(e).split(": ", 1)[1]) from None
        x, y = round(o.x / m.tilewidth), round(o.y / m.tileheight)
        if not (0 <= x < m.width and 0 <= y < m.height):
            raise r.error(
                f"{f}.x", f"({o.x}, {o.y}) px is cell ({x}, {y}), outside the {m.width}x{m.height} map"
            )
        props = {p.name: _typed_value(p, r, f"{f}.properties.{p.name}") for p in o.properties}
        spawns.append(Spawn(semantic, x, y, props))
    return spawns


def _level_from_map(data: Any, path: Path, r: FieldReader, files: bool = True) -> Level:
    m = validated(TiledMap, data, path)
    entry = m.tilesets[0]
    if entry.source and not files:
        raise r.error("tilesets[0].source", "an external tileset cannot be read here: embed it in the map")
    ts = _load_external_tileset(entry.source, path.parent, r, "tilesets[0]") if entry.source else entry
    legend = _legend_from_tileset(ts, r)
    tile_layers = [layer for layer in m.layers if isinstance(layer, TileLayer)]
    named = [layer for layer in tile_layers if layer.name == TILE_LAYER]
    if not named and len(tile_layers) != 1:
        found = [layer.name for layer in tile_layers]
        raise r.error("layers", f"no tile layer named {TILE_LAYER!r} (tile layers found: {found})")
    tiles = _tile_ids(m, (named or tile_layers)[0], r)
    props = {p.name: p for p in m.properties}

    def meta_value(key: str, default: Any) -> Any:
        p = props.get(META_PREFIX + key)
        return default if p is None else _typed_value(p, r, f"properties.{META_PREFIX}{key}")

    meta = LevelMeta(
        seed=meta_value("seed", None),
        generator=meta_value("generator", "tiled"),
        version=meta_value("version", LevelMeta().version),
        name=meta_value("name", path.stem),
    )
    return r.validated(Level(tiles=tiles, legend=legend, spawns=tuple(_spawns(m, r)), meta=meta))


def tiled_from_text(text: str, name: str, xml: bool = False) -> Level:
    """A Tiled map from its text, with no file access: its tileset must be embedded. Errors name `name`."""
    path = Path(name)
    r = FieldReader(path)
    data = _tmx_to_dict(_xml_root(text, r), r) if xml else load_json(text, path)
    return _level_from_map(data, path, r, files=False)


def read_tiled(path: str | Path) -> Level:
    """Read a `.tmj` or `.tmx` map (tile data as CSV, plain arrays, or base64 with zlib/gzip)."""
    path = Path(path)
    r = FieldReader(path)
    text = read_bounded(path)
    data = _tmx_to_dict(_xml_root(text, r), r) if path.suffix.lower() == ".tmx" else load_json(text, path)
    return _level_from_map(data, path, r)
