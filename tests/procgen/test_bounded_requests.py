"""Requests within the CLI's limits run within bounded memory, and values the CLI cannot use are refused with the
flag named (issue 18): NaN and infinity, an --out with an unknown extension, an image that declares more
pixels than allowed."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

CLI = [sys.executable, "-m", "demo_game"]


def _cli(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=900, **kw)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["levels", "sample", "--density", "enemies=nan"], "--density"),
        (["levels", "sample", "--density", "openness=inf"], "--density"),
        (["levels", "sample", "--target", "path_length=nan"], "--target"),
        (["levels", "sample", "--out", "level.exe"], "--out"),
        (["textures", "sample", "--out", "texture.exe"], "--out"),
        (["textures", "sample", "--n", "3", "--out", "three.png"], "--out"),
        (["levels", "sample", "--target", "foo=1"], "--target"),
        (["levels", "sample", "--target", "path_length=1e300"], "--target"),
        (["levels", "sample", "--doors", "north=7.9"], "--doors"),
        (["style", "transfer", "--content", "c.png", "--style", "c.png", "--out", "s.xyz"], "--out"),
    ],
)
def test_values_the_cli_cannot_use_are_refused_by_flag(tmp_path: Path, args: list[str], flag: str) -> None:
    result = _cli(args, cwd=tmp_path)
    assert result.returncode == 2 and flag in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []  # nothing made, no folder


def test_the_api_refuses_non_finite_conditions_and_targets_too() -> None:
    from procgen.levels.control import search
    from procgen.levels.generator import LevelGenerator

    gen = LevelGenerator.pretrained("dungeon")
    with pytest.raises(ValueError, match=r"conditions\.density\.enemies: expected a finite number"):
        gen.conditions(1, np.random.default_rng(0), {"density": {"enemies": float("nan")}})
    with pytest.raises(ValueError, match=r"targets\.path_length: expected a finite number"):
        search(gen, {"path_length": float("inf")})


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header says width x height (its data is a few bytes of a zlib stream)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_200_megapixel_image_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    from engine.errors import FileFormatError
    from engine.outside import read_outside_image

    (tmp_path / "huge.png").write_bytes(_png_declaring(20_000, 10_000))
    with pytest.raises(FileFormatError, match=r"not a readable image|pixels allowed"):
        read_outside_image(tmp_path / "huge.png")
    (tmp_path / "big.png").write_bytes(_png_declaring(5000, 5000))
    with pytest.raises(FileFormatError, match="5000x5000 is more than"):
        read_outside_image(tmp_path / "big.png")
    result = _cli(
        [
            "style",
            "transfer",
            "--content",
            str(tmp_path / "huge.png"),
            "--style",
            str(tmp_path / "huge.png"),
        ]
    )
    assert result.returncode == 2 and "huge.png" in result.stderr and "Traceback" not in result.stderr, (
        result.stderr
    )


@pytest.mark.slow
def test_the_largest_texture_request_fits_in_4_gb(tmp_path: Path) -> None:
    """`textures sample --n 64 --size 2048` under a 4 GB address-space limit: the batch streams through the
    net one 2048x2048 texture at a time and each is written as it comes (about 3 minutes on 2 cores)."""
    limit = 4 * 1024**3

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    args = [
        *CLI,
        "textures",
        "sample",
        "--n",
        "64",
        "--size",
        "2048",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "t"),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=1500, preexec_fn=cap, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list((tmp_path / "t").glob("*.png"))) == 64
