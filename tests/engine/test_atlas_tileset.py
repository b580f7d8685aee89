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


# ------------------------------------------------------------------------------------------------ generated cast
FACING_COLOURS = {"down": (200, 0, 0), "left": (0, 200, 0), "right": (0, 0, 200), "up": (200, 200, 0)}


@pytest.fixture
def cast(tmp_path):
    """One character per role; each sheet cell is a flat colour per facing whose green grows with the frame."""
    px, frames = 8, 4
    sheet = np.zeros((4 * px, frames * px, 4), np.uint8)
    for row, colour in enumerate(FACING_COLOURS.values()):
        for f in range(frames):
            sheet[row * px : (row + 1) * px, f * px : (f + 1) * px] = (
                colour[0],
                colour[1] + f,
                colour[2],
                255,
            )
    for role in ("player", "enemy", "npc"):
        Image.fromarray(sheet, "RGBA").save(tmp_path / f"{role}.png")
    index = {
        "sprite_px": px,
        "frames": frames,
        "fps": 8,
        "facings": list(FACING_COLOURS),
        "roles": {role: [f"{role}.png"] for role in ("player", "enemy", "npc")},
    }
    (tmp_path / "cast.json").write_text(json.dumps(index))
    return tmp_path / "cast.json"


def test_a_cast_gives_each_role_a_walk_cycle_per_facing(screen, cast) -> None:
    atlas = TileAtlas.kenney(48).with_cast(cast)
    for role in ("player", "enemy", "npc"):
        cycle = atlas.walk_cycle(role, index=5)  # any index: one character per role here
        assert cycle is not None and set(cycle) == set(FACING_COLOURS)
        for facing, colour in FACING_COLOURS.items():
            frames = cycle[facing].frames
            assert len(frames) == 4 and frames[0].get_size() == (48, 48)
            assert [_colour(f) for f in frames] == [(colour[0], colour[1] + f, colour[2]) for f in range(4)]
    world = World(generate_dungeon(3), seed=3)
    Renderer((640, 360), atlas=atlas).draw(screen, world, alpha=1.0, time_s=0.0)
    seen = {tuple(c) for c in np.unique(pygame.surfarray.array3d(screen).reshape(-1, 3), axis=0)}
    assert FACING_COLOURS["down"] in seen  # the player stands facing down at the start, in frame 0


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda ix: ix.pop("fps"), "fps"),
        (lambda ix: ix.update(facings=["up", "down"]), "facings"),
        (lambda ix: ix["roles"].update(boss=["player.png"]), "roles.boss"),
        (lambda ix: ix.update(frames=3), "size"),
        (lambda ix: ix["roles"].update(npc=["missing.png"]), "image"),
    ],
)
def test_bad_cast_names_the_file_and_field(screen, cast, edit, field) -> None:
    index = json.loads(cast.read_text())
    edit(index)
    cast.write_text(json.dumps(index))
    with pytest.raises(TilesetError) as info:
        TileAtlas.kenney(48).with_cast(cast)
    assert info.value.field == field
