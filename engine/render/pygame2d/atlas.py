"""The tile atlas and sprite animations the 2-D renderer draws with.

The starting art is CC0 Kenney art taken from arcade's wheel (see ATTRIBUTION.md); generated art replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygame

from engine.level import Semantic

ASSETS = Path(__file__).resolve().parent / "assets" / "kenney"


@dataclass
class Animation:
    """Frames played at `fps`; `frame(t)` picks the frame for time t in seconds."""

    frames: list[pygame.Surface]
    fps: float = 8.0

    def frame(self, t: float) -> pygame.Surface:
        return self.frames[int(t * self.fps) % len(self.frames)]


@dataclass
class TileAtlas:
    tile_px: int
    tiles: dict[Semantic, pygame.Surface]
    items: dict[Semantic, pygame.Surface]
    player_idle: Animation
    player_walk: Animation
    enemy: Animation
    npc_idle: Animation
    npc_walk: Animation

    @classmethod
    def kenney(cls, tile_px: int = 48) -> TileAtlas:
        def load(name: str, size: tuple[int, int] = (tile_px, tile_px), tint: float = 1.0) -> pygame.Surface:
            img = pygame.image.load(str(ASSETS / name))
            img = pygame.transform.smoothscale(
                img.convert_alpha() if pygame.display.get_surface() else img, size
            )
            if tint != 1.0:
                shade = int(255 * tint)
                img.fill((shade, shade, shade, 255), special_flags=pygame.BLEND_RGBA_MULT)
            return img

        def on_floor(name: str, floor: pygame.Surface, inset: int = 0) -> pygame.Surface:
            tile = floor.copy()
            tile.blit(load(name, (tile_px - 2 * inset, tile_px - 2 * inset)), (inset, inset))
            return tile

        floor = load("stoneCenter.png", tint=0.45)
        wall = load("brickGrey.png", tint=0.8)
        pygame.draw.rect(wall, (30, 28, 34), wall.get_rect(), 2)
        void = pygame.Surface((tile_px, tile_px))
        void.fill((10, 9, 14))
        door = load("dirtCenter.png", tint=0.6)
        door.fill((170, 120, 80, 255), special_flags=pygame.BLEND_RGBA_MULT)
        tiles = {
            Semantic.FLOOR: floor,
            Semantic.WALL: wall,
            Semantic.VOID: void,
            Semantic.DOOR: door,
            Semantic.LOCKED_DOOR: on_floor("lockYellow.png", floor),
            Semantic.EXIT: on_floor("signExit.png", floor, inset=4),
            Semantic.HAZARD: load("lava.png"),
            Semantic.WATER: load("water.png"),
            Semantic.DECORATION: on_floor("mushroomRed.png", floor, inset=10),
        }
        # Anything the vocabulary has that the dungeon art lacks (platformer tiles) draws as a wall or floor.
        for s in Semantic:
            tiles.setdefault(s, wall if s is Semantic.SOLID else floor)
        char = (tile_px, int(tile_px * 4 / 3))
        player_walk = [load(f"maleAdventurer_walk{i}.png", char) for i in range(8)]
        npc_walk = [load(f"femalePerson_walk{i}.png", char) for i in range(4)]
        return cls(
            tile_px=tile_px,
            tiles=tiles,
            items={
                Semantic.KEY: load("keyYellow.png", (tile_px * 3 // 4,) * 2),
                Semantic.TREASURE: load("gemBlue.png", (tile_px * 3 // 4,) * 2),
            },
            player_idle=Animation([load("maleAdventurer_idle.png", char)], 1),
            player_walk=Animation(player_walk, 12),
            enemy=Animation([load("slimeBlue.png"), load("slimeBlue_move.png")], 3),
            npc_idle=Animation([load("femalePerson_idle.png", char)], 1),
            npc_walk=Animation(npc_walk, 8),
        )
