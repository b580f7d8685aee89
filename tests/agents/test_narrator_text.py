"""The narrator's grammar: enough lines, every symbol filled, no repeats within 20, both languages."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest

from agents.narrator.text import (
    BEATS,
    DIRECTIONS,
    ENEMIES,
    ITEMS,
    LANGUAGES,
    RECENT,
    SPOKEN_ACTIONS,
    Facts,
    Grammar,
    GrammarError,
    LineWriter,
)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def _random_facts(rng: random.Random) -> Facts:
    return Facts(
        room_id=rng.randrange(1000),
        next_room_id=rng.randrange(1000),
        item=rng.choice(ITEMS),
        enemy=rng.choice(ENEMIES),
        direction=rng.choice(DIRECTIONS),
        health=rng.randrange(1, 9),
        deaths=rng.randrange(5),
        keys_held=rng.randrange(3),
        treasures=rng.randrange(10),
        floor=rng.randrange(1, 6),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_grammar_has_lines_for_every_action_and_beat(language: str) -> None:
    grammar = Grammar.load(language)
    assert grammar.template_count() >= 200
    assert all(len(grammar.rules[action]) >= 8 for action in SPOKEN_ACTIONS)
    for beat in BEATS:
        assert sum(len(v) for k, v in grammar.rules.items() if k.endswith(f"@{beat}")) >= 6, beat


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_fills_every_symbol(language: str) -> None:
    """Each template, expanded with every direction, item and enemy, leaves no #symbol# behind."""
    writer = LineWriter(language)
    grammar, rng = writer.grammar, random.Random(0)
    templates = [t for k, v in grammar.rules.items() if k in SPOKEN_ACTIONS or "@" in k for t in v]
    for direction in DIRECTIONS:
        for item, enemy in zip(ITEMS, [*ENEMIES, *ENEMIES], strict=True):
            facts = writer.facts(Facts(direction=direction, item=item, enemy=enemy))
            for template in templates:
                line = grammar.realise(template, facts, rng)
                assert "#" not in line and line.strip(), (template, line)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_thousand_lines_never_repeat_within_twenty(language: str) -> None:
    writer, rng = LineWriter(language, seed=5), random.Random(9)
    lines: list[str] = []
    silences = 0
    for _ in range(1000):
        beat = rng.choice(BEATS)
        # a narrator dwells on a moment: runs of the same action and beat are the hard case for repeats
        action = rng.choice(SPOKEN_ACTIONS[:5]) if rng.random() < 0.7 else rng.choice(SPOKEN_ACTIONS)
        line = writer.line(action, beat, _random_facts(rng))
        if line is None:
            silences += 1
            continue
        assert "#" not in line
        lines.append(line)
    assert silences < 10
    for i in range(len(lines)):
        assert lines[i] not in lines[max(0, i - RECENT) : i]
    assert len(set(lines)) > 600  # varied, not a handful of lines taking turns
    if language == "zh":
        assert all(_CJK.search(line) and not _LATIN.search(line) for line in lines)
    else:
        assert not any(_CJK.search(line) for line in lines)


def test_one_moment_asked_for_again_and_again_stays_fresh() -> None:
    writer = LineWriter("en", seed=1)
    facts = Facts(direction="east")
    lines = [writer.line("hint", "lost", facts) for _ in range(60)]
    spoken = [line for line in lines if line is not None]
    assert len(spoken) >= 55
    assert all(spoken[i] not in spoken[max(0, i - RECENT) : i] for i in range(len(spoken)))


def test_lines_are_deterministic_by_seed_and_rooms_keep_their_names() -> None:
    def run(seed: int) -> list[str | None]:
        writer, rng = LineWriter("zh", seed=seed), random.Random(3)
        return [
            writer.line(rng.choice(SPOKEN_ACTIONS), rng.choice(BEATS), _random_facts(rng)) for _ in range(50)
        ]

    assert run(4) == run(4)
    assert run(4) != run(5)
    writer = LineWriter("en")
    assert (
        writer.facts(Facts(room_id=17))["room"] == LineWriter("en", seed=99).facts(Facts(room_id=17))["room"]
    )


def test_silence_and_bad_requests() -> None:
    writer = LineWriter("en")
    assert writer.line("silent", "intro") is None
    with pytest.raises(ValueError, match="action"):
        writer.line("sing", "intro")
    with pytest.raises(ValueError, match="beat"):
        writer.line("hint", "picnic")
    with pytest.raises(ValueError, match=r"Facts\.direction"):
        replace(Facts(), direction="up")
    with pytest.raises(GrammarError, match="language"):
        Grammar.load("fr")


def test_a_broken_grammar_names_its_file_and_symbol(tmp_path: Path) -> None:
    grammar = Grammar.load("en")
    rules = {k: list(v) for k, v in grammar.rules.items()}
    rules["hint"] = ["Go #nowhere#."]
    path = tmp_path / "en.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    with pytest.raises(GrammarError, match=r"en\.json: hint: refers to undefined symbol #nowhere#"):
        Grammar.load("en", path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(GrammarError, match="cannot read"):
        Grammar.load("en", path)
    del rules["warn"]
    path.write_text(json.dumps({k: v for k, v in rules.items() if k != "hint"} | {"hint": ["ok"]}))
    with pytest.raises(GrammarError, match="missing symbols"):
        Grammar.load("en", path)
