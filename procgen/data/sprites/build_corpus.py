"""Rebuild the sprite GAN's training corpus (32x32 RGBA PNGs under procgen/data/sprites/<class>/) from arcade's
wheel, whose Kenney characters and enemies are CC0 (see ATTRIBUTION.md).

    pip download --no-deps arcade==3.3.3 -d /tmp/wheels
    python procgen/data/sprites/build_corpus.py /tmp/wheels/arcade-3.3.3-py3-none-any.whl

Each source image is cropped to its opaque pixels, scaled (nearest neighbour, keeping its aspect) to fit 30x30,
centred on the bottom of a 32x32 cell, given a binary alpha (threshold 128) and quantised to at most 16
colours. The classes: the hero, three enemy kinds and two NPC roles.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

from PIL import Image

from procgen.characters.pixelart import to_sprite

OUT_DIR = Path(__file__).resolve().parent
PREFIX = "arcade/resources/assets/images/"
CLASSES: dict[str, str] = {
    # class: regular expression over paths under PREFIX
    "hero": r"animated_characters/(male|female)_adventurer/.*\.png",
    "enemy_undead": r"animated_characters/zombie/.*\.png",
    "enemy_slime": r"enemies/slime.*\.png",
    "enemy_critter": r"enemies/(bee|fly|ladybug|frog.*|mouse|worm.*)\.png",
    "npc_villager": r"animated_characters/(male|female)_person/.*\.png",
    "npc_automaton": r"animated_characters/robot/.*\.png",
}


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.startswith(PREFIX) and n.endswith(".png")]
        for cls, pattern in CLASSES.items():
            folder = OUT_DIR / cls
            folder.mkdir(exist_ok=True)
            picked = sorted(n for n in names if re.fullmatch(pattern, n[len(PREFIX) :]))
            for name in picked:
                sprite = to_sprite(Image.open(io.BytesIO(zf.read(name))))
                Image.fromarray(sprite, "RGBA").save(folder / Path(name).name)
            print(f"{cls}: {len(picked)} sprites -> {folder}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
