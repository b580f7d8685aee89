"""The narrator in the game: a headless run speaks in the chosen language, its log is saved, and the shipped
Chinese font has every character the Chinese grammar can produce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from agents.narrator.text import LINES_DIR
from demo_game.narration import ZH_FONT, Settings
from engine.errors import SaveError


def test_the_chinese_font_covers_the_chinese_grammar() -> None:
    grammar = json.loads((LINES_DIR / "zh.json").read_text(encoding="utf-8"))
    text = "".join(s for key, values in grammar.items() if not key.startswith("_") for s in values)
    cmap = TTFont(ZH_FONT).getBestCmap()
    missing = sorted({ch for ch in text if ord(ch) not in cmap and ch != "#"})
    assert not missing, f"rebuild the font (demo_game/fonts/build_zh_font.py): {''.join(missing)}"


def test_settings_are_validated_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="language"):
        Settings(language="fr")
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    with pytest.raises(SaveError, match=r"settings\.json"):
        Settings.load(path)
    Settings(language="zh", narrator=False).save(path)
    assert Settings.load(path) == Settings(language="zh", narrator=False)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_headless_run_has_the_narrator_speak_the_chosen_language(tmp_path: Path, language: str) -> None:
    from demo_game.autoplay import run_autoplay

    summary = run_autoplay(11, 45, tmp_path, size=(480, 270), language=language)
    narrator = summary["narrator"]
    assert narrator["language"] == language and narrator["policy"] == "ppo", narrator["problems"]
    assert narrator["lines"], "the narrator said nothing"
    cjk = [any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in narrator["lines"]]
    assert all(cjk) if language == "zh" else not any(cjk)
    log = json.loads((tmp_path / "narrator_log.json").read_text(encoding="utf-8"))
    said = [d["line"] for d in log["decisions"] if d["line"]]
    assert said == narrator["lines"] and log["outcome"] == summary["outcome"]
