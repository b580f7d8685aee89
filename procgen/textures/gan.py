"""The texture GAN, in the PSGAN style: a fully convolutional generator over a spatial latent, and a patch critic.

The latent is a grid (one cell per 16x16 output pixels) with three parts:
- local: independent noise per cell, for what differs from place to place;
- global: one vector per texture, copied to every cell, for what the whole texture shares (hue, scale);
- periodic: sinusoids whose wave vectors an MLP reads from the global part, for regular structure (brick
  courses, planks, waves).

Why the textures tile: every convolution pads circularly, the local noise lives on a torus, and each wave
vector is rounded to a whole number of cycles across the grid. The output is then exactly periodic in both
directions at every size, so a texture wraps onto itself with no seam; nothing is blended after the fact.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Annotated

import torch
from pydantic import Field
from torch import nn
from torch.nn.utils import spectral_norm

PIXELS_PER_CELL = 16
"""output pixels per latent cell: four nearest-neighbour upsamplings"""
MAX_WAVE = 0.5
"""largest wave number in cycles per latent cell (Nyquist for the grid)"""


@dataclass(frozen=True)
class TextureConfig:
    """Everything needed to rebuild the generator; saved in the weights card."""

    local_dim: Annotated[int, Field(ge=1, le=1024)] = 20
    global_dim: Annotated[int, Field(ge=1, le=1024)] = 20
    periodic_dim: Annotated[int, Field(ge=0, le=256)] = 4
    width: Annotated[int, Field(ge=16, le=2048)] = 128
    """channels at the latent resolution; each upsampling halves them"""

    @property
    def latent_dim(self) -> int:
        return self.local_dim + self.global_dim + self.periodic_dim

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TextureConfig:
        return cls(**data)


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="circular")


class PeriodicWaves(nn.Module):
    """Global latent → `periodic_dim` wave vectors, quantised so each completes whole cycles across the grid."""

    def __init__(self, cfg: TextureConfig) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(cfg.global_dim, 64), nn.ReLU(), nn.Linear(64, 2 * cfg.periodic_dim)
        )

    def wave_vectors(self, z_global: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
        """(B, periodic_dim, 2) wave numbers (rows, columns) in cycles per cell, whole cycles across the grid."""
        waves = torch.tanh(self.mlp(z_global)).view(len(z_global), -1, 2) * MAX_WAVE
        grid = waves.new_tensor([rows, cols])
        # Round to whole cycles over the grid; straight-through so the MLP still learns the wave it wants.
        whole = torch.round(waves * grid) / grid
        return waves + (whole - waves).detach()

    def forward(self, z_global: torch.Tensor, phase: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
        """(B, periodic_dim, rows, cols) sinusoids; `phase` (B, periodic_dim) in radians."""
        waves = self.wave_vectors(z_global, rows, cols)
        y = torch.arange(rows, device=z_global.device, dtype=z_global.dtype)
        x = torch.arange(cols, device=z_global.device, dtype=z_global.dtype)
        angle = (
            2 * math.pi * (waves[..., 0, None, None] * y[:, None] + waves[..., 1, None, None] * x[None, :])
            + phase[..., None, None]
        )
        return torch.sin(angle)


class TextureNet(nn.Module):
    """Spatial latent (B, latent_dim, rows, cols) → RGB in [-1, 1], (B, 3, 16 rows, 16 cols)."""

    def __init__(self, cfg: TextureConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.waves = PeriodicWaves(cfg)
        c = cfg.width
        layers: list[nn.Module] = [_conv(cfg.latent_dim, c), nn.BatchNorm2d(c), nn.ReLU()]
        for _ in range(4):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), _conv(c, c // 2), nn.BatchNorm2d(c // 2)]
            layers.append(nn.ReLU())
            c //= 2
        layers += [_conv(c, 3), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def latent(
        self, batch: int, rows: int, cols: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(local, global, phase) noise on the CPU, drawn from `generator` so that a seed fixes a texture."""
        cfg = self.cfg
        local = torch.randn(batch, cfg.local_dim, rows, cols, generator=generator)
        glob = torch.randn(batch, cfg.global_dim, generator=generator)
        phase = torch.rand(batch, cfg.periodic_dim, generator=generator) * 2 * math.pi
        return local, glob, phase

    def forward(self, local: torch.Tensor, glob: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        rows, cols = local.shape[-2:]
        periodic = self.waves(glob, phase, rows, cols)
        spread = glob[..., None, None].expand(-1, -1, rows, cols)
        return self.body(torch.cat([local, spread, periodic], 1))


class PatchCritic(nn.Module):
    """RGB (B, 3, H, W) → a map of patch scores, about (B, 1, H/16, W/16); spectral norm on every layer."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        c = width
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(3, c, 4, 2, 1)), nn.LeakyReLU(0.2)]
        for _ in range(3):
            layers += [spectral_norm(nn.Conv2d(c, 2 * c, 4, 2, 1)), nn.LeakyReLU(0.2)]
            c *= 2
        layers.append(spectral_norm(nn.Conv2d(c, 1, 3, 1, 1)))
        self.body = nn.Sequential(*layers)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.body(rgb)
