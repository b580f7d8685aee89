"""Level file formats, chosen by file extension: .json (ours), .tmj/.tmx (Tiled), .txt (VGLC), .png (preview)."""

from __future__ import annotations

from pathlib import Path

from engine.errors import LevelFormatError
from engine.formats.json_level import read_json, write_json
from engine.formats.png_preview import write_png
from engine.formats.tiled import read_tiled, write_tiled
from engine.formats.vglc import read_vglc, write_vglc
from engine.level import Level

__all__ = ["READ_SUFFIXES", "WRITE_SUFFIXES", "read_level", "write_level"]

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


def write_level(level: Level, path: str | Path) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        write_json(level, path)
    elif suffix in (".tmj", ".tmx"):
        write_tiled(level, path)
    elif suffix == ".txt":
        write_vglc(level, path)
    elif suffix == ".png":
        write_png(level, path)
    else:
        raise LevelFormatError(
            path, "suffix", f"{suffix or '(none)'} is not a level format (expected one of {WRITE_SUFFIXES})"
        )
