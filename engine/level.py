"""The one Level model: a uint8 tile grid, a Legend giving each tile id its meaning, spawns and meta.

Every generator produces a Level, every file format reads and writes one, and the simulation runs one.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from engine.errors import LevelValidationError

__all__ = [
    "LEVEL_MODEL_VERSION",
    "MAX_LEVEL_SIDE",
    "SPAWN_KINDS",
    "Legend",
    "Level",
    "LevelMeta",
    "Semantic",
    "Spawn",
    "TileDef",
]

LEVEL_MODEL_VERSION = 1
# Bounds every size a user or a file can ask for; a dungeon of 8x8 rooms fits well inside.
MAX_LEVEL_SIDE = 1024
SPAWN_INT_PROPERTIES: dict[str, tuple[int, int]] = {
    "health": (1, 1000),
    "move_period": (1, 1000),
    "zone_radius": (0, MAX_LEVEL_SIDE),
}
"""spawn properties the World reads as integers, and their ranges (other properties are free-form)"""


class Semantic(StrEnum):
    """The fixed vocabulary of tile meanings. The order is the integer code used by the sim and one-hot channels."""

    FLOOR = "floor"
    WALL = "wall"
    DOOR = "door"
    LOCKED_DOOR = "locked_door"
    KEY = "key"
    START = "start"
    EXIT = "exit"
    HAZARD = "hazard"
    WATER = "water"
    ENEMY = "enemy"
    NPC = "npc"
    TREASURE = "treasure"
    DECORATION = "decoration"
    VOID = "void"
    # Platformer genre additions.
    SOLID = "solid"
    PLATFORM = "platform"
    LADDER = "ladder"

    @property
    def code(self) -> int:
        return _SEMANTIC_CODES[self]


SEMANTICS: tuple[Semantic, ...] = tuple(Semantic)
_SEMANTIC_CODES = {s: i for i, s in enumerate(SEMANTICS)}

# Marker semantics stand for an entity on a floor tile: the sim spawns the entity and keeps floor underneath.
SPAWN_KINDS: frozenset[Semantic] = frozenset(
    {Semantic.START, Semantic.KEY, Semantic.ENEMY, Semantic.NPC, Semantic.TREASURE}
)

PropertyValue = str | int | float | bool


@dataclass(frozen=True)
class TileDef:
    """One legend entry: tile `id` means `semantic`; `char` is its ASCII (VGLC) form; `name` is for humans."""

    id: int
    semantic: Semantic
    char: str
    name: str = ""


@dataclass(frozen=True)
class Legend:
    """Maps tile ids to semantics (and to ASCII characters). Each corpus brings its own."""

    tiles: tuple[TileDef, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiles", tuple(sorted(self.tiles, key=lambda t: t.id)))

    @classmethod
    def default(cls) -> Legend:
        """The dungeon legend: tile id i means SEMANTICS[i], with the authored corpus's characters. (One shared
        instance: a Legend is immutable, and the generators make one per level.)"""
        return _default_legend()

    def __getitem__(self, tile_id: int) -> TileDef:
        for t in self.tiles:
            if t.id == tile_id:
                return t
        raise KeyError(tile_id)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(t.id for t in self.tiles)

    def id_of(self, semantic: Semantic | str) -> int:
        """The first tile id meaning `semantic`; LevelValidationError if the legend has none."""
        semantic = Semantic(semantic)
        for t in self.tiles:
            if t.semantic is semantic:
                return t.id
        raise LevelValidationError("legend", f"has no tile with semantic '{semantic.value}'")

    def semantic_lut(self) -> np.ndarray:
        """A 256-entry lookup table tile id -> semantic code (255 for ids not in the legend)."""
        return self._semantic_lut.copy()

    @functools.cached_property
    def _semantic_lut(self) -> np.ndarray:
        lut = np.full(256, 255, dtype=np.uint8)
        for t in self.tiles:
            lut[t.id] = t.semantic.code
        return lut

    @functools.cached_property
    def known_ids(self) -> np.ndarray:
        """A 256-entry table, True for the tile ids this legend defines."""
        known = np.zeros(256, dtype=bool)
        known[[int(i) for i in self.ids]] = True
        return known

    def validate(self) -> None:
        self._valid  # noqa: B018  # checked once: a Legend is immutable

    @functools.cached_property
    def _valid(self) -> bool:
        seen_ids: set[int] = set()
        seen_chars: set[str] = set()
        if not self.tiles:
            raise LevelValidationError("legend", "is empty; expected at least one tile definition")
        for i, t in enumerate(self.tiles):
            where = f"legend[{i}]"
            if not isinstance(t.id, int) or not 0 <= t.id <= 255:
                raise LevelValidationError(f"{where}.id", f"expected an integer in 0..255, got {t.id!r}")
            if t.id in seen_ids:
                raise LevelValidationError(f"{where}.id", f"tile id {t.id} is defined twice")
            if not isinstance(t.semantic, Semantic):
                raise LevelValidationError(f"{where}.semantic", f"expected a Semantic, got {t.semantic!r}")
            if not isinstance(t.char, str) or len(t.char) != 1 or not (t.char == " " or t.char.isprintable()):
                raise LevelValidationError(
                    f"{where}.char", f"expected one printable character, got {t.char!r}"
                )
            if t.char in seen_chars:
                raise LevelValidationError(f"{where}.char", f"character {t.char!r} is used twice")
            seen_ids.add(t.id)
            seen_chars.add(t.char)
        return True


DEFAULT_CHARS: dict[Semantic, str] = {
    Semantic.FLOOR: ".",
    Semantic.WALL: "W",
    Semantic.DOOR: "D",
    Semantic.LOCKED_DOOR: "L",
    Semantic.KEY: "k",
    Semantic.START: "S",
    Semantic.EXIT: "X",
    Semantic.HAZARD: "^",
    Semantic.WATER: "~",
    Semantic.ENEMY: "e",
    Semantic.NPC: "n",
    Semantic.TREASURE: "$",
    Semantic.DECORATION: "o",
    Semantic.VOID: "-",
    Semantic.SOLID: "#",
    Semantic.PLATFORM: "=",
    Semantic.LADDER: "H",
}


@functools.cache
def _default_legend() -> Legend:
    return Legend(tuple(TileDef(s.code, s, DEFAULT_CHARS[s], s.value) for s in SEMANTICS))


def parse_semantic(value: Any, field_name: str) -> Semantic:
    """Semantic(value) with a LevelValidationError that lists the vocabulary."""
    try:
        return Semantic(value)
    except ValueError:
        known = ", ".join(s.value for s in SEMANTICS)
        raise LevelValidationError(
            field_name, f"{value!r} is not a known semantic (expected one of {known})"
        ) from None


@dataclass(frozen=True)
class Spawn:
    """An entity placed in the level with properties (an enemy's kind, an NPC's role...)."""

    kind: Semantic
    x: int
    y: int
    properties: dict[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True)
class LevelMeta:
    """Where the level came from: the seed and generator that made it, and the Level model version."""

    seed: int | None = None
    generator: str = "authored"
    version: int = LEVEL_MODEL_VERSION
    name: str = ""


@dataclass(frozen=True, eq=False)
class Level:
    """A tile grid (uint8, H x W, indexed [y, x]) with its legend, spawns and meta."""

    tiles: np.ndarray
    legend: Legend = field(default_factory=Legend.default)
    spawns: tuple[Spawn, ...] = ()
    meta: LevelMeta = field(default_factory=LevelMeta)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spawns", tuple(self.spawns))

    @property
    def height(self) -> int:
        return int(self.tiles.shape[0])

    @property
    def width(self) -> int:
        return int(self.tiles.shape[1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return (
            self.tiles.shape == other.tiles.shape
            and self.tiles.dtype == other.tiles.dtype
            and bool(np.array_equal(self.tiles, other.tiles))
            and self.legend == other.legend
            and self.spawns == other.spawns
            and self.meta == other.meta
        )

    __hash__ = None  # type: ignore[assignment]  # mutable array inside

    def replace(self, **changes: Any) -> Level:
        return dataclasses.replace(self, **changes)

    def semantic_grid(self) -> np.ndarray:
        """The grid as semantic codes (Semantic.code), same shape as tiles."""
        return self.legend.semantic_lut()[self.tiles]

    def positions_of(self, semantic: Semantic | str) -> list[tuple[int, int]]:
        """(x, y) of every tile meaning `semantic`, row-major."""
        ys, xs = np.nonzero(self.semantic_grid() == Semantic(semantic).code)
        return [(int(x), int(y)) for y, x in zip(ys, xs, strict=True)]

    def count(self, semantic: Semantic | str) -> int:
        return int(np.count_nonzero(self.semantic_grid() == Semantic(semantic).code))

    def validate(self) -> Level:
        """Raise LevelValidationError naming the first broken rule and where it is; return self when valid."""
        t = self.tiles
        if not isinstance(t, np.ndarray) or t.ndim != 2 or t.dtype != np.uint8:
            got = f"{t.dtype} with shape {t.shape}" if isinstance(t, np.ndarray) else type(t).__name__
            raise LevelValidationError("tiles", f"expected a 2-D uint8 array, got {got}")
        h, w = t.shape
        if not (1 <= h <= MAX_LEVEL_SIDE and 1 <= w <= MAX_LEVEL_SIDE):
            raise LevelValidationError("tiles", f"size {w}x{h} is outside 1..{MAX_LEVEL_SIDE} on each side")
        self.legend.validate()
        unknown_mask = ~self.legend.known_ids[t]
        if unknown_mask.any():
            y, x = (int(v) for v in np.argwhere(unknown_mask)[0])
            raise LevelValidationError(
                f"tiles[y={y}, x={x}]",
                f"tile id {int(t[y, x])} is not in the legend (known ids: {sorted(self.legend.ids)})",
            )
        for i, s in enumerate(self.spawns):
            if not isinstance(s.kind, Semantic) or s.kind not in SPAWN_KINDS:
                kinds = ", ".join(sorted(k.value for k in SPAWN_KINDS))
                raise LevelValidationError(
                    f"spawns[{i}].kind", f"{s.kind!r} is not a spawn kind (expected {kinds})"
                )
            if not (0 <= s.x < w):
                raise LevelValidationError(f"spawns[{i}].x", f"{s.x} is outside the level (width {w})")
            if not (0 <= s.y < h):
                raise LevelValidationError(f"spawns[{i}].y", f"{s.y} is outside the level (height {h})")
            for k, v in s.properties.items():
                if not isinstance(k, str) or not isinstance(v, str | int | float | bool):
                    raise LevelValidationError(
                        f"spawns[{i}].properties[{k!r}]",
                        f"expected a string, number or bool, got {type(v).__name__}",
                    )
                if isinstance(v, float) and not math.isfinite(v):
                    raise LevelValidationError(
                        f"spawns[{i}].properties[{k!r}]", f"expected a finite number, got {v}"
                    )
                if k in SPAWN_INT_PROPERTIES:
                    low, high = SPAWN_INT_PROPERTIES[k]
                    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                        raise LevelValidationError(
                            f"spawns[{i}].properties[{k!r}]", f"expected an integer {low}..{high}, got {v!r}"
                        )
        m = self.meta
        for name, value, kinds in (
            ("seed", m.seed, (int, type(None))),
            ("generator", m.generator, (str,)),
            ("name", m.name, (str,)),
            ("version", m.version, (int,)),
        ):
            if isinstance(value, bool) or not isinstance(value, kinds):
                expected = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
                raise LevelValidationError(f"meta.{name}", f"expected {expected}, got {value!r:.40}")
        if self.meta.version != LEVEL_MODEL_VERSION:
            raise LevelValidationError(
                "meta.version",
                f"Level model version {self.meta.version} is not supported (expected {LEVEL_MODEL_VERSION})",
            )
        return self
