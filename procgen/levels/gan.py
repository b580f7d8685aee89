"""The level GAN: a conditional DCGAN generator and a WGAN-GP critic over one-hot semantic tile channels.

Conditions, for every example:
- `doors`: a (H, W) mask of the door tiles on the room's border (all zero for a platformer), fed to both nets
  as a spatial channel at every scale, so the generator knows where the room must open;
- `density`: four numbers (DENSITY_NAMES) in human units, normalised by the corpus's mean and spread before
  they reach the nets.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import nn
from torch.nn import functional as F

from engine.level import Semantic
from engine.sim.grid import WALKABLE_LUT

DENSITY_NAMES = ("openness", "hazard", "enemies", "pickups")
"""openness: walkable fraction of tiles; hazard: hazard fraction; enemies and pickups (keys, treasure): counts"""

_HAZARD, _ENEMY = Semantic.HAZARD.code, Semantic.ENEMY.code
_PICKUPS = (Semantic.KEY.code, Semantic.TREASURE.code)


def density_of(sems: np.ndarray) -> np.ndarray:
    """(N, 4) float32 density vectors of (N, H, W) semantic grids, in DENSITY_NAMES order."""
    sems = np.asarray(sems)
    area = sems.shape[1] * sems.shape[2]
    return np.stack(
        [
            WALKABLE_LUT[sems].reshape(len(sems), -1).mean(1),
            (sems == _HAZARD).reshape(len(sems), -1).sum(1) / area,
            (sems == _ENEMY).reshape(len(sems), -1).sum(1),
            np.isin(sems, _PICKUPS).reshape(len(sems), -1).sum(1),
        ],
        axis=1,
    ).astype(np.float32)


def door_masks(sems: np.ndarray) -> np.ndarray:
    """(N, H, W) float32: 1 on border tiles that are doors."""
    sems = np.asarray(sems)
    ring = np.zeros(sems.shape[1:], dtype=bool)
    ring[[0, -1], :] = True
    ring[:, [0, -1]] = True
    return ((sems == Semantic.DOOR.code) & ring).astype(np.float32)


@dataclass(frozen=True)
class GanConfig:
    """Everything needed to rebuild the nets and read their output; saved beside the weights."""

    height: Annotated[int, Field(ge=1, le=256)]
    width: Annotated[int, Field(ge=1, le=256)]
    channels: Annotated[tuple[Annotated[int, Field(ge=0, le=255)], ...], Field(min_length=1, max_length=64)]
    """semantic code of each one-hot channel"""
    z_dim: Annotated[int, Field(ge=1, le=1024)] = 32
    width_mult: Annotated[int, Field(ge=1, le=1024)] = 32
    density_mean: Annotated[tuple[float, ...], Field(min_length=4, max_length=4)] = (0.0, 0.0, 0.0, 0.0)
    density_std: Annotated[tuple[Annotated[float, Field(gt=0)], ...], Field(min_length=4, max_length=4)] = (
        1.0,
        1.0,
        1.0,
        1.0,
    )
    logit_bias: tuple[float, ...] | None = None
    """per-channel offsets added before the argmax (see `calibrate_logit_bias`)"""

    def __post_init__(self) -> None:
        if self.logit_bias is not None and len(self.logit_bias) != len(self.channels):
            raise ValueError(f"logit_bias: {len(self.logit_bias)} entries for {len(self.channels)} channels")

    @property
    def padded(self) -> tuple[int, int]:
        return 4 * math.ceil(self.height / 4), 4 * math.ceil(self.width / 4)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GanConfig:
        fields = dict(data)
        for key in ("channels", "density_mean", "density_std", "logit_bias"):
            if fields.get(key) is not None:
                fields[key] = tuple(fields[key])
        return cls(**fields)

    def normalise(self, density: torch.Tensor) -> torch.Tensor:
        mean = density.new_tensor(self.density_mean)
        std = density.new_tensor(self.density_std)
        return (density - mean) / std


def _pad(mask: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, H, W) → (B, 1, Hp, Wp), zero-padded at the bottom and right."""
    h, w = mask.shape[-2:]
    return F.pad(mask.unsqueeze(1), (0, shape[1] - w, 0, shape[0] - h))


class Generator(nn.Module):
    """z and density → a 4x-downsampled map, two upsampling conv blocks with the door mask joined at each scale,
    then per-tile logits over the semantic channels."""

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ph, pw = cfg.padded
        c = cfg.width_mult
        self.base = (ph // 4, pw // 4)
        self.fc = nn.Sequential(nn.Linear(cfg.z_dim + 4, 2 * c * self.base[0] * self.base[1]), nn.ReLU())
        self.up1 = nn.Sequential(nn.Conv2d(2 * c + 1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.up2 = nn.Sequential(nn.Conv2d(c + 1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.refine = nn.Sequential(nn.Conv2d(c + 1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.head = nn.Conv2d(c + 1, len(cfg.channels), 3, padding=1)

    def forward(self, z: torch.Tensor, density: torch.Tensor, doors: torch.Tensor) -> torch.Tensor:
        """Logits (B, C, H, W). `density` is in human units (DENSITY_NAMES); `doors` is (B, H, W)."""
        cfg = self.cfg
        door = _pad(doors, cfg.padded)
        x = self.fc(torch.cat([z, cfg.normalise(density)], 1)).view(len(z), -1, *self.base)
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.up1(torch.cat([x, F.adaptive_max_pool2d(door, x.shape[-2:])], 1))
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.up2(torch.cat([x, door], 1))
        x = self.refine(torch.cat([x, door], 1))
        x = self.head(torch.cat([x, door], 1))
        return x[:, :, : cfg.height, : cfg.width]


class Critic(nn.Module):
    """WGAN-GP critic: tile probabilities plus the conditions as extra channels; no batch norm (the gradient
    penalty is per sample)."""

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.width_mult
        ph, pw = cfg.padded
        self.net = nn.Sequential(
            nn.Conv2d(len(cfg.channels) + 1 + 4, c, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 2 * c, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * c * (ph // 4) * (pw // 4), 1),
        )

    def forward(self, tiles: torch.Tensor, density: torch.Tensor, doors: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        ph, pw = cfg.padded
        x = F.pad(tiles, (0, pw - cfg.width, 0, ph - cfg.height))
        dens = cfg.normalise(density)[:, :, None, None].expand(-1, -1, ph, pw)
        return self.net(torch.cat([x, _pad(doors, cfg.padded), dens], 1)).squeeze(1)


def one_hot(sems: np.ndarray, channels: tuple[int, ...]) -> torch.Tensor:
    """(N, H, W) semantic codes → (N, C, H, W) float one-hot over `channels` (unknown codes map to channel 0)."""
    lut = np.zeros(256, dtype=np.int64)
    lut[list(channels)] = np.arange(len(channels))
    idx = torch.from_numpy(lut[np.asarray(sems)])
    return F.one_hot(idx, len(channels)).permute(0, 3, 1, 2).float()


def soft_density(probs: torch.Tensor, cfg: GanConfig) -> torch.Tensor:
    """`density_of` on tile probabilities, differentiable: the generator's conditioning loss."""
    ch = list(cfg.channels)
    walk = [i for i, c in enumerate(ch) if WALKABLE_LUT[c]]
    area = cfg.height * cfg.width

    def total(codes: tuple[int, ...] | list[int], by_index: bool = False) -> torch.Tensor:
        idx = codes if by_index else [ch.index(c) for c in codes if c in ch]
        if not idx:
            return probs.new_zeros(len(probs))
        return probs[:, idx].sum((1, 2, 3))

    return torch.stack(
        [total(walk, by_index=True) / area, total([_HAZARD]) / area, total([_ENEMY]), total(list(_PICKUPS))],
        1,
    )


def codes_from_logits(
    logits: torch.Tensor, channels: tuple[int, ...], bias: tuple[float, ...] | None = None
) -> np.ndarray:
    """Argmax per tile (after the calibrated `bias`, if any) → (B, H, W) uint8 semantic codes."""
    lut = np.asarray(channels, dtype=np.uint8)
    return lut[tile_scores(logits, bias).argmax(1).cpu().numpy()]


def tile_scores(logits: torch.Tensor, bias: tuple[float, ...] | None = None) -> torch.Tensor:
    """What the argmax per tile is taken over: the logits, or their log-probabilities plus the calibrated bias."""
    if bias is None:
        return logits
    return logits.log_softmax(1) + logits.new_tensor(bias)[None, :, None, None]


def calibrate_logit_bias(
    log_probs: torch.Tensor,
    channels: tuple[int, ...],
    train: np.ndarray,
    counted: np.ndarray,
    frozen: tuple[int, ...] = (),
    iterations: int = 60,
) -> tuple[float, ...]:
    """Per-channel offsets so that argmax decoding reproduces the training set's tile frequencies.

    An argmax drops rare tiles (enemies, treasure): the generator spreads a little of their probability over
    many tiles and the top class wins everywhere. Shifting each channel's log-probability by a constant, fitted
    on the generator's own outputs, restores the frequencies while keeping where each tile goes up to the
    generator. `counted` (H, W) marks the tiles to match (a room's interior; its frame is fixed anyway), and the
    `frozen` semantic codes keep a zero offset.
    """
    lut = np.asarray(channels, dtype=np.uint8)
    target = np.array([(train[:, counted] == c).mean() for c in lut])
    bias = np.zeros(len(lut))
    movable = np.array([c not in frozen for c in lut])
    base = log_probs.detach().cpu()
    for _ in range(iterations):
        decoded = lut[(base + torch.from_numpy(bias).float()[None, :, None, None]).argmax(1).numpy()]
        freq = np.array([(decoded[:, counted] == c).mean() for c in lut])
        bias += 0.5 * movable * np.log((target + 1e-4) / (freq + 1e-4))
    return tuple(float(b) for b in bias)
