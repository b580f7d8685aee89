"""Walk cycles for generated sprites by a procedural rig, not by generating frames.

Why a rig: the corpus has about a hundred sprites, with few poses per character and almost no back views, far
too little to teach a GAN four facings that stay the same character. A rig applied to one generated sprite keeps
its identity by construction, and every frame only moves existing pixels (or recolours them with the sprite's own
colours), so binary alpha and the ≤16-colour palette survive.

The rig, for a sprite whose opaque rows run from `top` to `bottom`:
- facings: "down" is the sprite as generated; "right" leans its upper half 1 px forward; "left" mirrors
  "right"; "up" (seen from behind) mirrors the sprite and paints the head's inner pixels in the hair colour
  (the commonest inner colour of the top rows), which hides the face;
- 4 frames per facing: contact, passing A, contact squashed (the upper half sinks 1 px), passing B;
- passing frames bob the whole sprite up 1 px and shift the legs (the bottom quarter): sideways facings
  spread the two halves of the legs apart (A) or cross them (B); front and back views lift the left (A) or the
  right (B) leg by 1 px.
"""

from __future__ import annotations

import numpy as np

from procgen.characters.pixelart import outline_mask

FACINGS = ("down", "left", "right", "up")
FRAMES = 4
HEAD_SHARE = 0.4
LEG_SHARE = 0.25


def _rows(sprite: np.ndarray) -> tuple[int, int]:
    rows = np.nonzero(sprite[..., 3].any(1))[0]
    if len(rows) == 0:
        raise ValueError("sprite has no opaque pixels")
    return int(rows[0]), int(rows[-1])


def _shift(region: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The region moved by (dy, dx), filled with transparency."""
    out = np.zeros_like(region)
    h, w = region.shape[:2]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = region[ys, xs]
    return out


def _paste(under: np.ndarray, over: np.ndarray) -> np.ndarray:
    """`over` drawn on `under` (binary alpha)."""
    return np.where(over[..., 3:] > 0, over, under)


def _split_rows(sprite: np.ndarray, row: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows above `row`, rows from `row` down), each a full-size image with the rest transparent."""
    upper, lower = np.zeros_like(sprite), np.zeros_like(sprite)
    upper[:row], lower[row:] = sprite[:row], sprite[row:]
    return upper, lower


def back_view(sprite: np.ndarray) -> np.ndarray:
    """The sprite from behind: mirrored, with the head's inner pixels in the hair colour."""
    out = sprite[:, ::-1].copy()
    top, bottom = _rows(out)
    head_end = top + max(2, round((bottom - top + 1) * HEAD_SHARE))
    opaque = out[..., 3] > 0
    inner = opaque & ~outline_mask(opaque)
    head = np.zeros_like(inner)
    head[top:head_end] = inner[top:head_end]
    crown = inner[top : top + 3].any(1)
    crown_pixels = out[top : top + 3][inner[top : top + 3]] if crown.any() else out[opaque]
    colours, counts = np.unique(crown_pixels.reshape(-1, 4), axis=0, return_counts=True)
    out[head] = colours[counts.argmax()]
    return out


def lean(sprite: np.ndarray, dx: int) -> np.ndarray:
    """The upper half of the sprite moved `dx` px sideways."""
    top, bottom = _rows(sprite)
    upper, lower = _split_rows(sprite, (top + bottom + 1) // 2)
    return _paste(lower, _shift(upper, 0, dx))


def _legs(sprite: np.ndarray, sideways: bool, phase: int) -> np.ndarray:
    top, bottom = _rows(sprite)
    leg_top = bottom + 1 - max(2, round((bottom - top + 1) * LEG_SHARE))
    body, legs = _split_rows(sprite, leg_top)
    cols = np.nonzero(legs[..., 3].any(0))[0]
    if len(cols) == 0:
        return sprite
    middle = (int(cols[0]) + int(cols[-1]) + 1) // 2
    left, right = legs.copy(), legs.copy()
    left[:, middle:], right[:, :middle] = 0, 0
    if sideways:  # A spreads the legs apart, B crosses them
        step = 1 if phase == 0 else -1
        moved = _paste(_shift(left, 0, -step), _shift(right, 0, step))
    else:  # A lifts the left leg, B the right
        moved = _paste(_shift(left, -1, 0), right) if phase == 0 else _paste(left, _shift(right, -1, 0))
    return _paste(moved, body)


def _squash(sprite: np.ndarray) -> np.ndarray:
    top, bottom = _rows(sprite)
    upper, lower = _split_rows(sprite, (top + bottom + 1) // 2)
    return _paste(lower, _shift(upper, 1, 0))


def walk_frames(facing_sprite: np.ndarray, sideways: bool) -> np.ndarray:
    """(FRAMES, H, W, 4): contact, passing A, squashed contact, passing B."""
    passing = [_shift(_legs(facing_sprite, sideways, phase), -1, 0) for phase in (0, 1)]
    return np.stack([facing_sprite, passing[0], _squash(facing_sprite), passing[1]])


def walk_cycle(sprite: np.ndarray) -> dict[str, np.ndarray]:
    """Per facing in FACINGS, (FRAMES, H, W, 4) uint8 walk frames made from one (H, W, 4) uint8 sprite."""
    sprite = np.asarray(sprite)
    if sprite.ndim != 3 or sprite.shape[2] != 4 or sprite.dtype != np.uint8:
        raise ValueError(f"sprite: expected (H, W, 4) uint8, got {sprite.shape} {sprite.dtype}")
    right = walk_frames(lean(sprite, 1), sideways=True)
    return {
        "down": walk_frames(sprite, sideways=False),
        "left": np.ascontiguousarray(right[:, :, ::-1]),
        "right": right,
        "up": walk_frames(back_view(sprite), sideways=False),
    }


def walk_sheet(sprite: np.ndarray) -> np.ndarray:
    """A (4·H, FRAMES·W, 4) sprite sheet: one row per facing in FACINGS order, frames left to right."""
    cycle = walk_cycle(sprite)
    return np.concatenate([np.concatenate(list(cycle[f]), axis=1) for f in FACINGS], axis=0)
