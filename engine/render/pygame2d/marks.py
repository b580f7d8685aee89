"""What the narrator changed, drawn over the map: the way it shows, the pickups it placed, the enemies and the
treasure it pointed out. Read-only, like the rest of the renderer."""

from __future__ import annotations

import math

import pygame

from engine.render.pygame2d.camera import Camera
from engine.sim.world import Pickup, World

GUIDE = (255, 236, 150)
POTION = (220, 60, 90)
LANTERN = (255, 200, 60)
REVEALED = (255, 90, 70)
MARKED = (120, 200, 255)


def draw_marks(screen: pygame.Surface, world: World, camera: Camera, tile_px: int, time_s: float) -> None:
    t = tile_px
    half = t // 2
    pulse = 0.5 + 0.5 * math.sin(time_s * 6.0)

    def centre(x: int, y: int) -> tuple[int, int]:
        return camera.to_screen(x * t + half, y * t + half)

    # The shown way: a trail of dots, brightest near the player, that shimmers toward the objective.
    for i, (x, y) in enumerate(world.guide_path()):
        sx, sy = centre(x, y)
        if -t < sx < camera.view_w + t and -t < sy < camera.view_h + t:
            radius = max(2, t // 10 + (1 if (i - int(time_s * 8)) % 4 == 0 else 0))
            pygame.draw.circle(screen, GUIDE, (sx, sy), radius)
    for (x, y), kind in world.pickups.items():
        sx, sy = centre(x, y)
        if kind is Pickup.POTION:
            pygame.draw.circle(screen, POTION, (sx, sy + t // 10), t // 5)
            pygame.draw.rect(screen, (230, 230, 230), (sx - t // 16, sy - t // 4, t // 8, t // 6))
        else:
            glow = int(t // 3 + pulse * t // 10)
            pygame.draw.circle(screen, (90, 70, 20), (sx, sy), glow, 2)
            pygame.draw.rect(screen, LANTERN, (sx - t // 8, sy - t // 6, t // 4, t // 3), border_radius=3)
    for x, y in world.marked:
        if world.items.get((x, y)) is not None:
            pygame.draw.circle(screen, MARKED, centre(x, y), int(half * (0.8 + 0.2 * pulse)), 2)
    for npc in world.npcs:
        if npc.alive and npc.revealed_until > world.tick:
            sx, sy = centre(npc.x, npc.y)
            pygame.draw.circle(screen, REVEALED, (sx, sy), int(half * (0.9 + 0.1 * pulse)), 3)
