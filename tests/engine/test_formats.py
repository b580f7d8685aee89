"""Every format round-trips random Levels exactly; Tiled itself opens what we write."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.formats import read_level, write_level
from engine.formats.tiled import write_tiled
from engine.level import SEMANTICS, SPAWN_KINDS, Legend, Level, LevelMeta, Spawn, TileDef

TEXT = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "Zs", "P")), max_size=12)
CHARS = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.#~^$-=+*@!%&"]
PROPERTY = st.one_of(
    TEXT, st.integers(-(2**31), 2**31 - 1), st.booleans(), st.floats(-1e6, 1e6, allow_nan=False)
)


@st.composite
def levels(draw: st.DrawFn) -> Level:
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n, unique=True))
    chars = draw(st.lists(st.sampled_from(CHARS), min_size=n, max_size=n, unique=True))
    sems = draw(st.lists(st.sampled_from(SEMANTICS), min_size=n, max_size=n))
    names = draw(st.lists(TEXT, min_size=n, max_size=n))
    legend = Legend(tuple(TileDef(i, s, c, nm) for i, s, c, nm in zip(ids, sems, chars, names, strict=True)))
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    picks = draw(st.lists(st.integers(0, n - 1), min_size=h * w, max_size=h * w))
    tiles = np.array(ids, dtype=np.uint8)[np.array(picks)].reshape(h, w)
    spawns = draw(
        st.lists(
            st.builds(
                Spawn,
                kind=st.sampled_from(sorted(SPAWN_KINDS)),
                x=st.integers(0, w - 1),
                y=st.integers(0, h - 1),
                properties=st.dictionaries(
                    st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), PROPERTY, max_size=3
                ),
            ),
            max_size=5,
        )
    )
    meta = LevelMeta(
        seed=draw(st.one_of(st.none(), st.integers(0, 2**31 - 1))), generator=draw(TEXT), name=draw(TEXT)
    )
    return Level(tiles=tiles, legend=legend, spawns=tuple(spawns), meta=meta).validate()


@pytest.mark.parametrize("suffix", [".json", ".tmj", ".tmx", ".txt"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(level=levels())
def test_format_round_trips_exactly(tmp_path: Path, suffix: str, level: Level) -> None:
    path = tmp_path / f"level{suffix}"
    write_level(level, path)
    assert read_level(path) == level


@pytest.mark.parametrize("suffix", [".tmj", ".tmx"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(level=levels())
def test_tiled_external_tileset_round_trips(tmp_path: Path, suffix: str, level: Level) -> None:
    path = tmp_path / f"ext{suffix}"
    write_tiled(level, path, tileset="external")
    assert (tmp_path / f"ext{'.tsx' if suffix == '.tmx' else '.tsj'}").exists()
    assert read_level(path) == level


def test_png_preview_colours_each_semantic(tmp_path: Path) -> None:
    from PIL import Image

    from engine.formats.png_preview import SEMANTIC_COLOURS

    level = Level(tiles=np.arange(14, dtype=np.uint8).reshape(2, 7)).validate()
    write_level(level, tmp_path / "p.png")
    img = np.asarray(Image.open(tmp_path / "p.png"))
    assert img.shape == (16, 56, 3)
    for code, sem in enumerate(SEMANTICS[:14]):
        y, x = divmod(code, 7)
        assert tuple(img[y * 8 + 4, x * 8 + 4]) == SEMANTIC_COLOURS[sem]


@pytest.mark.skipif(
    shutil.which("tiled") is None, reason="the Tiled editor is not installed (CI installs it)"
)
@pytest.mark.parametrize("src", [".tmj", ".tmx"])
@pytest.mark.parametrize("dst", ["json", "tmx"])
def test_real_tiled_editor_opens_and_reexports_our_maps(tmp_path: Path, src: str, dst: str) -> None:
    """Tiled loads our file and exports it in its own writer; reading that export gives the same Level."""
    from procgen.levels import generate_dungeon

    level = generate_dungeon(11)
    level = level.replace(
        spawns=(Spawn(sorted(SPAWN_KINDS)[0], 3, 4, {"hp": 2, "speed": 1.5, "boss": True}),)
    )
    write_level(level, tmp_path / f"map{src}")
    out = tmp_path / f"tiled_export.{'tmj' if dst == 'json' else 'tmx'}"
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        ["tiled", "--export-map", dst, str(tmp_path / f"map{src}"), str(out)],
        check=True,
        env=env,
        timeout=60,
        capture_output=True,
    )
    assert read_level(out) == level
