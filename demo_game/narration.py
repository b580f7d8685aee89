"""The narrator in the game: its settings, the policy that drives it, the lines it shows and the log of its
decisions, which the end screen lists and which is saved as JSON beside the save file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.narrator.player_model import TYPES, PlayerModel, next_dungeon
from agents.narrator.session import DECISION_TICKS, NarratedRun
from agents.narrator.text import LANGUAGES
from engine.atomic import atomic_write_text
from engine.errors import SaveError
from engine.outside import parse_json, read_outside
from engine.sim import events as sim
from engine.sim.world import TICKS_PER_SECOND, Outcome, World
from procgen.levels.dungeon import DungeonSettings

FONTS = Path(__file__).resolve().parent / "fonts"
ZH_FONT = FONTS / "narrator-zh.ttf"
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
MAX_RUN_SECONDS = 3600
MAX_SETTINGS_BYTES = 64 * 1024
"""the settings are two fields"""
LOG_FORMAT = "ludoforge.narrator_log"


@dataclass(frozen=True)
class Settings:
    """The player's choices: the narrator's language and whether it speaks at all."""

    language: str = "en"
    narrator: bool = True

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language: expected one of {LANGUAGES}, got {self.language!r}")

    @property
    def font(self) -> str | None:
        """A font file with the glyphs the narrator's language needs (None: pygame's default)."""
        return str(ZH_FONT) if self.language == "zh" else None

    @classmethod
    def load(cls, path: Path) -> Settings:
        """The saved settings, or the defaults when there are none. A broken file is a SaveError naming it."""
        if not path.exists():
            return cls()
        try:
            data = parse_json(read_outside(path, limit=MAX_SETTINGS_BYTES), path)
            if not isinstance(data, dict) or not isinstance(data.get("narrator"), bool):
                raise ValueError("narrator: expected true or false")
            return cls(language=str(data["language"]), narrator=data["narrator"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SaveError(
                path, f"unreadable settings ({exc}); expected language (en|zh) and narrator"
            ) from exc

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(asdict(self), indent=1) + "\n")


def settings_path(save_path: Path) -> Path:
    return save_path.parent / "settings.json"


def narrator_policy(seed: int = 0) -> tuple[Any, str | None]:
    """The shipped PPO narrator (its choices sampled with `seed`, the run's), or the rule-based one and the
    reason when its file cannot be loaded."""
    try:
        from agents.narrator.policy import OnnxNarrator

        return OnnxNarrator(seed=seed), None
    except (ImportError, OSError, ValueError, RuntimeError) as exc:
        from agents.narrator.baselines import RuleBasedNarrator

        return RuleBasedNarrator(), f"The narrator uses its rules: {exc}"


def player_model(belief: np.ndarray | None = None) -> PlayerModel | None:
    """The shipped player model, starting from `belief` (what earlier floors taught it; None: the uniform
    prior), or None when its file cannot be read (the narrator then sees the prior)."""
    try:
        model = PlayerModel.load()
    except ValueError:
        return None
    if belief is not None:
        model.log_posterior = np.log(np.clip(np.asarray(belief, float), 1e-9, None))
    return model


class GameNarrator:
    """Watches the run tick by tick and, every two seconds of game time, lets the policy choose. `on_tick`
    returns the lines to show; `log` records every decision; `belief()` is the player model's posterior
    over the personas, which shapes the next floor (`next_floor_settings`)."""

    def __init__(self, world: World, language: str, policy: Any, model: PlayerModel | None = None) -> None:
        self.world = world
        self.policy = policy
        self.run = NarratedRun(
            world, MAX_RUN_SECONDS * TICKS_PER_SECOND, language, seed=world.seed, model=model
        )
        self.log: list[dict[str, Any]] = []
        self._pending: list[sim.Event] = []
        self.run.tick([])

    def on_tick(self, events: list[sim.Event]) -> list[str]:
        """Digest the World's tick; on a decision tick, act. Returns the lines to show."""
        self.run.tick(self._pending + events)
        self._pending = []
        w = self.world
        if w.outcome is not Outcome.RUNNING or w.tick % DECISION_TICKS:
            return []
        beats = sorted(self.run.window_beats)
        turn = self.run.act(self.policy.act(self.run.observe()))
        self._pending = turn.events  # what the intervention did reaches the beats with the next tick
        self.log.append(
            {
                "tick": w.tick,
                "seconds": w.tick / TICKS_PER_SECOND,
                "choice": turn.choice.value,
                "applied": turn.applied,
                "needed": turn.needed,
                "beats": beats,
                "line": turn.line,
            }
        )
        return [turn.line] if turn.line else []

    def belief(self) -> np.ndarray:
        return self.run.belief()

    def next_floor_settings(self) -> DungeonSettings:
        """The next dungeon, built to what the player model believes about this player."""
        self.run.close_window()
        return next_dungeon(self.belief())

    def interventions(self) -> list[dict[str, Any]]:
        """The decisions that did something (all but the silent ones)."""
        return [d for d in self.log if d["choice"] != "silent"]

    def save_log(self, path: Path) -> None:
        data = {
            "format": LOG_FORMAT,
            "seed": self.world.seed,
            "language": self.run.writer.language if self.run.writer else None,
            "policy": getattr(self.policy, "name", type(self.policy).__name__),
            "outcome": self.world.outcome.value,
            "seconds": self.world.tick / TICKS_PER_SECOND,
            "belief": dict(zip(TYPES, self.belief().round(3).tolist(), strict=True)),
            "decisions": self.log,
        }
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def log_path(save_path: Path) -> Path:
    return save_path.parent / "narrator_log.json"


__all__ = ["GameNarrator", "Settings", "log_path", "narrator_policy", "player_model", "settings_path"]
