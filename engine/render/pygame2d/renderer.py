"""Draws a World with pygame: cached terrain chunks, interpolated sprites, the HUD and the text box.

Renderers only read World state. Terrain is baked into 16x16-tile chunks once and re-baked only where a tile
changed (a door opened), so a frame costs a handful of large blits rather than one blit per tile.
"""

from __future__ import annotations

import numpy as np
import pygame

from engine.level import Semantic
from engine.render.pygame2d.atlas import TileAtlas
from engine.render.pygame2d.camera import Camera
from engine.render.pygame2d.hud import Hud, HudInfo, TextBox
from engine.render.pygame2d.marks import draw_marks
from engine.sim.policy import Action
from engine.sim.world import World

CHUNK = 16
BACKGROUND = (10, 9, 14)
_SEMANTIC_BY_CODE = {s.code: s for s in Semantic}
_FACING_NAMES = {Action.UP: "up", Action.DOWN: "down", Action.LEFT: "left", Action.RIGHT: "right"}


class Renderer:
    def __init__(
        self,
        size: tuple[int, int] = (1280, 720),
        tile_px: int = 48,
        atlas: TileAtlas | None = None,
        text_font: str | None = None,
    ) -> None:
        """`text_font`: a font file for the text box, for languages pygame's default font cannot show."""
        self.atlas = atlas or TileAtlas.kenney(tile_px)
        self.tile_px = self.atlas.tile_px
        self.camera = Camera(*size)
        self.hud = Hud()
        self.textbox = TextBox(font_path=text_font)
        self._world_id: int | None = None
        self._baked_version = -1
        self._baked_terrain = np.empty((0, 0), np.uint8)
        self._chunks: dict[tuple[int, int], pygame.Surface] = {}

    # ------------------------------------------------------------------------------------------ terrain

    def _sync_terrain(self, world: World) -> None:
        if self._world_id != id(world) or self._baked_terrain.shape != world.terrain.shape:
            self._world_id = id(world)
            self._chunks.clear()
            self._baked_terrain = world.terrain.copy()
        elif self._baked_version != world.terrain_version:
            ys, xs = np.nonzero(self._baked_terrain != world.terrain)
            # A tile's neighbours pick their autotile variant from it, so the chunks they lie in go too.
            stale = {
                ((int(y) + dy) // CHUNK, (int(x) + dx) // CHUNK)
                for y, x in zip(ys, xs, strict=True)
                for dy, dx in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
            }
            for cy, cx in stale:
                self._chunks.pop((cx, cy), None)
            self._baked_terrain = world.terrain.copy()
        self._baked_version = world.terrain_version

    def _chunk(self, cx: int, cy: int) -> pygame.Surface:
        surf = self._chunks.get((cx, cy))
        if surf is None:
            t = self.tile_px
            surf = pygame.Surface((CHUNK * t, CHUNK * t))
            surf.fill(BACKGROUND)
            block = self._baked_terrain[cy * CHUNK : (cy + 1) * CHUNK, cx * CHUNK : (cx + 1) * CHUNK]
            terrain, x0, y0 = self._baked_terrain, cx * CHUNK, cy * CHUNK
            tile_at = self.atlas.tile_at
            surf.fblits(
                [
                    (tile_at(_SEMANTIC_BY_CODE[int(code)], x0 + x, y0 + y, terrain), (x * t, y * t))
                    for (y, x), code in np.ndenumerate(block)
                ]
            )
            self._chunks[(cx, cy)] = surf
        return surf

    def draw_terrain(self, screen: pygame.Surface, world: World) -> None:
        """Blit the baked chunks the camera sees (a handful per frame)."""
        cam = self.camera
        span = CHUNK * self.tile_px
        rows, cols = world.height // CHUNK + 1, world.width // CHUNK + 1
        for cy in range(max(0, int(cam.y // span)), min(rows, int((cam.y + cam.view_h) // span) + 1)):
            for cx in range(max(0, int(cam.x // span)), min(cols, int((cam.x + cam.view_w) // span) + 1)):
                screen.blit(self._chunk(cx, cy), cam.to_screen(cx * span, cy * span))

    # ------------------------------------------------------------------------------------------ frame

    def _lerp(self, prev: tuple[int, int], cur: tuple[int, int], alpha: float) -> tuple[float, float]:
        t = self.tile_px
        return (prev[0] + (cur[0] - prev[0]) * alpha) * t, (prev[1] + (cur[1] - prev[1]) * alpha) * t

    def _cast_frame(
        self, role: str, index: int, facing: int, moving: bool, time_s: float
    ) -> pygame.Surface | None:
        """The generated cast's frame for a character (standing pose when still), or None without a cast."""
        cycle = self.atlas.walk_cycle(role, index)
        if cycle is None:
            return None
        animation = cycle[_FACING_NAMES.get(facing, "down")]
        return animation.frame(time_s) if moving else animation.frames[0]

    def draw(
        self, screen: pygame.Surface, world: World, alpha: float, time_s: float, fps: float = 0.0
    ) -> None:
        """One frame: `alpha` in [0, 1] interpolates between the last two ticks; `time_s` drives animations."""
        self._sync_terrain(world)
        t = self.tile_px
        p = world.player
        px, py = self._lerp((p.prev_x, p.prev_y), (p.x, p.y), alpha)
        self.camera.follow(px + t / 2, py + t / 2)
        cam = self.camera
        screen.fill(BACKGROUND)
        self.draw_terrain(screen, world)

        inset = t // 8
        for (ix, iy), kind in world.items.items():
            sx, sy = cam.to_screen(ix * t + inset, iy * t + inset)
            if -t < sx < cam.view_w and -t < sy < cam.view_h:
                screen.blit(self.atlas.items[kind], (sx, sy))
        draw_marks(screen, world, cam, t, time_s)

        for npc in world.npcs:
            if not npc.alive:
                continue
            nx, ny = self._lerp((npc.prev_x, npc.prev_y), (npc.x, npc.y), alpha)
            sx, sy = cam.to_screen(nx, ny)
            if not (-2 * t < sx < cam.view_w + t and -2 * t < sy < cam.view_h + t):
                continue
            moving = (npc.prev_x, npc.prev_y) != (npc.x, npc.y)
            role = "enemy" if npc.kind is Semantic.ENEMY else "npc"
            frame = self._cast_frame(role, npc.id, npc.facing, moving, time_s)
            if frame is None:
                if npc.kind is Semantic.ENEMY:
                    frame = self.atlas.enemy.frame(time_s)
                else:
                    frame = (self.atlas.npc_walk if moving else self.atlas.npc_idle).frame(time_s)
                if npc.facing == Action.LEFT:
                    frame = pygame.transform.flip(frame, True, False)
            screen.blit(frame, (sx, sy + t - frame.get_height()))

        # The player blinks while invulnerable after a hit.
        if not (p.invulnerable > 0 and int(time_s * 10) % 2):
            moving = (p.prev_x, p.prev_y) != (p.x, p.y)
            frame = self._cast_frame("player", 0, p.facing, moving, time_s)
            if frame is None:
                frame = (self.atlas.player_walk if moving else self.atlas.player_idle).frame(time_s)
                if p.facing == Action.LEFT:
                    frame = pygame.transform.flip(frame, True, False)
            sx, sy = cam.to_screen(px, py)
            screen.blit(frame, (sx, sy + t - frame.get_height()))

        self.hud.draw(
            screen, HudInfo(p.health, p.max_health, p.keys, p.treasure, world.seed, fps, shield=p.shield)
        )
        self.textbox.update(time_s)
        self.textbox.draw(screen)
