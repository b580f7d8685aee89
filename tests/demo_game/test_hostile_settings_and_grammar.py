"""The settings and grammar files go through the outside-data rule too: deep nesting, NaN or a FIFO is a typed
error naming the file, and a broken settings file never stops `play`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.narrator.text import Grammar, GrammarError
from demo_game.narration import Settings
from engine.errors import SaveError

DEEP = "[" * 20_000 + "]" * 20_000  # within the settings file's 64 KB bound


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DEEP, "nested deeper"),
        ('{"language": "en", "narrator": NaN}', "not a JSON number"),
        ('{"language": "en", "narrator": 1}', "narrator"),
    ],
)
def test_a_hostile_settings_file_is_a_save_error(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(text)
    with pytest.raises(SaveError, match=expected):
        Settings.load(path)


def test_a_grammar_nested_without_end_or_a_fifo_is_a_grammar_error(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    with pytest.raises(GrammarError, match="nested deeper"):
        Grammar.load("en", tmp_path / "deep.json")
    os.mkfifo(tmp_path / "pipe.json")
    with pytest.raises(GrammarError, match="FIFO"):
        Grammar.load("en", tmp_path / "pipe.json")


def test_play_goes_on_with_the_defaults_when_the_settings_file_is_broken(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(DEEP)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "demo_game",
            "play",
            "--headless",
            "--seconds",
            "1",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LUDOFORGE_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    assert "Ignoring the saved settings" in result.stderr and "nested deeper" in result.stderr
