"""Texture quality measures, each exactly as DESIGN.md defines it. Images are (H, W, 3) uint8 or float arrays.

- seam ratio: the wrap seam's mean absolute difference over the interior's (near 1 means seamless), measured
  where the texture is cut without looking at its pixels (`SEAM_GOAL`; a cut photograph scores 1.7 to 3.9);
- references for it: random crops of a photograph (not periodic) and its periodic component (Moisan 2011);
- Gram distance: style statistics of a fixed random-weight CNN (Ustyuzhaninov et al.: random filters are enough
  for texture; no pretrained weights exist offline);
- diversity: mean pairwise distance between samples;
- nearest-neighbour patch distance: how close each generated patch comes to some exemplar patch, so copying shows.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

SEAM_GOAL = 1.1
"""The goal for the mean seam ratio at random cuts: a cut no more visible than the mean neighbouring pair,
within 10%. An exactly periodic texture cut at random scores 1 in expectation (its wrap is one more pair)."""
RANDOM_CNN_SEED = 1234
RANDOM_CNN_WIDTHS = (48, 96, 192)


def _float(img: np.ndarray) -> np.ndarray:
    arr = np.asarray(img, dtype=np.float64)
    return arr / 255.0 if np.asarray(img).dtype == np.uint8 else arr


def seam_ratio(img: np.ndarray) -> float:
    """Mean |last column − first column| and |last row − first row| (the wrap seam), divided by the mean
    absolute difference between neighbouring interior columns and rows."""
    a = _float(img)
    seam = np.concatenate([np.abs(a[:, -1] - a[:, 0]).ravel(), np.abs(a[-1] - a[0]).ravel()]).mean()
    inner = np.concatenate([np.abs(np.diff(a, axis=1)).ravel(), np.abs(np.diff(a, axis=0)).ravel()]).mean()
    return float(seam / max(inner, 1e-12))


def seam_ratios(images: np.ndarray) -> np.ndarray:
    """`seam_ratio` of each image of an (N, H, W, 3) batch, each measured at its own edge, never rolled: a roll
    moves a real cut inside, where the wrap measure cannot see it."""
    return np.array([seam_ratio(img) for img in images])


def meets_seam_goal(images: np.ndarray, goal: float = SEAM_GOAL) -> bool:
    """The check the tests and the eval apply: the mean seam ratio of images cut at random is ≤ `goal`."""
    return bool(seam_ratios(images).mean() <= goal)


def random_crops(img: np.ndarray, size: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` size² windows of one (H, W, 3) image at random offsets: a photograph cut at random, which does not
    tile (the reference a seamless texture is told apart from)."""
    ys = rng.integers(0, img.shape[0] - size + 1, n)
    xs = rng.integers(0, img.shape[1] - size + 1, n)
    return np.stack([img[y : y + size, x : x + size] for y, x in zip(ys, xs, strict=True)])


def periodic_component(img: np.ndarray) -> np.ndarray:
    """Moisan's periodic + smooth decomposition ("Periodic plus smooth image decomposition", 2011): the image
    minus the smooth component that carries its boundary jumps. The result is exactly periodic and keeps the
    image's detail: the classic non-learned way to make a photograph tile. Same dtype and shape as `img`."""
    u = np.asarray(img, dtype=np.float64)
    h, w = u.shape[:2]
    v = np.zeros_like(u)
    v[0] += u[-1] - u[0]
    v[-1] -= u[-1] - u[0]
    v[:, 0] += u[:, -1] - u[:, 0]
    v[:, -1] -= u[:, -1] - u[:, 0]
    q = np.cos(2 * np.pi * np.arange(h) / h)[:, None]
    r = np.cos(2 * np.pi * np.arange(w) / w)[None, :]
    denom = 2 * q + 2 * r - 4
    denom[0, 0] = 1.0
    s_hat = np.fft.fft2(v, axes=(0, 1)) / (denom[..., None] if u.ndim == 3 else denom)
    s_hat[0, 0] = 0
    p = u - np.fft.ifft2(s_hat, axes=(0, 1)).real
    if np.asarray(img).dtype == np.uint8:
        return p.round().clip(0, 255).astype(np.uint8)
    return p


class RandomFeatures(nn.Module):
    """Conv-ReLU stages (3x3, then 2x average pooling between them) with fixed random He-scaled weights drawn
    from `seed`: the same net on every machine. The measures use the defaults; style transfer builds its own."""

    def __init__(
        self,
        seed: int = RANDOM_CNN_SEED,
        widths: tuple[int, ...] = RANDOM_CNN_WIDTHS,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList()
        cin = 3
        for cout in widths:
            conv = nn.Conv2d(cin, cout, 3, padding=1, padding_mode=padding_mode, bias=False)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * (2.0 / (9 * cin)) ** 0.5)
            self.convs.append(conv)
            cin = cout
        self.requires_grad_(False)

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        """(B, 3, H, W) in [0, 1] → one feature map per stage."""
        x = rgb - 0.5
        out = []
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            out.append(x)
            if i < len(self.convs) - 1:
                x = F.avg_pool2d(x, 2)
        return out


@lru_cache(maxsize=1)
def random_features() -> RandomFeatures:
    return RandomFeatures().eval()


def gram_matrices(rgb: torch.Tensor) -> list[torch.Tensor]:
    """Per stage, (B, C, C) Gram matrices of the random features, averaged over positions."""
    grams = []
    for f in random_features()(rgb):
        flat = f.flatten(2)
        grams.append(flat @ flat.transpose(1, 2) / flat.shape[-1])
    return grams


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(H, W, 3) or (N, H, W, 3) uint8/float images → (N, 3, H, W) float32 in [0, 1]."""
    arr = _float(images)
    if arr.ndim == 3:
        arr = arr[None]
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2))).float()


@torch.no_grad()
def gram_distance(samples: np.ndarray, exemplar: np.ndarray) -> np.ndarray:
    """Per sample: Σ over stages of ‖G(sample) − G(exemplar)‖² / ‖G(exemplar)‖², averaged over the stages."""
    ref = gram_matrices(to_tensor(exemplar))
    got = gram_matrices(to_tensor(samples))
    per_stage = [
        ((g - r).pow(2).sum((1, 2)) / r.pow(2).sum((1, 2))).numpy() for g, r in zip(got, ref, strict=True)
    ]
    return np.mean(per_stage, axis=0)


def shuffled_patches(img: np.ndarray, patch: int, rng: np.random.Generator) -> np.ndarray:
    """The image cut into `patch`-sized squares, shuffled: right local statistics, broken structure."""
    h, w = img.shape[0] // patch * patch, img.shape[1] // patch * patch
    blocks = (
        img[:h, :w]
        .reshape(h // patch, patch, w // patch, patch, -1)
        .swapaxes(1, 2)
        .reshape(-1, patch, patch, img.shape[2])
    )
    blocks = blocks[rng.permutation(len(blocks))].reshape(h // patch, w // patch, patch, patch, -1)
    return blocks.swapaxes(1, 2).reshape(h, w, -1)


def diversity(samples: np.ndarray) -> float:
    """Mean pairwise mean-absolute pixel difference (in [0, 1] units) between samples of one size."""
    a = _float(samples).reshape(len(samples), -1)
    if len(a) < 2:
        return 0.0
    total, pairs = 0.0, 0
    for i in range(len(a) - 1):
        total += float(np.abs(a[i + 1 :] - a[i]).mean(1).sum())
        pairs += len(a) - 1 - i
    return total / pairs


def nearest_patch_distance(
    samples: np.ndarray, exemplar: np.ndarray, patch: int = 16, per_sample: int = 64, seed: int = 0
) -> float:
    """Mean, over random `patch`² patches of the samples, of the RMS distance to the nearest exemplar patch (all
    positions, stride 2). Near 0 means the generator copies the exemplar."""
    rng = np.random.default_rng(seed)
    ex = to_tensor(exemplar)
    bank = F.unfold(ex, patch, stride=2).squeeze(0).T  # (P, 3·patch²)
    queries = []
    for img in _float(samples).reshape(-1, *np.asarray(samples).shape[-3:]):
        ys = rng.integers(0, img.shape[0] - patch + 1, per_sample)
        xs = rng.integers(0, img.shape[1] - patch + 1, per_sample)
        queries += [
            img[y : y + patch, x : x + patch].transpose(2, 0, 1).ravel() for y, x in zip(ys, xs, strict=True)
        ]
    q = torch.from_numpy(np.stack(queries)).float()
    d2 = (q.pow(2).sum(1, keepdim=True) - 2 * q @ bank.T + bank.pow(2).sum(1)[None]).clamp_min(0)
    return float((d2.min(1).values / q.shape[1]).sqrt().mean())
