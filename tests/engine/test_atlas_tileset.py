"""A generated tileset (atlas PNG + index.json) in the renderer: variants picked by rule, clear errors on bad files.

The tileset here is written by hand (flat colours per cell), so the engine is tested without procgen or torch.
"""

from __future__ import annotations

import json

import numpy as np
import pygame
import pytest
from PIL import Image

from engine.level import Semantic
from engine.render.pygame2d import Renderer, TileAtlas
from engine.render.pygame2d.atlas import TilesetError
from engine.sim import World
from procgen.levels import generate_dungeon

PX = 8


@pytest.fixture(scope="module")
def screen():
    pygame.init()
    surface = pygame.display.set_mode((640, 360))
    yield surface
    pygame.quit()


def _cell_colour(i: int) -> tuple[int, int, int]:
    return (i * 7 % 256, i * 13 % 256, 100 + i % 100)


@pytest.fixture
def tileset(tmp_path):
    """16 floor variants (grid4), 16 walls (wall_mask), one door; each cell a distinct flat colour."""
    cells = 33
    atlas = np.zeros((3 * PX, 16 * PX, 4), np.uint8)
    for i in range(cells):
        y, x = divmod(i, 16)
        atlas[y * PX : (y + 1) * PX, x * PX : (x + 1) * PX] = (*_cell_colour(i), 255)
    Image.fromarray(atlas, "RGBA").save(tmp_path / "atlas.png")
    index = {
        "image": "atlas.png",
        "tile_px": PX,
        "columns": 16,
        "semantics": {
            "floor": {"first": 0, "variants": 16, "rule": "grid4"},
            "wall": {"first": 16, "variants": 16, "rule": "wall_mask"},
            "door": {"first": 32, "variants": 1, "rule": "single"},
        },
    }
    (tmp_path / "index.json").write_text(json.dumps(index))
    return tmp_path / "index.json"


def _colour(surface: pygame.Surface) -> tuple[int, int, int]:
    return tuple(surface.get_at((surface.get_width() // 2, surface.get_height() // 2)))[:3]


def test_variants_follow_their_rules(screen, tileset) -> None:
    atlas = TileAtlas.kenney(48).with_tileset(tileset)
    terrain = np.full((4, 5), Semantic.FLOOR.code, np.uint8)
    terrain[0, :] = Semantic.WALL.code  # a wall row along the top edge
    for y, x in ((1, 1), (2, 3), (3, 4)):
        assert _colour(atlas.tile_at(Semantic.FLOOR, x, y, terrain)) == _cell_colour((y % 4) * 4 + x % 4)
    # The wall at (2, 0): north is the map edge (1), east and west are walls (2, 8), south is floor.
    assert _colour(atlas.tile_at(Semantic.WALL, 2, 0, terrain)) == _cell_colour(16 + (1 | 2 | 8))
    assert _colour(atlas.tile_at(Semantic.DOOR, 0, 0, terrain)) == _cell_colour(32)
    # Semantics the tileset lacks keep the stock art.
    assert atlas.tile_at(Semantic.HAZARD, 0, 0, terrain) is atlas.tiles[Semantic.HAZARD]


def test_the_renderer_draws_a_world_with_it(screen, tileset) -> None:
    world = World(generate_dungeon(3), seed=3)
    renderer = Renderer((640, 360), atlas=TileAtlas.kenney(48).with_tileset(tileset))
    renderer.draw(screen, world, alpha=1.0, time_s=0.0)
    frame = pygame.surfarray.array3d(screen).swapaxes(0, 1).reshape(-1, 3)
    floor_colours = {_cell_colour(i) for i in range(16)}
    seen = {tuple(c) for c in np.unique(frame, axis=0)}
    assert len(floor_colours & seen) >= 8  # many floor variants on one screen, not one repeated tile


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda ix: ix.pop("tile_px"), "tile_px"),
        (lambda ix: ix["semantics"].update(lava={"first": 0, "variants": 1}), "semantics.lava"),
        (lambda ix: ix["semantics"]["floor"].update(rule="random"), "semantics.floor.rule"),
        (lambda ix: ix["semantics"]["door"].update(first=90), "semantics.door"),
        (lambda ix: ix.update(image="missing.png"), "image"),
    ],
)
def test_bad_index_names_the_file_and_field(screen, tileset, edit, field) -> None:
    index = json.loads(tileset.read_text())
    edit(index)
    tileset.write_text(json.dumps(index))
    with pytest.raises(TilesetError) as info:
        TileAtlas.kenney(48).with_tileset(tileset)
    assert info.value.field == field
    assert "index.json" in str(info.value) or "missing.png" in str(info.value)
