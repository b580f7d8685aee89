"""A sprite corpus: one folder per class, each holding 32x32 RGBA PNGs (the shipped one, or yours).

    sprites/
      hero/*.png
      enemy_slime/*.png
      ...

Images of another size are converted the way the shipped corpus was (`pixelart.to_sprite`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import LudoforgeError
from procgen.characters.pixelart import SIZE, to_sprite

SHIPPED_CORPUS = Path(__file__).resolve().parent.parent / "data" / "sprites"
MAX_CLASSES = 64
MAX_SPRITES = 50_000
MAX_IMAGE_PIXELS = 1024 * 1024


class CorpusError(LudoforgeError, ValueError):
    """A sprite corpus that cannot be used: names the path and what was expected."""


@dataclass(frozen=True)
class SpriteCorpus:
    images: np.ndarray
    """(N, 32, 32, 4) uint8"""
    labels: np.ndarray
    """(N,) int64 indices into `classes`"""
    classes: tuple[str, ...]
    names: tuple[str, ...]
    """each sprite's path relative to the corpus folder"""

    def __len__(self) -> int:
        return len(self.images)

    def of_class(self, cls: str) -> np.ndarray:
        return self.images[self.labels == self.classes.index(cls)]


def load_corpus(folder: str | Path | None = None) -> SpriteCorpus:
    """Every PNG in each class sub-folder of `folder` (default: the shipped corpus), classes sorted by name."""
    root = Path(folder) if folder is not None else SHIPPED_CORPUS
    if not root.is_dir():
        raise CorpusError(f"{root}: not a folder (expected one sub-folder of PNGs per class)")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and any(d.glob("*.png")))
    if len(class_dirs) < 2:
        raise CorpusError(
            f"{root}: expected at least 2 class sub-folders holding PNGs, found {len(class_dirs)}"
        )
    if len(class_dirs) > MAX_CLASSES:
        raise CorpusError(f"{root}: {len(class_dirs)} classes; at most {MAX_CLASSES}")
    images, labels, names = [], [], []
    for label, folder_path in enumerate(class_dirs):
        for path in sorted(folder_path.glob("*.png")):
            if len(images) >= MAX_SPRITES:
                raise CorpusError(f"{root}: more than {MAX_SPRITES} sprites")
            try:
                with Image.open(path) as img:
                    if img.width * img.height > MAX_IMAGE_PIXELS:
                        raise CorpusError(
                            f"{path}: {img.width}x{img.height} is over {MAX_IMAGE_PIXELS} pixels"
                        )
                    rgba = np.asarray(img.convert("RGBA"))
                    if rgba.shape[:2] != (SIZE, SIZE) or not np.isin(rgba[..., 3], (0, 255)).all():
                        rgba = to_sprite(img)
            except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
                if isinstance(exc, CorpusError):
                    raise
                raise CorpusError(f"{path}: not a usable sprite image: {exc}") from exc
            images.append(rgba)
            labels.append(label)
            names.append(str(path.relative_to(root)))
    return SpriteCorpus(
        np.stack(images), np.array(labels, np.int64), tuple(d.name for d in class_dirs), tuple(names)
    )
