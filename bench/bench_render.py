"""Render FPS at 1280x720 under SDL's dummy driver: ours (terrain baked into cached chunks) against the
straightforward renderer that blits every visible tile each frame; same world, same frames, one process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import pygame
from common import compare, save

from engine.render.pygame2d import Renderer
from engine.render.pygame2d.renderer import _SEMANTIC_BY_CODE
from engine.sim import World
from engine.sim.player_bot import PlayerBot
from procgen.levels import generate_dungeon

SIZE = (1280, 720)
FRAMES = 240
FRAMES_PER_TICK = 4


class PerTileRenderer(Renderer):
    """Baseline: one blit per visible tile, every frame."""

    def draw_terrain(self, screen: pygame.Surface, world: World) -> None:
        t, cam = self.tile_px, self.camera
        x0, y0 = max(0, int(cam.x // t)), max(0, int(cam.y // t))
        x1, y1 = (
            min(world.width, int((cam.x + cam.view_w) // t) + 1),
            min(world.height, int((cam.y + cam.view_h) // t) + 1),
        )
        tiles = self.atlas.tiles
        for y in range(y0, y1):
            for x in range(x0, x1):
                screen.blit(tiles[_SEMANTIC_BY_CODE[int(world.terrain[y, x])]], cam.to_screen(x * t, y * t))


def runner(renderer_cls: type[Renderer], screen: pygame.Surface):
    level = generate_dungeon(7)

    def work() -> int:
        world, bot, renderer = World(level, seed=7), PlayerBot(), renderer_cls(SIZE)
        for frame in range(FRAMES):
            if frame % FRAMES_PER_TICK == 0:
                world.step(bot.act(world))
            renderer.draw(screen, world, (frame % FRAMES_PER_TICK) / FRAMES_PER_TICK, frame / 32)
        return FRAMES

    return work


def main() -> None:
    pygame.init()
    screen = pygame.display.set_mode(SIZE)
    results = [
        compare(
            "render FPS 1280x720 (SDL dummy, full frame + HUD)",
            "FPS",
            runner(PerTileRenderer, screen),
            runner(Renderer, screen),
            goal="ours >= 60 FPS",
        )
    ]
    pygame.quit()
    save("render", results)


if __name__ == "__main__":
    main()
