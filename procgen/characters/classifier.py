"""The sprite classifier that scores recognisability: a small CNN trained on the sprite corpus
(`procgen.characters.train_classifier`), shipped as safetensors plus a card. It judges the GAN; it never trains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import nn

from procgen.core.weights import WEIGHTS_DIR, card_config, load_into, load_weights

CLASSIFIER_WEIGHTS = WEIGHTS_DIR / "sprites_classifier"


class SpriteClassifierNet(nn.Module):
    """(B, 4, 32, 32) RGBA in [-1, 1] → class logits."""

    def __init__(self, classes: int, width: int = 32) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(4, w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8
            nn.Conv2d(2 * w, 4 * w, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(4 * w, classes),
        )

    def forward(self, rgba: torch.Tensor) -> torch.Tensor:
        return self.body(rgba)


def to_tensor(sprites: np.ndarray) -> torch.Tensor:
    """(N, H, W, 4) uint8 → (N, 4, H, W) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(sprites)).permute(0, 3, 1, 2).float().div(127.5).sub(1)


@dataclass(frozen=True)
class ClassifierConfig:
    """What the classifier's card says of its net."""

    classes: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1, max_length=64)]
    width: Annotated[int, Field(ge=1, le=1024)] = 32

    def __post_init__(self) -> None:
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes: a name appears twice in {list(self.classes)}")


class SpriteClassifier:
    def __init__(self, net: SpriteClassifierNet, classes: tuple[str, ...]) -> None:
        self.net = net.eval()
        self.classes = classes

    @classmethod
    def pretrained(cls) -> SpriteClassifier:
        return cls.from_weights(CLASSIFIER_WEIGHTS)

    @classmethod
    def from_weights(cls, stem: str | Path) -> SpriteClassifier:
        tensors, card = load_weights(stem)
        cfg = card_config(ClassifierConfig, card, Path(stem).with_suffix(".json"))
        net = SpriteClassifierNet(len(cfg.classes), cfg.width)
        load_into(net, tensors, stem)
        return cls(net, cfg.classes)

    @torch.no_grad()
    def predict(self, sprites: np.ndarray) -> np.ndarray:
        """(N, 32, 32, 4) uint8 → (N,) class indices."""
        out = [self.net(to_tensor(sprites[i : i + 512])).argmax(1) for i in range(0, len(sprites), 512)]
        return torch.cat(out).numpy()

    def accuracy(self, sprites: np.ndarray, cls: str) -> float:
        """The share of `sprites` labelled `cls`."""
        return float((self.predict(sprites) == self.classes.index(cls)).mean())
