"""Every curl example in docs/backend.md works as written (against a real server, on its own port), and so does
its Python client example."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend.live import live_server

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "backend.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(sh|python)\n(.*?)```", DOC, flags=re.S)
SHELL = [code for kind, code in BLOCKS if kind == "sh" and "curl" in code and "HOST" not in code]


@pytest.fixture(scope="module")
def url() -> str:
    with live_server() as base:
        yield base


@pytest.mark.parametrize("block", SHELL, ids=[b.strip().splitlines()[0][:50] for b in SHELL])
def test_each_curl_example_works(url: str, block: str, tmp_path: Path) -> None:
    (tmp_path / "procgen").symlink_to(ROOT / "procgen")  # the examples run from a checkout
    script = block.replace("http://127.0.0.1:8750", url)
    script = re.sub(r"\bcurl -s\b", "curl -sS --fail-with-body", script)  # an HTTP error fails the example
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    if "304" in block:
        assert done.stdout.strip().endswith("304")


def test_the_python_example_works(url: str) -> None:
    (code,) = [c for kind, c in BLOCKS if kind == "python" and "LudoforgeClient" in c]
    done = subprocess.run(
        [sys.executable, "-c", code.replace("http://127.0.0.1:8750", url)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("n ")


def test_there_is_an_example_for_each_endpoint() -> None:
    for path in (
        "/v1/health",
        "/v1/info",
        "/v1/levels",
        "/v1/levels/check",
        "/v1/levels/repair",
        "/v1/dungeons",
        "/v1/tilesets",
        "/v1/textures",
        "/v1/sprites",
        "/v1/style-transfer",
        "/v1/uploads",
        "/v1/jobs",
    ):
        assert any(path in block for block in SHELL), path
