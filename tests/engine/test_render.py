"""The renderer draws a real frame with the player at the centre of the view."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from engine.render.pygame2d import Renderer
from engine.sim import Action, World
from procgen.levels import generate_dungeon


@pytest.fixture(scope="module")
def screen():
    pygame.init()
    surface = pygame.display.set_mode((1280, 720))
    yield surface
    pygame.quit()


def _pixels(surface: pygame.Surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface).swapaxes(0, 1)


def test_frame_is_not_blank_and_player_is_at_centre(screen) -> None:
    world = World(generate_dungeon(7), seed=7)
    renderer = Renderer((1280, 720))
    renderer.draw(screen, world, alpha=1.0, time_s=0.0)
    frame = _pixels(screen)
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 200  # tiles, sprites, HUD: far from a blank fill

    # Draw again without the player and compare: only the player's sprite may differ, and it sits at the centre.
    player = renderer.atlas.player_idle.frames[0]
    renderer.atlas.player_idle.frames[0] = pygame.Surface((1, 1), pygame.SRCALPHA)
    renderer.draw(screen, world, alpha=1.0, time_s=0.0)
    renderer.atlas.player_idle.frames[0] = player
    diff = np.argwhere(np.any(frame != _pixels(screen), axis=2))
    assert diff.size > 0
    cy, cx = diff.mean(axis=0)
    assert abs(cx - 640) < 12, cx
    # The sprite is taller than a tile and stands on it, so its pixel mass sits a little above the tile centre.
    assert 360 - 40 < cy < 360 + 12, cy


def test_terrain_cache_redraws_an_opened_door(screen) -> None:
    from engine.formats.vglc import parse_ascii
    from engine.level import Legend, Level

    legend = Legend.default()
    level = Level(tiles=parse_ascii("WWWWWWW\nWSkLXWW\nWWWWWWW", legend), legend=legend)
    world = World(level)
    renderer = Renderer((1280, 720))
    renderer.draw(screen, world, 1.0, 0.0)
    door_px = (640 + 2 * 48, 360)  # the centre of the tile two right of the start, which is at the centre
    before = tuple(screen.get_at(door_px))[:3]
    world.step(Action.RIGHT)  # key
    world.step(Action.RIGHT)  # opens the door
    renderer.draw(screen, world, 1.0, 0.0)
    after = tuple(screen.get_at((door_px[0] - 48, door_px[1])))[:3]  # the camera followed the player one tile
    assert before != after
