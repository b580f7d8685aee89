"""Pieces every GAN trainer here shares; the training loops themselves stay one readable file each."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, decay: float) -> None:
    """Move the EMA copy's parameters toward the live net's by (1 - decay); copy its buffers (BatchNorm stats)."""
    for p_ema, p in zip(ema.parameters(), net.parameters(), strict=True):
        p_ema.lerp_(p, 1 - decay)
    for b_ema, b in zip(ema.buffers(), net.buffers(), strict=True):
        b_ema.copy_(b)


def checkpoint_tensors(generator: nn.Module, critic: nn.Module, ema: nn.Module) -> dict[str, torch.Tensor]:
    """All three nets' tensors under the prefixes generator., critic. and ema. (what --from-checkpoint reads)."""
    tensors = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    tensors |= {f"critic.{k}": v for k, v in critic.state_dict().items()}
    tensors |= {f"ema.{k}": v for k, v in ema.state_dict().items()}
    return tensors
