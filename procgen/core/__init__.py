"""Shared machinery for the generators: device selection (and, with the GAN issues, seeding and weights)."""

from procgen.core.device import select_device

__all__ = ["select_device"]
