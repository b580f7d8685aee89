"""The narrator's lines, from a Tracery-style grammar in English or Simplified Chinese.

A grammar (`agents/narrator/lines/<language>.json`) maps symbols to alternative expansions; `#symbol#` inside an
expansion is replaced by an expansion of that symbol, recursively (Kate Compton's Tracery). Of Tracery's modifiers only
`.cap` (capitalise the first letter) is kept: Chinese needs none, and English sentences need only that. We keep our own
expander rather than the `tracery` package: it is a few lines, the package has not been released since 2017,
and we need what it lacks: typed game facts as symbols, validation that names the file and the symbol, and
the no-repeat rule.

A line is asked for with the narrator's action and the current beat. The symbol `<action>@<beat>` (a line
written for that moment) is used when the grammar has it, mixed with the action's general lines `<action>`.
Game state enters as symbols filled from `Facts`: generated room names, the item or enemy concerned, the
direction of the objective, the player's history. No line repeats within the last `RECENT` lines; when a
moment cannot produce a fresh line, the narrator stays silent rather than repeat itself.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.errors import FileFormatError, LudoforgeError
from engine.outside import parse_json, read_outside

LANGUAGES: tuple[str, ...] = ("en", "zh")
RECENT = 20
"""a line is never said again within this many lines"""
LINES_DIR = Path(__file__).resolve().parent / "lines"
MAX_GRAMMAR_BYTES = 4 * 1024 * 1024
"""a grammar is about 20 KB; a file far larger is not one"""

BEATS: tuple[str, ...] = (
    "intro",
    "first_key",
    "locked_door",
    "ambush",
    "low_health",
    "lost",
    "treasure",
    "near_exit",
    "victory",
    "death",
)
"""the story moments the narrator reacts to"""

SPOKEN_ACTIONS: tuple[str, ...] = (
    "hint",
    "foreshadow",
    "lore",
    "encourage",
    "warn",
    "helper_item",
    "enemy_wave",
    "potion",
    "harder",
    "easier",
)
"""the narrator's actions that come with a line (staying silent is the one that does not)"""

DIRECTIONS: tuple[str, ...] = ("north", "south", "east", "west", "here")
ITEMS: tuple[str, ...] = ("key", "potion", "treasure", "helper")
ENEMIES: tuple[str, ...] = ("hunter", "guard")
FACT_SYMBOLS = frozenset(
    {"room", "next_room", "item", "enemy", "direction", "health", "deaths", "keys_held", "treasures", "floor"}
)
"""symbols filled from Facts, not from the grammar"""
_SYMBOL = re.compile(r"#([a-z0-9_@]+)(\.cap)?#")
_MAX_DEPTH = 8
_TRIES = 48


class GrammarError(LudoforgeError, ValueError):
    """A grammar file that is missing, malformed or refers to a symbol nobody defines."""


@dataclass(frozen=True)
class Facts:
    """What the narrator knows of the run when it speaks."""

    room_id: int = 0  # the current room (its name is generated from the id)
    next_room_id: int = 1
    item: str = "key"  # one of ITEMS: the item a line is about
    enemy: str = "hunter"  # one of ENEMIES
    direction: str = "north"  # one of DIRECTIONS: where the objective lies
    health: int = 8
    deaths: int = 0  # earlier deaths this session
    keys_held: int = 0
    treasures: int = 0  # treasure found this run
    floor: int = 1  # dungeon number this session

    def __post_init__(self) -> None:
        for name, allowed in (("item", ITEMS), ("enemy", ENEMIES), ("direction", DIRECTIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"Facts.{name}: expected one of {allowed}, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Grammar:
    language: str
    rules: Mapping[str, tuple[str, ...]]

    @classmethod
    def load(cls, language: str, path: Path | None = None) -> Grammar:
        """The grammar for a language, validated: every `#symbol#` is defined (or is a fact), every beat and
        spoken action has lines, and the fact-based symbols (directions, items, enemies) are all there."""
        if language not in LANGUAGES:
            raise GrammarError(f"language: expected one of {LANGUAGES}, got {language!r}")
        path = path or LINES_DIR / f"{language}.json"
        try:
            raw = parse_json(read_outside(path, limit=MAX_GRAMMAR_BYTES), path)
        except FileFormatError as exc:
            raise GrammarError(f"cannot read the grammar: {exc}") from None
        if not isinstance(raw, dict):
            raise GrammarError(f"{path}: expected an object of symbol -> list of expansions")
        rules: dict[str, tuple[str, ...]] = {}
        for symbol, expansions in raw.items():
            if symbol.startswith("_"):
                continue  # comments
            if not (
                isinstance(expansions, list) and expansions and all(isinstance(e, str) for e in expansions)
            ):
                raise GrammarError(f"{path}: {symbol}: expected a non-empty list of strings")
            rules[symbol] = tuple(expansions)
        required = [*SPOKEN_ACTIONS, "room_name"]
        required += [f"direction_{d}" for d in DIRECTIONS]
        required += [f"item_{i}" for i in ITEMS] + [f"enemy_{e}" for e in ENEMIES]
        missing = [symbol for symbol in required if symbol not in rules]
        if missing:
            raise GrammarError(f"{path}: missing symbols {missing}")
        for symbol, expansions in rules.items():
            if "@" in symbol:
                action, beat = symbol.split("@", 1)
                if action not in SPOKEN_ACTIONS or beat not in BEATS:
                    raise GrammarError(f"{path}: {symbol}: expected <spoken action>@<beat>")
            for expansion in expansions:
                for ref, _ in _SYMBOL.findall(expansion):
                    if ref not in rules and ref not in FACT_SYMBOLS:
                        raise GrammarError(f"{path}: {symbol}: refers to undefined symbol #{ref}#")
        return cls(language, rules)

    def expand(self, symbol: str, facts: Mapping[str, str], rng: random.Random, depth: int = 0) -> str:
        """One expansion of `symbol`, with fact symbols taken from `facts`."""
        if symbol in facts:
            return facts[symbol]
        if depth > _MAX_DEPTH:
            raise GrammarError(f"{self.language}: #{symbol}# nests deeper than {_MAX_DEPTH}")
        return self.realise(rng.choice(self.rules[symbol]), facts, rng, depth)

    def realise(self, text: str, facts: Mapping[str, str], rng: random.Random, depth: int = 0) -> str:
        """`text` with every `#symbol#` in it expanded."""
        return _SYMBOL.sub(lambda m: self._expand_ref(m, facts, rng, depth + 1), text)

    def _expand_ref(
        self, match: re.Match[str], facts: Mapping[str, str], rng: random.Random, depth: int
    ) -> str:
        text = self.expand(match.group(1), facts, rng, depth)
        return text[:1].upper() + text[1:] if match.group(2) else text

    def name(self, symbol: str, seed: int) -> str:
        """A stable expansion for an id (a room keeps its name)."""
        return self.expand(symbol, {}, random.Random(f"{self.language}:{symbol}:{seed}"))

    def template_count(self) -> int:
        """Lines written for the narrator's actions (general and per beat)."""
        return sum(
            len(expansions)
            for symbol, expansions in self.rules.items()
            if symbol in SPOKEN_ACTIONS or "@" in symbol
        )


class LineWriter:
    """Realises the narrator's actions as lines, in one language, never repeating one of the last RECENT."""

    def __init__(self, language: str = "en", seed: int = 0) -> None:
        self.grammar = Grammar.load(language)
        self.rng = random.Random(seed)
        self.recent: deque[str] = deque(maxlen=RECENT)

    @property
    def language(self) -> str:
        return self.grammar.language

    def facts(self, facts: Facts) -> dict[str, str]:
        """The fact symbols for this language."""
        g = self.grammar
        return {
            "room": g.name("room_name", facts.room_id),
            "next_room": g.name("room_name", facts.next_room_id),
            "item": g.expand(f"item_{facts.item}", {}, self.rng),
            "enemy": g.expand(f"enemy_{facts.enemy}", {}, self.rng),
            "direction": g.expand(f"direction_{facts.direction}", {}, self.rng),
            "health": str(facts.health),
            "deaths": str(facts.deaths),
            "keys_held": str(facts.keys_held),
            "treasures": str(facts.treasures),
            "floor": str(facts.floor),
        }

    def line(self, action: str, beat: str, facts: Facts | None = None) -> str | None:
        """The line for `action` at `beat`; None when the action is silent, or when no fresh line comes within
        a bounded number of tries (silence rather than a repeat)."""
        if action == "silent":
            return None
        if action not in SPOKEN_ACTIONS:
            raise ValueError(f"action: expected 'silent' or one of {SPOKEN_ACTIONS}, got {action!r}")
        if beat not in BEATS:
            raise ValueError(f"beat: expected one of {BEATS}, got {beat!r}")
        symbols = [s for s in (f"{action}@{beat}", action) if s in self.grammar.rules]
        filled = self.facts(facts or Facts())
        for _ in range(_TRIES):
            text = self.grammar.expand(self.rng.choice(symbols), filled, self.rng)
            if text not in self.recent:
                self.recent.append(text)
                return text
        return None
