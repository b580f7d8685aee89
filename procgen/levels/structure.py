"""From raw GAN tiles to a level of the genre, before any repair.

- A top-down room gets its frame: wall all round the border, doors exactly where the conditions asked; an
  interior door that the generator left without its frame (no wall on both sides) is only an opening, so it
  becomes floor.
- A platformer segment gets its endpoints: a start on the lowest standable cell near the left edge and an exit
  near the right edge, the same rule the corpus windows are judged by.
"""

from __future__ import annotations

import numpy as np

from engine.level import Semantic
from procgen.levels.solver import LADDER, PLATFORMER_PASSABLE_LUT, PLATFORMER_SUPPORT_LUT
from procgen.metrics.levels import unframed_doors

WALL, DOOR, FLOOR = Semantic.WALL.code, Semantic.DOOR.code, Semantic.FLOOR.code
START, EXIT = Semantic.START.code, Semantic.EXIT.code
ENDPOINT_COLUMNS = 3
_PLACEABLE = np.zeros(256, dtype=bool)
_PLACEABLE[[FLOOR, Semantic.DECORATION.code, Semantic.TREASURE.code, Semantic.ENEMY.code]] = True


def frame_rooms(codes: np.ndarray, doors: np.ndarray) -> np.ndarray:
    """(N, H, W) rooms with the border set to wall, and door where `doors` (N, H, W) is 1. Returns a copy."""
    out = np.array(codes, dtype=np.uint8, copy=True)
    ring = np.zeros(out.shape[1:], dtype=bool)
    ring[[0, -1], :] = True
    ring[:, [0, -1]] = True
    door = doors.astype(bool) & ring
    out[:, ring] = WALL
    out[door] = DOOR
    # Stray interior endpoints would break the one-start-one-exit rule once rooms are joined into a dungeon.
    inner = out[:, 1:-1, 1:-1]
    inner[(inner == START) | (inner == EXIT)] = FLOOR
    # The same frame rule the broken-structure measure uses; opening one door can unframe a door beside it.
    while (loose := unframed_doors(out) & ~ring).any():
        out[loose] = FLOOR
    return out


def _standable(grid: np.ndarray) -> np.ndarray:
    below = np.concatenate([grid[1:], np.full_like(grid[:1], Semantic.VOID.code)], 0)
    return _PLACEABLE[grid] & PLATFORMER_PASSABLE_LUT[grid] & PLATFORMER_SUPPORT_LUT[below]


def ground_ladders(codes: np.ndarray) -> np.ndarray:
    """(N, H, W) platformer segments whose ladders reach down to something that holds them (ground, a platform,
    the bottom edge): a ladder hanging in the air is extended downward through the open tiles below it."""
    out = np.array(codes, dtype=np.uint8, copy=True)
    for y in range(
        out.shape[1] - 1
    ):  # top-down, so a tile just made ladder is itself extended on the next row
        hanging = (out[:, y] == LADDER) & ~PLATFORMER_SUPPORT_LUT[out[:, y + 1]]
        out[:, y + 1][hanging] = LADDER
    return out


def place_endpoints(codes: np.ndarray) -> np.ndarray:
    """(N, H, W) platformer segments with grounded ladders, one start (left) and one exit (right). Returns a
    copy."""
    out = ground_ladders(codes)
    out[(out == START) | (out == EXIT)] = FLOOR
    h, w = out.shape[1:]
    for grid in out:
        stand = _standable(grid)
        for code, columns in (
            (START, range(ENDPOINT_COLUMNS)),
            (EXIT, range(w - 1, w - 1 - ENDPOINT_COLUMNS, -1)),
        ):
            cell = next(
                ((int(ys.max()), x) for x in columns if (ys := np.nonzero(stand[:, x])[0]).size), None
            )
            y, x = (
                cell if cell is not None else (h - 2, columns[0])
            )  # nowhere to stand: repair will make ground
            grid[y, x] = code
            stand[y, x] = False
    return out


def finish(codes: np.ndarray, doors: np.ndarray, genre_name: str) -> np.ndarray:
    """The genre's finishing step for a batch of raw samples."""
    return place_endpoints(codes) if genre_name == "platformer" else frame_rooms(codes, doors)
