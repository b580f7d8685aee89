"""Pieces every GAN trainer here shares; the training loops themselves stay one readable file each."""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


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


def checkpoint_part(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """One net's state dict out of `checkpoint_tensors`' output: `prefix` is "generator", "critic" or "ema"."""
    return {k.removeprefix(f"{prefix}."): v for k, v in tensors.items() if k.startswith(f"{prefix}.")}


def hinge_losses(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's hinge loss (for a patch critic, every patch score is one vote)."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def run_facts(train_seconds: float | None, device: torch.device | str | None = None) -> dict[str, Any]:
    """The weights-card fields every trainer records about the run itself: time, device, versions, date."""
    facts: dict[str, Any] = {"train_seconds": None if train_seconds is None else round(train_seconds, 1)}
    if device is not None:
        facts["device"] = str(device)
    return facts | {
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "date": dt.date.today().isoformat(),
    }


SHIPPED_SEED = 1
"""the training seed of every shipped policy; runs at other seeds ship beside it as its siblings"""


def seeded_name(name: str, seed: int) -> str:
    """A run's name: `name` for the shipped seed, `<name>_seed<N>` for a sibling (its run folder or file stem,
    and where it publishes)."""
    return name if seed == SHIPPED_SEED else f"{name}_seed{seed}"


def publish_target(publish_as: str, name: str, seed: int) -> str:
    """The card's `publish_as`: `publish_as` itself unless it is "auto", which means the shipped artefact
    (agents/policies/<name>) for the shipped seed and a sibling (agents/policies/seeds/<name>_seed<N>, which the
    evaluations aggregate over) for any other seed."""
    if publish_as != "auto":
        return publish_as
    folder = "agents/policies" if seed == SHIPPED_SEED else "agents/policies/seeds"
    return f"{folder}/{seeded_name(name, seed)}"
