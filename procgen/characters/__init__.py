"""Characters: a conditional sprite GAN (hero, enemies, NPCs), pixel-art finishing, walk cycles, a classifier.

from procgen.characters import SpriteGenerator, walk_cycle
heroes = SpriteGenerator.pretrained().sample(cls="hero", n=16, seed=7)   # (16, 32, 32, 4) uint8 RGBA
frames = walk_cycle(heroes[0])                                          # {"down": (4, 32, 32, 4), ...}
"""

__all__ = ["FACINGS", "SpriteGenerator", "walk_cycle", "walk_sheet"]


def __getattr__(name: str):
    # The generator pulls in torch; importing procgen.characters for its CLI or the rig should not.
    if name == "SpriteGenerator":
        from procgen.characters.generator import SpriteGenerator

        return SpriteGenerator
    if name in __all__:
        from procgen.characters import animation

        return getattr(animation, name)
    raise AttributeError(name)
