"""Style transfer with no pretrained network: Gatys et al.'s optimisation over a fixed random-weight CNN.

    from procgen.textures.style import transfer
    restyled = transfer(content_rgb, style_rgb, steps=100)          # (H, W, 3) uint8

Random filters carry texture statistics well (Ustyuzhaninov et al.), which is all style transfer asks of them;
no weights are downloaded. The image is optimised from the content, first moved to the style's colour mean and
spread per channel, so that the Gram matrices of its features approach the style's while its shallow feature
maps (the edges and layout) stay near the content's.

The network here is deliberately not the one `procgen.metrics.textures` measures with (another seed, other
widths and depths): the Gram distance in the report is then a check on held-out features, not on the very
quantity that was optimised. With `periodic=True` the convolutions wrap round, so a seamless texture stays
seamless.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from procgen.metrics.textures import RandomFeatures

STYLE_NET_SEED = 20_251
STYLE_NET_WIDTHS = (32, 64, 128, 128)
CONTENT_STAGE = 1
MAX_PIXELS = 1024 * 1024
MAX_STEPS = 2000


def style_features(periodic: bool) -> RandomFeatures:
    """Four random conv stages, another seed and other widths than the measuring net's."""
    pad = "circular" if periodic else "reflect"
    return RandomFeatures(STYLE_NET_SEED, STYLE_NET_WIDTHS, pad).eval()


def _gram(f: torch.Tensor) -> torch.Tensor:
    flat = f.flatten(2)
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def _to_tensor(img: np.ndarray, name: str) -> torch.Tensor:
    arr = np.asarray(img)
    if arr.ndim != 3 or arr.shape[2] < 3 or arr.dtype != np.uint8:
        raise ValueError(f"{name}: expected an (H, W, 3) uint8 RGB image, got {arr.dtype} {arr.shape}")
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS or min(arr.shape[:2]) < 16:
        raise ValueError(f"{name}: {arr.shape[1]}x{arr.shape[0]} pixels; expected 16..{MAX_PIXELS} pixels")
    return torch.from_numpy(np.array(arr[..., :3])).permute(2, 0, 1)[None].float() / 255.0


def match_colour(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Content shifted and scaled per channel to the style's mean and spread."""
    c_mean, c_std = content.mean((2, 3), keepdim=True), content.std((2, 3), keepdim=True) + 1e-5
    s_mean, s_std = style.mean((2, 3), keepdim=True), style.std((2, 3), keepdim=True)
    return ((content - c_mean) / c_std * s_std + s_mean).clamp(0, 1)


def transfer(
    content: np.ndarray,
    style: np.ndarray,
    steps: int = 100,
    style_weight: float = 1.0,
    content_weight: float = 0.3,
    periodic: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """`content` restyled toward `style`: (H, W, 3) uint8 in, (H, W, 3) uint8 out, deterministic."""
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps: expected 1..{MAX_STEPS}, got {steps}")
    c, s = _to_tensor(content, "content"), _to_tensor(style, "style")
    net = style_features(periodic)
    with torch.no_grad():
        target_grams = [_gram(f) for f in net(s)]
        target_content = net(c)[CONTENT_STAGE]
    # Optimise in logit space, so pixels stay in (0, 1) without clipping away their gradients.
    start = match_colour(c, s).clamp(1e-3, 1 - 1e-3)
    logits = torch.logit(start).requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=0.05)
    for _ in tqdm(range(steps), desc="style transfer", unit="step", disable=not progress):
        img = torch.sigmoid(logits)
        feats = net(img)
        style_loss = sum(
            (_gram(f) - g).pow(2).sum() / g.pow(2).sum() for f, g in zip(feats, target_grams, strict=True)
        )
        content_loss = (feats[CONTENT_STAGE] - target_content).pow(2).mean() / target_content.pow(2).mean()
        loss = style_weight * style_loss + content_weight * content_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    out = torch.sigmoid(logits.detach())[0].permute(1, 2, 0).numpy()
    return (out * 255).round().astype(np.uint8)


def edge_map(img: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the luminance: where the structure (edges, layout) of an image lies."""
    lum = torch.from_numpy(np.asarray(img, np.float32)[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    x = F.pad(lum[None, None], (1, 1, 1, 1), mode="replicate")
    gx, gy = F.conv2d(x, kx[None, None]), F.conv2d(x, kx.T[None, None])
    return torch.hypot(gx, gy)[0, 0].numpy()


def edge_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images' edge maps (1: the same structure)."""
    ea, eb = edge_map(a).ravel(), edge_map(b).ravel()
    return float(np.corrcoef(ea, eb)[0, 1])
