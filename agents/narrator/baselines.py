"""The narrators the trained one is measured against: silent, random, and a rule-based drama manager, with
its designer's thresholds or with thresholds tuned by CMA-ES on the training personas (narrator_rules.json).

Each is a function of the observation alone (`act(obs) -> action index`), like the trained policy, so the
env, the evaluation and the game drive them all the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from agents.narrator.session import INTERVENTIONS, OBSERVATION, SINCE_LINE_SECONDS
from engine.errors import InputError
from engine.sim.interventions import Intervention

_AT = {name: i for i, name in enumerate(OBSERVATION)}
_INDEX = {c: i for i, c in enumerate(INTERVENTIONS)}
TUNED_RULES = Path(__file__).resolve().parents[1] / "policies" / "narrator_rules.json"
"""the shipped CMA-ES-tuned thresholds and their card (`ludoforge train narrator-rules`, then publish)"""


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


def _bounded(default: float, low: float, high: float, doc: str) -> float:
    return field(default=default, metadata={"bounds": (low, high), "doc": doc})


@dataclass(frozen=True)
class RuleParams:
    """The rule-based narrator's constants. The defaults are the designer's hand-set values (the untuned
    narrator); each field's `bounds` metadata is the box CMA-ES searches. Observation entries lie in [0, 1]
    (difficulty in [-1, 1]); a bound just past that range lets the search switch a rule off."""

    cooldown: float = _bounded(6.0, 0.0, 20.0, "seconds between lines, unless the player is in danger")
    lines_per_minute: float = _bounded(3.0, 0.5, 8.0, "at most this many lines in the last minute")
    potion_health: float = _bounded(0.375, 0.0, 1.0, "a potion at or below this health (fraction)")
    potion_gap: float = _bounded(2.0, 0.0, 10.0, "seconds since the last line before a danger potion")
    shield_damage: float = _bounded(2 / 3, 0.0, 1.01, "a shield at this recent damage (fraction of 3 hits)")
    easier_health: float = _bounded(0.5, 0.0, 1.0, "ease off at or below this health")
    easier_floor: float = _bounded(-0.5, -1.01, 1.0, "ease off only while difficulty (-1..1) is above this")
    stall_hint: float = _bounded(0.25, 0.0, 1.01, "show the way from this much time stalled (1 = 16 s)")
    stall_lantern: float = _bounded(0.75, 0.0, 1.01, "a lantern instead from this much time stalled")
    warn_hunting: float = _bounded(0.0, 0.0, 1.01, "warn at an ambush when more than this many hunt (1 = 3)")
    foreshadow_margin: float = _bounded(
        1.0, -1.0, 1.0, "foreshadow at keys and doors unless tension exceeds the curve by more than this"
    )
    calm_margin: float = _bounded(0.2, -0.3, 0.6, "raise the stakes when tension is this far below the curve")
    stakes_health: float = _bounded(0.6, 0.0, 1.01, "raise the stakes only above this health")
    stakes_gap: float = _bounded(10.0, 0.0, 20.0, "seconds since the last line before raising the stakes")
    harder_ceiling: float = _bounded(0.5, -1.01, 1.0, "harder only while difficulty is below this")
    tense_margin: float = _bounded(0.3, 0.0, 1.0, "ease off when tension is this far above the curve")
    lore_treasure: float = _bounded(
        0.0, 0.0, 1.01, "lore at the start or a treasure while more than this is left"
    )

    @classmethod
    def bounds(cls) -> dict[str, tuple[float, float]]:
        return {f.name: f.metadata["bounds"] for f in fields(cls)}

    @classmethod
    def from_dict(cls, values: dict, source: str | Path = "params") -> RuleParams:
        """Validated against the field names and bounds; an error names the source and the field."""
        bounds = cls.bounds()
        unknown = sorted(set(values) - set(bounds))
        if unknown:
            raise InputError(f"{source}: {unknown[0]}", f"unknown; expected one of {sorted(bounds)}")
        for name, value in values.items():
            low, high = bounds[name]
            if not isinstance(value, int | float) or not low <= value <= high:
                raise InputError(f"{source}: {name}", f"expected a number in [{low}, {high}], got {value!r}")
        return cls(**{k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class RuleBasedNarrator:
    """A hand-written drama manager, as a designer would write one: heal and shield a hurt player, ease off
    when they are taking a beating, show the way to a stalled one, warn of an ambush, foreshadow at keys and
    locked doors, raise the stakes when the run is calmer than the pacing curve, and tell lore at the start
    and at treasure. At most `lines_per_minute`, and `cooldown` seconds between lines unless the player is
    in danger. `params` holds every threshold (RuleParams; its defaults are the designer's)."""

    name = "rule-based"

    def __init__(self, params: RuleParams | None = None) -> None:
        self.params = params or RuleParams()

    def act(self, obs: np.ndarray) -> int:
        return _INDEX[self.choose(obs)]

    def choose(self, obs: np.ndarray) -> Intervention:
        def v(name: str) -> float:
            return float(obs[_AT[name]])

        p = self.params
        health, since_line = v("health"), v("since_line") * SINCE_LINE_SECONDS
        quiet = since_line >= p.cooldown and v("lines_last_minute") * 6 < p.lines_per_minute
        if health <= p.potion_health and not v("potion_waiting") and since_line >= p.potion_gap:
            return Intervention.POTION  # danger overrides the cooldown
        if not quiet:
            return Intervention.SILENT
        if v("recent_damage") >= p.shield_damage and not v("shield"):
            return Intervention.ENCOURAGE
        if health <= p.easier_health and v("difficulty") > p.easier_floor:
            return Intervention.EASIER
        if v("stalled") >= p.stall_hint and not v("guide_shown"):
            if v("stalled") >= p.stall_lantern and not v("lantern") and not v("lantern_waiting"):
                return Intervention.HELPER_ITEM
            return Intervention.HINT
        if v("beat_ambush") and v("hunting_near") > p.warn_hunting:
            return Intervention.WARN
        gap = v("tension") - v("target_tension")
        if (v("beat_first_key") or v("beat_locked_door")) and gap <= p.foreshadow_margin:
            return Intervention.FORESHADOW
        if -gap > p.calm_margin and health > p.stakes_health and since_line >= p.stakes_gap:
            if v("summoned") == 0:
                return Intervention.ENEMY_WAVE
            if v("difficulty") < p.harder_ceiling:
                return Intervention.HARDER
        if gap > p.tense_margin and v("difficulty") > p.easier_floor:
            return Intervention.EASIER
        if (
            (v("beat_intro") or v("beat_treasure"))
            and v("treasure_left") > p.lore_treasure
            and not v("treasure_marked")
        ):
            return Intervention.LORE
        return Intervention.SILENT


class TunedRuleNarrator(RuleBasedNarrator):
    """The same rules with the thresholds CMA-ES tuned on the training personas, read from `path` (the shipped
    agents/policies/narrator_rules.json by default); `card` holds the rest of the file (command, seed, budget,
    training return, date)."""

    name = "rule-based (tuned)"

    def __init__(self, path: str | Path = TUNED_RULES) -> None:
        self.path = Path(path)
        try:
            card = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(str(self.path), f"expected a narrator-rules JSON card ({exc})") from exc
        if not isinstance(card, dict) or not isinstance(card.get("params"), dict):
            raise InputError(f"{self.path}: params", "expected an object of threshold name -> number")
        self.card = card
        super().__init__(RuleParams.from_dict(card["params"], self.path))


__all__ = ["RandomNarrator", "RuleBasedNarrator", "RuleParams", "SilentNarrator", "TunedRuleNarrator"]
