"""Textures: the periodic (seamless) texture GAN, its themes, training and evaluation."""

__all__ = ["THEMES", "TextureGenerator"]


def __getattr__(name: str):
    # The generator pulls in torch; importing procgen.textures for its theme names should not.
    if name in __all__:
        from procgen.textures import generator

        return getattr(generator, name)
    raise AttributeError(name)
