"""The player model: which of the training personas the person playing resembles, as a posterior updated from
play every two seconds, and the next dungeon's generation targets that suit them.

Each two-second window of play is summarised as FEATURES (how much the player moved, made progress, stalled,
took treasure, took and dealt damage, and how close they let hunting enemies come). A Gaussian naive Bayes
model per persona, fitted on simulated players (`ludoforge train player-model`), scores each window; the
log-posterior adds the windows' tempered log-likelihoods (TEMPER keeps it from trusting correlated windows
as independent evidence). The narrator sees the posterior in its observation, and the game turns it into
the next floor's targets (`next_dungeon`): the targets of each persona, weighted by the posterior.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.narrator.players import TRAINING_TYPES
from agents.policies.onnx_policy import POLICY_DIR
from engine.level import Semantic
from engine.outside import parse_json, read_outside
from engine.sim import events as sim
from engine.sim.world import World
from procgen.levels.dungeon import DungeonSettings

TYPES: tuple[str, ...] = tuple(TRAINING_TYPES)
FEATURES: tuple[str, ...] = (
    "moving",
    "progressing",
    "stalled",
    "treasure",
    "damage_taken",
    "damage_dealt",
    "hazard_steps",
    "enemy_distance",
)
"""per window: fractions of its ticks (moving, progressing, stalled), counts (treasure, damage taken and dealt,
hazard steps), and the mean Chebyshev distance to the nearest hunting enemy, over 8 (1 when none)"""
TEMPER = 0.3
MODEL_FILE = POLICY_DIR / "player_model.json"
MIN_STD = 0.05

TARGETS: dict[str, dict[str, float]] = {
    "explorer": {"rooms": 8, "branches": 3, "enemies": 1.2, "hazard": 0.03, "pickups": 2.0},
    "speedrunner": {"rooms": 9, "branches": 1, "enemies": 1.2, "hazard": 0.03, "pickups": 0.5},
    "cautious": {"rooms": 7, "branches": 2, "enemies": 0.6, "hazard": 0.01, "pickups": 1.0},
    "novice": {"rooms": 5, "branches": 1, "enemies": 0.5, "hazard": 0.01, "pickups": 1.0},
    "completionist": {"rooms": 7, "branches": 3, "enemies": 1.0, "hazard": 0.03, "pickups": 2.5},
}
"""the dungeon each persona enjoys: length (rooms on the path, side branches), and per room the enemies, the
hazard fraction and the treasure, as the room GAN's density conditions"""


class WindowFeatures:
    """Accumulates one window's FEATURES tick by tick."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ticks = 0
        self.sums = np.zeros(len(FEATURES))

    def tick(self, world: World, events: list[sim.Event], progressed: bool, stalled: bool) -> None:
        p = world.player
        hunting = [
            max(abs(n.x - p.x), abs(n.y - p.y))
            for n in world.npcs
            if n.alive and n.kind is Semantic.ENEMY and n.alerted
        ]
        near = min([d for d in hunting if d <= 8], default=8) / 8
        counts = np.zeros(len(FEATURES))
        counts[0] = float((p.x, p.y) != (p.prev_x, p.prev_y))
        counts[1] = float(progressed)
        counts[2] = float(stalled)
        counts[7] = near
        for e in events:
            match e:
                case sim.TreasureFound():
                    counts[3] += 1
                case sim.DamageTaken(target=sim.PLAYER_ID, source=source):
                    counts[4] += 1
                    counts[6] += source == "hazard"
                case sim.DamageTaken(source="player"):
                    counts[5] += 1
        self.sums += counts
        self.ticks += 1

    def vector(self) -> np.ndarray:
        """The window's features: means for the fractions and the distance, totals for the counts."""
        v = self.sums.copy()
        if self.ticks:
            for i in (0, 1, 2, 7):
                v[i] /= self.ticks
        return v


@dataclass
class PlayerModel:
    """Gaussian naive Bayes over window features, one Gaussian per persona and feature."""

    means: np.ndarray  # (len(TYPES), len(FEATURES))
    stds: np.ndarray
    log_posterior: np.ndarray = field(default_factory=lambda: np.zeros(len(TYPES)))

    @classmethod
    def fit(cls, windows: dict[str, np.ndarray]) -> PlayerModel:
        """From each persona's window features (n, len(FEATURES))."""
        means = np.stack([windows[t].mean(axis=0) for t in TYPES])
        stds = np.maximum(np.stack([windows[t].std(axis=0) for t in TYPES]), MIN_STD)
        return cls(means, stds)

    @classmethod
    def load(cls, path: str | Path = MODEL_FILE) -> PlayerModel:
        """The shipped model; a missing or malformed file is a ValueError naming it and the field."""
        path = Path(path)
        try:
            data = parse_json(read_outside(path, limit=1024 * 1024), path)
            means, stds = np.asarray(data["means"], float), np.asarray(data["stds"], float)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a player model ({exc})") from exc
        if data.get("types") != list(TYPES) or data.get("features") != list(FEATURES):
            raise ValueError(f"{path}: types/features: expected {list(TYPES)} and {list(FEATURES)}")
        if means.shape != (len(TYPES), len(FEATURES)) or stds.shape != means.shape or (stds <= 0).any():
            raise ValueError(
                f"{path}: means/stds: expected positive arrays of shape {(len(TYPES), len(FEATURES))}"
            )
        return cls(means, stds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "types": list(TYPES),
            "features": list(FEATURES),
            "means": self.means.round(5).tolist(),
            "stds": self.stds.round(5).tolist(),
            "temper": TEMPER,
        }

    def reset(self) -> None:
        self.log_posterior = np.zeros(len(TYPES))

    def update(self, features: np.ndarray) -> None:
        z = (features[None, :] - self.means) / self.stds
        log_likelihood = -0.5 * (z**2).sum(axis=1) - np.log(self.stds).sum(axis=1)
        self.log_posterior = self.log_posterior + TEMPER * log_likelihood
        self.log_posterior -= self.log_posterior.max()

    def posterior(self) -> np.ndarray:
        p = np.exp(self.log_posterior - self.log_posterior.max())
        return p / p.sum()

    def most_likely(self) -> str:
        return TYPES[int(self.log_posterior.argmax())]


def next_dungeon(posterior: np.ndarray, base: DungeonSettings | None = None) -> DungeonSettings:
    """The next floor's settings: each persona's TARGETS weighted by the posterior, through DungeonSettings'
    length fields and the room GAN's density conditions."""
    base = base or DungeonSettings()
    w = np.asarray(posterior, float) / np.sum(posterior)
    mix = {
        k: float(sum(wi * TARGETS[t][k] for wi, t in zip(w, TYPES, strict=True))) for k in TARGETS["novice"]
    }
    rooms = round(mix["rooms"])
    return DungeonSettings(
        rooms=rooms,
        branches=min(round(mix["branches"]), rooms),
        locked_doors=min(base.locked_doors, rooms - 2),
        room_density=(
            ("enemies", round(mix["enemies"], 2)),
            ("hazard", round(mix["hazard"], 3)),
            ("pickups", round(mix["pickups"], 2)),
        ),
    )


__all__ = ["FEATURES", "TARGETS", "TYPES", "PlayerModel", "WindowFeatures", "next_dungeon"]
