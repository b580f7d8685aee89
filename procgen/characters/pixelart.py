"""Pixel-art finishing: what turns a network's soft RGBA output (or any image) into a clean game sprite.

- alpha is binary (0 or 255): a sprite is drawn or not, with no half-transparent fringe;
- stray specks (small detached islands) are removed, since a GAN leaves them and a sprite artist would not;
- the silhouette gets a 1-px dark outline, the usual pixel-art cue that keeps a sprite readable on any floor;
- the colours are quantised to a small palette (≤16 in all, the outline's colour included), a known win for
  pixel-art GANs: it snaps the generator's near-duplicate shades together.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

SIZE = 32
MAX_COLOURS = 16
MIN_ISLAND = 6
"""detached parts smaller than this many pixels are specks, not limbs"""
OUTLINE_DARKNESS = 0.45
_FOUR = ndimage.generate_binary_structure(2, 1)
_EIGHT = ndimage.generate_binary_structure(2, 2)


def quantise(rgb: np.ndarray, colours: int) -> np.ndarray:
    """(N, 3) uint8 pixels → the same pixels on a median-cut palette of at most `colours`, with no dithering."""
    if len(rgb) == 0:
        return rgb
    img = Image.fromarray(np.ascontiguousarray(rgb[None], dtype=np.uint8), "RGB")
    paletted = img.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return np.asarray(paletted.convert("RGB"))[0]


def silhouette(opaque: np.ndarray) -> np.ndarray:
    """The opaque mask without specks: the largest 8-connected part, plus any other of ≥ MIN_ISLAND pixels."""
    labels, count = ndimage.label(opaque, structure=_EIGHT)
    if count <= 1:
        return opaque.copy()
    sizes = np.bincount(labels.ravel())[1:]
    keep = (sizes >= MIN_ISLAND) | (np.arange(count) == sizes.argmax())
    return keep[labels - 1] & opaque


def outline_mask(opaque: np.ndarray) -> np.ndarray:
    """Opaque pixels with a transparent 4-neighbour (or on the image's edge): the silhouette's 1-px rim."""
    inner = ndimage.binary_erosion(opaque, structure=_FOUR, border_value=0)
    return opaque & ~inner


def finish_sprite(rgba: np.ndarray, colours: int = MAX_COLOURS, outline: bool = True) -> np.ndarray:
    """(H, W, 4) RGBA (uint8, or float in [-1, 1] straight from a generator) → a uint8 sprite with binary alpha,
    no specks, a 1-px outline and at most `colours` colours. Transparent pixels are (0, 0, 0, 0)."""
    if not 2 <= colours <= 256:
        raise ValueError(f"colours: expected 2..256, got {colours}")
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] != 4:
        raise ValueError(f"rgba: expected an (H, W, 4) array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = ((np.clip(arr, -1, 1) + 1) * 127.5).round().astype(np.uint8)
    rgb = arr[..., :3]
    opaque = silhouette(arr[..., 3] >= 128)
    out = np.zeros(arr.shape, np.uint8)
    rim = outline_mask(opaque) if outline else np.zeros_like(opaque)
    body = opaque & ~rim
    out[body, :3] = quantise(rgb[body], colours - 1 if outline else colours)
    if rim.any():
        # One dark colour for the whole rim: the darkened mean of the colours it replaces.
        out[rim, :3] = (rgb[rim].mean(0) * OUTLINE_DARKNESS).round().astype(np.uint8)
    out[opaque, 3] = 255
    return out


def colour_count(sprite: np.ndarray) -> int:
    """Distinct RGB colours among a sprite's opaque pixels."""
    opaque = np.asarray(sprite)[..., 3] > 0
    return len(np.unique(np.asarray(sprite)[opaque][:, :3], axis=0))


def to_sprite(
    img: Image.Image, size: int = SIZE, fit: int = SIZE - 2, colours: int = MAX_COLOURS
) -> np.ndarray:
    """Any RGBA image → a (size, size, 4) uint8 corpus sprite: cropped to its opaque pixels, scaled (nearest
    neighbour, keeping its aspect) to fit `fit` pixels, standing on the cell's bottom, binary alpha (threshold
    128), at most `colours` colours. Its own outline is kept as drawn."""
    rgba = img.convert("RGBA")
    box = rgba.getchannel("A").point(lambda a: 255 if a >= 128 else 0).getbbox()
    if box is None:
        raise ValueError("image has no opaque pixels")
    rgba = rgba.crop(box)
    scale = fit / max(rgba.size)
    scaled = (max(1, round(rgba.size[0] * scale)), max(1, round(rgba.size[1] * scale)))
    rgba = rgba.resize(scaled, Image.NEAREST)
    cell = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    cell.paste(rgba, ((size - scaled[0]) // 2, size - 1 - scaled[1]))
    arr = np.asarray(cell).copy()
    opaque = arr[..., 3] >= 128
    rgb = Image.fromarray(arr[..., :3]).quantize(
        colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    arr[..., :3] = np.asarray(rgb.convert("RGB"))
    arr[..., 3] = np.where(opaque, 255, 0)
    arr[~opaque, :3] = 0
    return arr
