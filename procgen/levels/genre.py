"""A corpus's genre file (`genre.json` beside its legend): how a player moves, so the solver and repair know
what "playable" means, and which augmentations keep a level valid.

    {"genre": "topdown"}
    {"genre": "platformer", "max_jump_height": 3, "max_jump_width": 4, "gravity": 1}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.errors import LevelFormatError

GENRE_FILE_NAME = "genre.json"
GenreName = Literal["topdown", "platformer"]
MAX_JUMP = 16


@dataclass(frozen=True)
class JumpModel:
    """A platformer's movement in tiles. A jump rises straight up by at most `max_jump_height` tiles, glides at
    most `max_jump_width` tiles sideways at that height, then falls. `gravity` is the fall speed in tiles per
    tick: the player drops straight down one tile at a time whenever nothing supports it."""

    max_jump_height: int = 3
    max_jump_width: int = 4
    gravity: int = 1


@dataclass(frozen=True)
class Genre:
    name: GenreName = "topdown"
    jump: JumpModel | None = None

    @property
    def flips(self) -> tuple[bool, bool]:
        """(horizontal, vertical) flips that keep a level playable: gravity forbids vertical ones."""
        return (True, self.name == "topdown")

    def to_dict(self) -> dict:
        out: dict = {"genre": self.name}
        if self.jump is not None:
            out |= {
                "max_jump_height": self.jump.max_jump_height,
                "max_jump_width": self.jump.max_jump_width,
                "gravity": self.jump.gravity,
            }
        return out

    @classmethod
    def from_dict(cls, data: object, path: str | Path = GENRE_FILE_NAME) -> Genre:
        if not isinstance(data, dict):
            raise LevelFormatError(path, "genre", f"expected a JSON object, got {type(data).__name__}")
        name = data.get("genre", "topdown")
        if name not in ("topdown", "platformer"):
            raise LevelFormatError(path, "genre", f"expected 'topdown' or 'platformer', got {name!r}")
        if name == "topdown":
            return cls("topdown")
        values = {}
        for field_name, default in (("max_jump_height", 3), ("max_jump_width", 4), ("gravity", 1)):
            value = data.get(field_name, default)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_JUMP:
                raise LevelFormatError(path, field_name, f"expected an integer 1..{MAX_JUMP}, got {value!r}")
            values[field_name] = value
        return cls("platformer", JumpModel(**values))


TOPDOWN = Genre("topdown")


def read_genre(folder: str | Path) -> Genre:
    """The genre declared in `folder`/genre.json (or its parent's); top-down when there is none."""
    folder = Path(folder)
    for candidate in (folder / GENRE_FILE_NAME, folder.parent / GENRE_FILE_NAME):
        if candidate.exists():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise LevelFormatError(candidate, "genre", f"not readable JSON: {exc}") from exc
            return Genre.from_dict(data, candidate)
    return TOPDOWN
