"""Rebuild the texture GAN's theme exemplars (256x256 RGB PNGs beside this file) from two wheels on PyPI.

    pip download --no-deps arcade==3.3.3 scikit-image==0.26.0 -d /tmp/wheels
    python procgen/data/textures/build_exemplars.py /tmp/wheels/arcade-3.3.3-py3-none-any.whl \\
        /tmp/wheels/scikit_image-0.26.0-*.whl

Sources, all CC0 (see ATTRIBUTION.md):
- scikit-image's `brick`, `grass` and `gravel` (512x512 grayscale photographs from CC0Textures and DeviantArt)
  carry the structure of the brick wall, grass and stone floor themes. They are halved to 256x256, so that a
  32-pixel game tile holds a few bricks or stones, histogram-equalised (the brick turned back to lying courses), and coloured by a gradient map through
  a theme palette written here (PALETTES).
- Kenney's `lava` and `water` tiles (128x128, from arcade's wheel) are repeating tiles already: two by two of
  them make the 256x256 exemplar.
- Wood has no CC0 source in these packages, so it is written here: planks with knots and a grain made of
  distorted growth rings, from a seeded noise field. Nothing in it is copied from an image.

Crawl's tiles (Debian's crawl-tiles-data) are left out: the package ships atlases without a per-tile author list,
so the CC0 subset cannot be picked offline.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 256
OUT_DIR = Path(__file__).resolve().parent
KENNEY = "arcade/resources/assets/images/tiles/"
SKIMAGE = "skimage/data/"


def _read(zf: zipfile.ZipFile, name: str) -> Image.Image:
    return Image.open(io.BytesIO(zf.read(name)))


# Dark → light colour stops per photographed theme, picked to sit with Kenney's tiles in the game.
PALETTES = {
    "stone_floor": [(52, 56, 64), (104, 110, 120), (160, 166, 176), (208, 212, 218)],
    "brick_wall": [(70, 28, 22), (128, 52, 38), (170, 86, 60), (214, 200, 180)],
    "grass_dirt": [(48, 34, 20), (46, 82, 24), (88, 140, 40), (170, 210, 96)],
}


def equalise(gray: np.ndarray) -> np.ndarray:
    """Histogram equalisation of a uint8 image, so that every palette stop is used."""
    hist = np.bincount(gray.ravel(), minlength=256).cumsum()
    return (hist[gray] * 255.0 / hist[-1]).astype(np.uint8)


def gradient_map(gray: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Colour a grayscale image by piecewise-linear interpolation through `palette` (dark → light)."""
    g = np.clip(gray.astype(np.float32) / 255.0, 0.0, 1.0) * (len(palette) - 1)
    lo = np.floor(g).astype(int).clip(0, len(palette) - 2)
    t = (g - lo)[..., None]
    rgb = palette[lo] * (1 - t) + palette[lo + 1] * t
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Bicubic-upsampled random grid in [0, 1], periodic-free (the exemplar need not tile)."""
    coarse = rng.random((cells, cells)).astype(np.float32)
    img = Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(img, np.float32) / 255.0


def wood(seed: int = 7) -> np.ndarray:
    """Horizontal planks: growth rings bent by low-frequency noise, a darker seam between planks, a few knots."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    plank_h = SIZE // 8
    plank = (y // plank_h).astype(int)
    warp = _smooth_noise(rng, SIZE, 6) * 18.0 + _smooth_noise(rng, SIZE, 24) * 3.0
    offset = rng.uniform(0, 40, size=8)[plank]  # each plank cut from a different place in the log
    rings = np.sin((y + warp + offset) * 0.9 + 0.15 * np.sin(x * 0.05 + plank)) * 0.5 + 0.5
    grain = _smooth_noise(rng, SIZE, 128) * 0.25
    tone = 0.55 + 0.35 * rings**3 + grain
    for _ in range(6):  # knots: concentric dark rings around a random centre
        cy, cx = rng.uniform(0, SIZE), rng.uniform(0, SIZE)
        r = np.hypot((y - cy) * 1.6, x - cx)
        tone -= 0.35 * np.exp(-r / 5.0) * (0.6 + 0.4 * np.cos(r * 1.2))
    seam = (y % plank_h) < 2
    tone[seam] *= 0.45
    joints = (x + plank * 97) % 160 < 2  # staggered butt joints
    tone[joints] *= 0.55
    palette = np.array([[92, 58, 30], [150, 100, 56], [204, 150, 92]], np.float32)
    return gradient_map(np.clip(tone, 0, 1) * 255, palette)


def build(arcade_wheel: str, skimage_wheel: str) -> dict[str, np.ndarray]:
    """Theme name → (256, 256, 3) uint8 exemplar."""
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(arcade_wheel) as kenney, zipfile.ZipFile(skimage_wheel) as skimage:
        for theme, photo in (("stone_floor", "gravel"), ("brick_wall", "brick"), ("grass_dirt", "grass")):
            gray = _read(skimage, f"{SKIMAGE}{photo}.png").convert("L").resize((SIZE, SIZE), Image.LANCZOS)
            if photo == "brick":  # scikit-image rotated it to standing courses; a wall lies in rows
                gray = gray.transpose(Image.Transpose.ROTATE_90)
            palette = np.array(PALETTES[theme], np.float32)
            out[theme] = gradient_map(equalise(np.asarray(gray)), palette)
        for theme in ("lava", "water"):
            tile = _read(kenney, f"{KENNEY}{theme}.png").convert("RGB")
            half = np.asarray(tile.resize((SIZE // 2, SIZE // 2), Image.LANCZOS))
            out[theme] = np.tile(half, (2, 2, 1))
    out["wood"] = wood()
    return out


def main(arcade_wheel: str, skimage_wheel: str) -> None:
    for theme, rgb in build(arcade_wheel, skimage_wheel).items():
        path = OUT_DIR / f"{theme}.png"
        Image.fromarray(rgb).save(path, optimize=True)
        print(f"{theme} -> {path} {rgb.shape}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
