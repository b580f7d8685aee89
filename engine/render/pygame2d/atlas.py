"""The tile atlas and sprite animations the 2-D renderer draws with.

The starting art is CC0 Kenney art taken from arcade's wheel (see ATTRIBUTION.md). A generated tileset (an atlas
PNG plus its index.json, written by procgen's tileset builder) replaces the terrain with `with_tileset`; each
semantic there may have several variants, picked per tile by the index's rule:
- "grid4": variant (y % 4) * 4 + x % 4, the 4x4 cut of one seamless texture, so a floor is seamless;
- "wall_mask": variant = the mask of wall neighbours (north 1, east 2, south 4, west 8), an autotile;
- "single": one tile.

A generated cast (sprite sheets plus cast.json, written by the demo from procgen's sprite GAN) replaces the
characters with `with_cast`: per role ("player", "enemy", "npc") one or more characters, each a walk cycle per
facing (down, left, right, up).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pygame

from engine.errors import LudoforgeError
from engine.level import Semantic

ASSETS = Path(__file__).resolve().parent / "assets" / "kenney"


@dataclass
class Animation:
    """Frames played at `fps`; `frame(t)` picks the frame for time t in seconds."""

    frames: list[pygame.Surface]
    fps: float = 8.0

    def frame(self, t: float) -> pygame.Surface:
        return self.frames[int(t * self.fps) % len(self.frames)]


VARIANT_RULES = ("single", "grid4", "wall_mask")
FACINGS = ("down", "left", "right", "up")
CAST_ROLES = ("player", "enemy", "npc")
WalkCycle = dict[str, Animation]
"""facing → its walk animation; frame 0 is the standing pose"""
_WALL_CODES = np.zeros(256, dtype=bool)
_WALL_CODES[[Semantic.WALL.code, Semantic.SOLID.code]] = True


class TilesetError(LudoforgeError, ValueError):
    """A tileset index or atlas that cannot be used: names the file and the field."""

    def __init__(self, path: str | Path, field_name: str, message: str) -> None:
        self.path, self.field = Path(path), field_name
        super().__init__(f"{path}: {field_name}: {message}")


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
    variants: dict[Semantic, tuple[str, list[pygame.Surface]]] = field(default_factory=dict)
    """per semantic: (rule, surfaces) from a generated tileset; `tiles` holds each one's first variant"""
    cast: dict[str, list[WalkCycle]] = field(default_factory=dict)
    """per role in CAST_ROLES: its characters' walk cycles, from a generated cast (empty: the Kenney art)"""

    def walk_cycle(self, role: str, index: int = 0) -> WalkCycle | None:
        """The generated walk cycle for the `index`-th character of `role` (cycling), or None if there is none."""
        cycles = self.cast.get(role)
        return cycles[index % len(cycles)] if cycles else None

    def tile_at(self, semantic: Semantic, x: int, y: int, terrain: np.ndarray) -> pygame.Surface:
        """The surface for the tile at (x, y) of `terrain` (codes), its variant chosen by the tileset's rule."""
        entry = self.variants.get(semantic)
        if entry is None:
            return self.tiles[semantic]
        rule, surfaces = entry
        if rule == "grid4":
            return surfaces[((y % 4) * 4 + x % 4) % len(surfaces)]
        if rule == "wall_mask":
            h, w = terrain.shape
            mask = (
                (y == 0 or _WALL_CODES[terrain[y - 1, x]])
                | (x == w - 1 or _WALL_CODES[terrain[y, x + 1]]) << 1
                | (y == h - 1 or _WALL_CODES[terrain[y + 1, x]]) << 2
                | (x == 0 or _WALL_CODES[terrain[y, x - 1]]) << 3
            )
            return surfaces[int(mask) % len(surfaces)]
        return surfaces[0]

    def with_tileset(self, index_path: str | Path) -> TileAtlas:
        """A copy whose terrain comes from a generated tileset (index.json beside its atlas PNG), scaled to this
        atlas's tile size; items and characters are kept."""
        index_path = Path(index_path)
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TilesetError(index_path, "file", f"not readable JSON: {exc}") from exc
        for key in ("image", "tile_px", "columns", "semantics"):
            if key not in index:
                raise TilesetError(index_path, key, "missing")
        px, columns = int(index["tile_px"]), int(index["columns"])
        image_path = index_path.parent / str(index["image"])
        try:
            sheet = pygame.image.load(str(image_path))
        except (pygame.error, FileNotFoundError) as exc:
            raise TilesetError(image_path, "image", f"cannot be loaded: {exc}") from exc
        if sheet.get_width() < columns * px:
            raise TilesetError(index_path, "columns", f"{columns} columns of {px}px do not fit the atlas")
        tiles = dict(self.tiles)
        variants: dict[Semantic, tuple[str, list[pygame.Surface]]] = {}
        for name, entry in index["semantics"].items():
            try:
                semantic = Semantic(name)
            except ValueError:
                raise TilesetError(
                    index_path, f"semantics.{name}", "not a semantic of the vocabulary"
                ) from None
            rule = entry.get("rule", "single")
            if rule not in VARIANT_RULES:
                raise TilesetError(index_path, f"semantics.{name}.rule", f"expected one of {VARIANT_RULES}")
            surfaces = []
            for cell in range(int(entry["first"]), int(entry["first"]) + int(entry["variants"])):
                row, col = divmod(cell, columns)
                if (row + 1) * px > sheet.get_height():
                    raise TilesetError(index_path, f"semantics.{name}", f"cell {cell} is outside the atlas")
                tile = sheet.subsurface((col * px, row * px, px, px)).copy()
                # Whole-number scaling keeps the generated pixels crisp; other sizes are smoothed.
                scale = pygame.transform.scale if self.tile_px % px == 0 else pygame.transform.smoothscale
                surfaces.append(scale(tile, (self.tile_px, self.tile_px)))
            variants[semantic] = (rule, surfaces)
            tiles[semantic] = surfaces[0]
        return replace(self, tiles=tiles, variants=variants)

    def with_cast(self, cast_path: str | Path) -> TileAtlas:
        """A copy whose characters come from a generated cast: cast.json beside one walk sheet per character
        (rows: facings in FACINGS order; columns: frames), scaled to this atlas's tile size."""
        cast_path = Path(cast_path)
        try:
            index = json.loads(cast_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TilesetError(cast_path, "file", f"not readable JSON: {exc}") from exc
        for key in ("sprite_px", "frames", "fps", "facings", "roles"):
            if key not in index:
                raise TilesetError(cast_path, key, "missing")
        if list(index["facings"]) != list(FACINGS):
            raise TilesetError(cast_path, "facings", f"expected {list(FACINGS)}")
        px, frames, fps = int(index["sprite_px"]), int(index["frames"]), float(index["fps"])
        if not 8 <= px <= 256 or not 1 <= frames <= 64:
            raise TilesetError(cast_path, "sprite_px", "expected 8..256 px and 1..64 frames")
        cast: dict[str, list[WalkCycle]] = {}
        for role, sheets in index["roles"].items():
            if role not in CAST_ROLES:
                raise TilesetError(cast_path, f"roles.{role}", f"expected one of {CAST_ROLES}")
            cycles = []
            for name in sheets:
                sheet_path = cast_path.parent / str(name)
                try:
                    sheet = pygame.image.load(str(sheet_path))
                except (pygame.error, FileNotFoundError) as exc:
                    raise TilesetError(sheet_path, "image", f"cannot be loaded: {exc}") from exc
                if sheet.get_size() != (frames * px, len(FACINGS) * px):
                    raise TilesetError(
                        sheet_path, "size", f"expected {frames * px}x{len(FACINGS) * px} (frames x facings)"
                    )
                # Whole-number scaling keeps the pixels crisp; otherwise nearest neighbour, still unblurred.
                size = (self.tile_px, self.tile_px)
                cycles.append(
                    {
                        facing: Animation(
                            [
                                pygame.transform.scale(sheet.subsurface((f * px, row * px, px, px)), size)
                                for f in range(frames)
                            ],
                            fps,
                        )
                        for row, facing in enumerate(FACINGS)
                    }
                )
            if cycles:
                cast[role] = cycles
        return replace(self, cast=cast)

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
