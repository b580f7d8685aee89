"""The conditional sprite GAN: a DCGAN-style generator with class-conditional BatchNorm, and a spectral-norm critic
with a projection head (Miyato & Koyama, 2018), trained with the hinge loss.

Output is 4 channels in [-1, 1] (RGB and alpha) at 32x32; `pixelart.finish_sprite` makes it a clean sprite.
The corpus is small (about a hundred sprites), so both real and generated sprites reach the critic through the
same random translations (DiffAugment, Zhao et al., 2020): the critic cannot memorise exact positions, and the
generator is not pushed to copy them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm


@dataclass(frozen=True)
class SpriteConfig:
    """Everything needed to rebuild the generator; saved in the weights card."""

    classes: Annotated[
        tuple[Annotated[str, Field(min_length=1, max_length=64)], ...], Field(min_length=1, max_length=64)
    ]
    latent_dim: Annotated[int, Field(ge=1, le=1024)] = 64
    width: Annotated[int, Field(ge=8, le=2048)] = 128
    """generator channels at 4x4; each upsampling halves them"""
    size: Literal[32] = 32

    def __post_init__(self) -> None:
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes: a name appears twice in {list(self.classes)}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SpriteConfig:
        return cls(**{**data, "classes": tuple(data["classes"])})


class ConditionalBatchNorm(nn.Module):
    """BatchNorm whose scale and shift are looked up per class."""

    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale = nn.Embedding(classes, channels)
        self.shift = nn.Embedding(classes, channels)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * self.scale(labels)[:, :, None, None] + self.shift(labels)[:, :, None, None]


class UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int, classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = ConditionalBatchNorm(cout, classes)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return F.relu(self.norm(self.conv(x), labels))


class SpriteNet(nn.Module):
    """(z, class) → (B, 4, 32, 32) RGBA in [-1, 1]."""

    def __init__(self, cfg: SpriteConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n = len(cfg.classes)
        w = cfg.width
        self.embed = nn.Embedding(n, cfg.latent_dim)
        self.project = nn.Linear(2 * cfg.latent_dim, w * 16)
        self.norm0 = ConditionalBatchNorm(w, n)
        self.blocks = nn.ModuleList(
            [UpBlock(w, w // 2, n), UpBlock(w // 2, w // 4, n), UpBlock(w // 4, w // 8, n)]
        )
        self.to_rgba = nn.Conv2d(w // 8, 4, 3, padding=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = self.project(torch.cat([z, self.embed(labels)], 1)).view(len(z), self.cfg.width, 4, 4)
        x = F.relu(self.norm0(x, labels))
        for block in self.blocks:
            x = block(x, labels)
        return torch.tanh(self.to_rgba(x))


class SpriteCritic(nn.Module):
    """(B, 4, 32, 32), class → one score per sprite: a linear read-out plus the projection of the class embedding
    onto the pooled features. Before the last convolution it sees the batch's feature spread (ProGAN's minibatch
    standard deviation), so a generator that gives every latent the same sprite is easy to tell apart."""

    GROUP = 4

    def __init__(self, classes: int, width: int = 64) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            spectral_norm(nn.Conv2d(4, w, 3, padding=1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(w, w * 2, 4, stride=2, padding=1)),  # 16
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(w * 2, w * 4, 4, stride=2, padding=1)),  # 8
            nn.LeakyReLU(0.2),
        )
        self.last = spectral_norm(nn.Conv2d(w * 4 + 1, w * 4, 4, stride=2, padding=1))  # 4
        self.linear = spectral_norm(nn.Linear(w * 4, 1))
        self.embed = spectral_norm(nn.Embedding(classes, w * 4))

    @staticmethod
    def batch_spread(x: torch.Tensor, group: int = 4) -> torch.Tensor:
        """x with one more channel: the mean feature standard deviation within each run of `group` consecutive
        samples. The trainer puts one class in each run, so the spread is within a class, where collapse is."""
        b, c, h, w = x.shape
        g = group if b % group == 0 else b
        spread = x.view(-1, g, c, h, w).std(1, unbiased=False).mean((1, 2, 3))  # (b // g,)
        return torch.cat([x, spread.repeat_interleave(g)[:, None, None, None].expand(b, 1, h, w)], 1)

    def forward(self, rgba: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = self.body(rgba)
        h = F.leaky_relu(self.last(self.batch_spread(x, self.GROUP)), 0.2).sum((2, 3))
        return self.linear(h).squeeze(1) + (self.embed(labels) * h).sum(1)


def translate(rgba: torch.Tensor, max_shift: int, gen: torch.Generator | None = None) -> torch.Tensor:
    """DiffAugment's translation: each image moved by up to `max_shift` px in x and y, transparent (-1) fill.
    Differentiable in the image, so the generator learns through it."""
    if max_shift <= 0:
        return rgba
    b, _, h, w = rgba.shape
    padded = F.pad(rgba, (max_shift,) * 4, value=-1.0)
    shifts = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=gen).tolist()
    return torch.stack([p[:, dy : dy + h, dx : dx + w] for p, (dy, dx) in zip(padded, shifts, strict=True)])
