"""The sprite corpus (rebuilt from arcade's wheel by procgen/data/sprites/build_corpus.py) is what the sprite GAN
will train on: six classes of 32x32 RGBA sprites with binary alpha and at most 16 colours each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from procgen.characters.pixelart import MAX_COLOURS as COLOURS
from procgen.characters.pixelart import SIZE, to_sprite
from procgen.data.sprites.build_corpus import CLASSES

CORPUS = Path(__file__).resolve().parents[2] / "procgen" / "data" / "sprites"


def test_every_class_is_present_and_every_sprite_is_clean() -> None:
    assert len(CLASSES) >= 6
    assert (
        sum(c.startswith("enemy_") for c in CLASSES) >= 3 and sum(c.startswith("npc_") for c in CLASSES) >= 2
    )
    for cls in CLASSES:
        files = sorted((CORPUS / cls).glob("*.png"))
        assert len(files) >= 5, cls
        for f in files:
            sprite = np.asarray(Image.open(f))
            assert sprite.shape == (SIZE, SIZE, 4), f
            assert set(np.unique(sprite[..., 3])) == {0, 255}, f
            opaque = sprite[sprite[..., 3] == 255][:, :3]
            assert len(np.unique(opaque, axis=0)) <= COLOURS, f
            assert sprite[-2, :, 3].any(), f"{f}: not standing on the bottom of its cell"


def test_conversion_cleans_soft_alpha_and_many_colours() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (80, 50, 4), dtype=np.uint8)
    sprite = to_sprite(Image.fromarray(img, "RGBA"))
    assert sprite.shape == (SIZE, SIZE, 4)
    assert set(np.unique(sprite[..., 3])) <= {0, 255}
    assert len(np.unique(sprite[sprite[..., 3] == 255][:, :3], axis=0)) <= COLOURS
