"""Every seed gets its own generated tileset and cast, made once and then read from the disk cache (keyed by seed and
the texture or sprite weights); a broken cache entry does not stop a run."""

from __future__ import annotations

import json

import numpy as np
import pygame
from PIL import Image

from demo_game.content import seed_atlas, texture_weights_key, tileset_for_seed


def test_tilesets_are_cached_per_seed_and_weights(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LUDOFORGE_HOME", str(tmp_path))
    first = tileset_for_seed(3)
    assert first.parent == tmp_path / "cache" / "tilesets" / texture_weights_key() / "3"
    stamp = (first.parent / "atlas.png").stat().st_mtime_ns
    assert tileset_for_seed(3) == first
    assert (first.parent / "atlas.png").stat().st_mtime_ns == stamp  # read back, not made again
    other = tileset_for_seed(4)
    a, b = (np.asarray(Image.open(p.parent / "atlas.png")) for p in (first, other))
    assert not np.array_equal(a, b)
    assert json.loads(first.read_text())["seed"] == 3


def test_a_corrupt_cached_tileset_falls_back_to_the_stock_tiles(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LUDOFORGE_HOME", str(tmp_path))
    index = tileset_for_seed(5)
    index.write_text("{not json")
    pygame.init()
    pygame.display.set_mode((64, 64))
    atlas, problem = seed_atlas(5)
    assert problem is not None and "index.json" in problem
    assert not atlas.variants  # the stock Kenney tiles
    pygame.quit()


def test_casts_are_generated_per_seed_and_cached(tmp_path, monkeypatch) -> None:
    from demo_game.content import cast_for_seed, sprite_weights_key
    from procgen.characters.cast import CAST

    monkeypatch.setenv("LUDOFORGE_HOME", str(tmp_path))
    first = cast_for_seed(3)
    assert first.parent == tmp_path / "cache" / "casts" / sprite_weights_key() / "3"
    index = json.loads(first.read_text())
    assert {role: len(names) for role, names in index["roles"].items()} == {
        r: len(c) for r, c in CAST.items()
    }
    hero = first.parent / "hero.png"
    stamp = hero.stat().st_mtime_ns
    assert cast_for_seed(3) == first and hero.stat().st_mtime_ns == stamp  # read back, not made again
    other = cast_for_seed(4).parent / "hero.png"
    assert not np.array_equal(np.asarray(Image.open(hero)), np.asarray(Image.open(other)))
    pygame.init()
    pygame.display.set_mode((64, 64))
    atlas, problem = seed_atlas(3)
    assert problem is None
    assert len(atlas.cast["enemy"]) == 3 and len(atlas.cast["npc"]) == 2
    pygame.quit()
