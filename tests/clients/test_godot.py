"""The Godot 3 client, headless (Debian's godot3-server; CI installs it): the smoke scene asks a real server for
a dungeon, its tileset and its cast, builds the TileMap and places the cast, and checks itself. The test checks
it again from the Python side, and that the smoke fails when there is no server to ask."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.backend.live import free_port, live_server

GODOT = shutil.which("godot3-server")
PROJECT = Path(__file__).resolve().parents[2] / "clients" / "godot"
pytestmark = pytest.mark.skipif(GODOT is None, reason="godot3-server is not installed (CI installs it)")


def run_smoke(url: str, tmp_path: Path, seed: int) -> tuple[int, dict, str]:
    report = tmp_path / f"report_{seed}.json"
    env = {
        **os.environ,
        "LUDOFORGE_URL": url,
        "LUDOFORGE_REPORT": str(report),
        "LUDOFORGE_SEED": str(seed),
        "HOME": str(tmp_path),  # Godot writes its user:// and logs under HOME
    }
    done = subprocess.run(
        [GODOT, "--path", str(PROJECT), "res://smoke/smoke.tscn"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return (
        done.returncode,
        json.loads(report.read_text()) if report.exists() else {},
        done.stdout + done.stderr,
    )


def test_the_godot_smoke_builds_the_tilemap_and_places_the_cast(tmp_path: Path) -> None:
    with live_server() as url:
        for seed in (7, 21):
            code, report, output = run_smoke(url, tmp_path, seed)
            assert code == 0 and report.get("ok"), output[-2000:]
            # the same request from Python: the TileMap has exactly the level's non-void cells
            level = httpx.post(f"{url}/v1/dungeons", json={"seed": seed, "rooms": 6}).json()["levels"][0][
                "level"
            ]
            semantics = {t["id"]: t["semantic"] for t in level["legend"]}
            non_void = sum(semantics[i] != "void" for row in level["tiles"] for i in row)
            assert report["used_cells"] == report["non_void_tiles"] == non_void
            assert (report["width"], report["height"]) == (level["width"], level["height"])
            assert report["tile_mismatches"] == 0 and report["cast"]["player"] == 1
            enemies = sum(semantics[i] == "enemy" for row in level["tiles"] for i in row)
            assert report["cast"]["enemy"] == enemies + sum(s["kind"] == "enemy" for s in level["spawns"])


def test_the_smoke_fails_when_it_cannot_reach_a_server(tmp_path: Path) -> None:
    code, report, _ = run_smoke(f"http://127.0.0.1:{free_port()}", tmp_path, 7)
    assert code != 0 and report["ok"] is False and report["errors"]
