"""The headless autoplay wins a known seed and writes its GIF and summary; the CLI's commands work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from engine.formats import read_level

CLI = [sys.executable, "-m", "demo_game"]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=300, env=full_env)


def test_headless_autoplay_wins_seed_7(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    result = _run(
        ["play", "--headless", "--seed", "7", "--seconds", "60", "--out", str(tmp_path)], LUDOFORGE_HOME=home
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["outcome"] == "won" and summary["seed"] == 7
    assert summary["frames"] > 100 and summary["fps"] > 0
    assert summary["events"]["KeyPicked"] >= 1 and summary["events"]["DoorOpened"] >= 1
    recording = Path(summary["recording"])
    assert recording.parent == tmp_path and recording.stat().st_size < 3 * 1024 * 1024  # small, readable
    assert Image.open(recording).n_frames == summary["recording_frames"] > 50
    # The seed's own tileset came from the texture GANs and went into the disk cache.
    assert summary["tileset"] == "generated" and summary["cast"] == "generated", summary["art_problems"]
    assert summary["npc_policies"] == "trained", summary["npc_problems"]
    assert len(list((tmp_path / "home" / "cache" / "tilesets").glob("*/7/atlas.png"))) == 1


def test_play_without_display_says_so_and_autoplays(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [*CLI, "play", "--seconds", "5", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "No display found" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert Path(summary["recording"]).exists() and summary["recording"].startswith(str(tmp_path / "demo."))


def test_export_by_extension(tmp_path: Path) -> None:
    levels = []
    for ext in ("tmj", "tmx", "json", "txt"):
        result = _run(["export", "--seed", "9", "--out", str(tmp_path / f"level.{ext}")])
        assert result.returncode == 0, result.stderr
        levels.append(read_level(tmp_path / f"level.{ext}"))
    assert all(lv == levels[0] for lv in levels) and levels[0].meta.seed == 9
    assert _run(["export", "--seed", "9", "--out", str(tmp_path / "level.png")]).returncode == 0
    assert Image.open(tmp_path / "level.png").size == (levels[0].width * 8, levels[0].height * 8)


def test_bad_requests_are_one_line_errors(tmp_path: Path) -> None:
    result = _run(["export", "--seed", "1", "--out", str(tmp_path / "level.docx")])
    assert result.returncode == 2 and result.stderr.startswith("error:") and "Traceback" not in result.stderr
    result = _run(
        ["export", "--seed", "1", "--rooms", "3", "--locked-doors", "5", "--out", str(tmp_path / "a.json")]
    )
    assert result.returncode == 2 and "locked_doors" in result.stderr
    assert _run(["play", "--headless", "--seconds", "9999"]).returncode == 2  # bounded by the CLI
