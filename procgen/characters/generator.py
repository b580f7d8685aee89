"""Game sprites from the shipped (or your own) conditional sprite GAN.

from procgen.characters import SpriteGenerator
heroes = SpriteGenerator.pretrained().sample(cls="hero", n=16, seed=7)   # (16, 32, 32, 4) uint8 RGBA
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from procgen.characters.gan import SpriteConfig, SpriteNet
from procgen.characters.pixelart import MAX_COLOURS, finish_sprite
from procgen.core.device import select_device
from procgen.core.weights import WEIGHTS_DIR, card_config, load_into, load_weights

MAX_BATCH = 4096
CHUNK = 256
"""sprites per pass through the net"""


class SpriteGenerator:
    """A trained sprite GAN. `sample` gives finished sprites: binary alpha, a 1-px outline, ≤16 colours."""

    def __init__(self, net: SpriteNet, weights_id: str = "custom", device: str = "auto") -> None:
        self.device = select_device(device)
        self.net = net.to(self.device).eval()
        self.weights_id = weights_id

    @property
    def classes(self) -> tuple[str, ...]:
        return self.net.cfg.classes

    @classmethod
    def pretrained(cls, device: str = "auto") -> SpriteGenerator:
        """The shipped generator: hero, three enemy kinds and two NPC roles."""
        return cls.from_weights(WEIGHTS_DIR / "sprites", device=device)

    @classmethod
    def from_weights(cls, stem: str | Path, device: str = "auto") -> SpriteGenerator:
        """Weights written by `procgen.characters.train`."""
        tensors, card = load_weights(stem)
        net = SpriteNet(card_config(SpriteConfig, card, Path(stem).with_suffix(".json")))
        load_into(net, tensors, stem)
        return cls(net, weights_id=card["weights_sha256"][:12], device=device)

    def _label(self, cls: str) -> int:
        if cls not in self.classes:
            raise ValueError(f"cls: expected one of {self.classes}, got {cls!r}")
        return self.classes.index(cls)

    @torch.no_grad()
    def sample_raw(self, cls: str, n: int = 1, seed: int = 0) -> torch.Tensor:
        """(n, 4, 32, 32) float RGBA in [-1, 1], straight from the network. A (seed, class) pair fixes it."""
        if not 1 <= n <= MAX_BATCH:
            raise ValueError(f"n: expected 1..{MAX_BATCH}, got {n}")
        label = self._label(cls)
        draw = torch.Generator().manual_seed(int(seed) * 1009 + label)
        z = torch.randn(n, self.net.cfg.latent_dim, generator=draw)
        labels = torch.full((n,), label, dtype=torch.long)
        # in chunks, so the activations (about 0.4 MB a sprite) follow the chunk and not n; z is drawn up front
        # so a seed's sprites do not depend on the chunking
        chunks = [
            self.net(z[i : i + CHUNK].to(self.device), labels[i : i + CHUNK].to(self.device)).float().cpu()
            for i in range(0, n, CHUNK)
        ]
        return torch.cat(chunks)

    def sample(self, cls: str = "hero", n: int = 1, seed: int = 0, colours: int = MAX_COLOURS) -> np.ndarray:
        """(n, 32, 32, 4) uint8 finished sprites of class `cls`; the same seed gives the same sprites."""
        raw = self.sample_raw(cls, n, seed).permute(0, 2, 3, 1).numpy()
        return np.stack([finish_sprite(s, colours) for s in raw])
