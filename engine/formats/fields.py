"""Typed access to fields of parsed files: every miss becomes a LevelFormatError naming file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from engine.errors import LevelFormatError, LevelValidationError
from engine.level import Level
from engine.outside import parse_json, read_outside_text

T = TypeVar("T")

_TYPE_NAMES = {int: "an integer", str: "a string", list: "a list", dict: "an object", bool: "a boolean"}


class FieldReader:
    """Reads fields of one file, so that each error carries the file's path and the field's full name."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path

    def error(self, field: str, message: str) -> LevelFormatError:
        return LevelFormatError(self.path, field, message)

    def get(self, obj: Any, key: str, kind: type[T], field: str, default: Any = ...) -> T:
        if not isinstance(obj, dict):
            raise self.error(
                field.rsplit(".", 1)[0] or field, f"expected an object, got {type(obj).__name__}"
            )
        if key not in obj:
            if default is not ...:
                return default
            raise self.error(field, "is missing")
        value = obj[key]
        # bool is an int in Python; a JSON `true` is never a valid integer field.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            expected = _TYPE_NAMES.get(kind, kind.__name__)
            raise self.error(field, f"expected {expected}, got {type(value).__name__} {value!r:.40}")
        return value

    def validated(self, level: Level) -> Level:
        """Level.validate(), re-raised as a format error for this file."""
        try:
            return level.validate()
        except LevelValidationError as e:
            raise self.error(e.field, str(e).split(": ", 1)[1]) from None


MAX_LEVEL_FILE_BYTES = 16 * 1024 * 1024
"""a 1024x1024 map, the largest level, is about 7 MB in our most verbose format (TMJ, a gid a line); parsed,
a file costs up to about 30 times its size in memory (a TMX of nothing but objects), so the bound is tight"""


def read_bounded(path: str | Path, within: str | Path | None = None) -> str:
    """A level file's text, by the one rule for outside data (engine.outside): a regular file of at most
    MAX_LEVEL_FILE_BYTES, UTF-8, and with `within` inside that folder."""
    return read_outside_text(path, limit=MAX_LEVEL_FILE_BYTES, within=within, error=LevelFormatError)


def load_json(text: str, path: str | Path | None) -> Any:
    """`engine.outside.parse_json`, raising LevelFormatError."""
    return parse_json(text, path, error=LevelFormatError)
