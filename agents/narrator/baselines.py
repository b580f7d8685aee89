"""The narrators the trained one is measured against: silent, random, and a rule-based drama manager.

Each is a function of the observation alone (`act(obs) -> action index`), like the trained policy, so the
env, the evaluation and the game drive them all the same way.
"""

from __future__ import annotations

import numpy as np

from agents.narrator.session import INTERVENTIONS, OBSERVATION, SINCE_LINE_SECONDS
from engine.sim.interventions import Intervention

_AT = {name: i for i, name in enumerate(OBSERVATION)}
_INDEX = {c: i for i, c in enumerate(INTERVENTIONS)}


class SilentNarrator:
    """Never intervenes: the game without a narrator."""

    name = "silent"

    def act(self, obs: np.ndarray) -> int:
        return 0


class RandomNarrator:
    """Picks uniformly among the eleven choices every two seconds."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> int:
        return int(self.rng.integers(len(INTERVENTIONS)))


class RuleBasedNarrator:
    """A hand-written drama manager, as a designer would write one: heal and shield a hurt player, ease off
    when they are taking a beating, show the way to a stalled one, warn of an ambush, foreshadow at keys and
    locked doors, raise the stakes when the run is calmer than the pacing curve, and tell lore at the start
    and at treasure. At most MAX_LINES_PER_MINUTE, and COOLDOWN seconds between lines unless the player is
    in danger."""

    name = "rule-based"
    COOLDOWN = 6.0
    MAX_LINES_PER_MINUTE = 3

    def act(self, obs: np.ndarray) -> int:
        return _INDEX[self.choose(obs)]

    def choose(self, obs: np.ndarray) -> Intervention:
        def v(name: str) -> float:
            return float(obs[_AT[name]])

        health, since_line = v("health"), v("since_line") * SINCE_LINE_SECONDS
        quiet = since_line >= self.COOLDOWN and v("lines_last_minute") * 6 < self.MAX_LINES_PER_MINUTE
        if health <= 0.375 and not v("potion_waiting") and since_line >= 2.0:
            return Intervention.POTION  # danger overrides the cooldown
        if not quiet:
            return Intervention.SILENT
        if v("recent_damage") >= 2 / 3 and not v("shield"):
            return Intervention.ENCOURAGE
        if health <= 0.5 and v("difficulty") > -0.5:
            return Intervention.EASIER
        if v("stalled") >= 0.25 and not v("guide_shown"):
            if v("stalled") >= 0.75 and not v("lantern") and not v("lantern_waiting"):
                return Intervention.HELPER_ITEM
            return Intervention.HINT
        if v("beat_ambush") and v("hunting_near") > 0:
            return Intervention.WARN
        if v("beat_first_key") or v("beat_locked_door"):
            return Intervention.FORESHADOW
        calm = v("tension") < v("target_tension") - 0.2
        if calm and health > 0.6 and since_line >= 10.0:
            if v("summoned") == 0:
                return Intervention.ENEMY_WAVE
            if v("difficulty") < 0.5:
                return Intervention.HARDER
        if v("tension") > v("target_tension") + 0.3 and v("difficulty") > -0.5:
            return Intervention.EASIER
        if (v("beat_intro") or v("beat_treasure")) and v("treasure_left") > 0 and not v("treasure_marked"):
            return Intervention.LORE
        return Intervention.SILENT


__all__ = ["RandomNarrator", "RuleBasedNarrator", "SilentNarrator"]
