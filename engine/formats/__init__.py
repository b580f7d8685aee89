"""Level file formats, chosen by file extension: .json (ours), .tmj/.tmx (Tiled), .txt (VGLC), .png (preview).

`encode_level` gives the files a format is made of as bytes (a Tiled map and its tileset image, a VGLC text and its
legend); `write_level` writes those files, so a file on disk and an answer from the backend are the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from engine.atomic import atomic_write_bytes
from engine.errors import LevelFormatError
from engine.formats.fields import MAX_LEVEL_FILE_BYTES, load_json
from engine.formats.json_level import json_bytes, level_from_dict, read_json
from engine.formats.png_preview import png_bytes
from engine.formats.tiled import read_tiled, tiled_files, tiled_from_text
from engine.formats.vglc import legend_from_text, read_vglc, vglc_files, vglc_from_text
from engine.level import Level

__all__ = [
    "FORMATS",
    "READ_SUFFIXES",
    "WRITE_SUFFIXES",
    "decode_level",
    "encode_level",
    "read_level",
    "write_level",
]

FORMATS = ("json", "tmj", "tmx", "txt", "png")
"""the level formats by name, as the CLI and the backend take them"""

READ_SUFFIXES = (".json", ".tmj", ".tmx", ".txt")
WRITE_SUFFIXES = (*READ_SUFFIXES, ".png")


def read_level(path: str | Path) -> Level:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_json(path)
    if suffix in (".tmj", ".tmx"):
        return read_tiled(path)
    if suffix == ".txt":
        return read_vglc(path)
    raise LevelFormatError(
        path, "suffix", f"{suffix or '(none)'} is not a level format (expected one of {READ_SUFFIXES})"
    )


def decode_level(text: str, fmt: str, name: str = "level", legend: str | None = None) -> Level:
    """A level from a file's text already in memory (one a client sent, say), with no file access: a Tiled map's
    tileset must be embedded, and a VGLC level's legend comes as `legend`. Errors are LevelFormatError naming
    `name` (or `<name>.legend.json`) and the field."""
    path = Path(f"{name}.{fmt}")
    if len(text) > MAX_LEVEL_FILE_BYTES:
        raise LevelFormatError(path, "size", f"expected at most {MAX_LEVEL_FILE_BYTES:,} characters")
    if fmt == "json":
        return level_from_dict(load_json(text, path), path)
    if fmt in ("tmj", "tmx"):
        return tiled_from_text(text, path.name, xml=fmt == "tmx")
    if fmt == "txt":
        legend_path = Path(f"{name}.legend.json")
        if legend is None:
            raise LevelFormatError(legend_path, "legend", "a VGLC level needs its legend")
        tiles_legend, ext = legend_from_text(legend, legend_path)
        return vglc_from_text(text, path, tiles_legend, ext, legend_path)
    raise LevelFormatError(path, "format", f"expected one of {FORMATS[:-1]}, got {fmt!r}")


def encode_level(level: Level, fmt: str, stem: str = "level") -> dict[str, bytes]:
    """The files `fmt` makes of `level`, by file name, the main file first: `<stem>.<fmt>`, then any it refers to
    (a Tiled map's tileset image `<stem>.tiles.png`, a VGLC level's legend `<stem>.legend.json`)."""
    if fmt == "json":
        return {f"{stem}.json": json_bytes(level)}
    if fmt in ("tmj", "tmx"):
        return tiled_files(level, stem, xml=fmt == "tmx")
    if fmt == "txt":
        return vglc_files(level, stem)
    if fmt == "png":
        return {f"{stem}.png": png_bytes(level)}
    raise ValueError(f"format: expected one of {FORMATS}, got {fmt!r}")


def write_level(level: Level, path: str | Path) -> None:
    """Write `level` to `path` in the format its suffix names, with the files that format refers to beside it."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise LevelFormatError(
            path,
            "suffix",
            f"{path.suffix or '(none)'} is not a level format (expected one of {WRITE_SUFFIXES})",
        )
    files = encode_level(level, fmt, path.stem)
    main = f"{path.stem}.{fmt}"
    for name, data in files.items():  # the referred-to files first, so the main file never points at nothing
        if name != main:
            atomic_write_bytes(path.parent / name, data)
    atomic_write_bytes(path, files[main])
