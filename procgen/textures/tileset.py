"""A whole tileset for one level theme, made from the texture GANs: an atlas PNG, a Tiled tileset and our index.

    from procgen.textures.tileset import TilesetGenerator
    tileset = TilesetGenerator().generate(seed=7)          # the default dungeon theme, 32-pixel tiles
    tileset.save("out/tileset")                            # atlas.png, tileset.tsj (Tiled), index.json

What is in it, and why it looks like one set:
- floor, hazard (lava) and water each come as a 4x4 block of variants cut from one seamless texture; the renderer
  picks variant (y % 4) * 4 + x % 4, so a whole floor is that texture again, with no seam between tiles;
- the wall comes in 16 autotile variants, one per mask of wall neighbours (north 1, east 2, south 4, west 8):
  an edge is shaded and outlined wherever the wall faces open ground, so corners and ends read as such;
- door, locked door, exit, void and decoration are built on the generated textures with procedural marks
  (frame, lock plate, stair treads, a tuft of the grass texture); nothing hand-drawn is loaded;
- finally the atlas is quantised to one shared palette (median cut, PALETTE_COLOURS, no dithering), so every
  tile uses the same colours.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.atomic import atomic_write_bytes
from engine.level import Semantic
from procgen.textures.generator import THEMES, TextureGenerator

VARIANT_SIDE = 4
"""floor-like tiles come as VARIANT_SIDE x VARIANT_SIDE variants of one seamless texture"""
WALL_MASKS = 16
PALETTE_COLOURS = 48
MIN_TILE_PX, MAX_TILE_PX = 8, 128
COLUMNS = 16


@dataclass(frozen=True)
class TilesetTheme:
    """Which texture theme dresses which part of the level."""

    name: str = "dungeon"
    floor: str = "stone_floor"
    wall: str = "brick_wall"
    hazard: str = "lava"
    water: str = "water"
    door: str = "wood"
    decoration: str = "grass_dirt"

    def textures(self) -> dict[str, str]:
        parts = {k: v for k, v in self.__dict__.items() if k != "name"}
        for part, theme in parts.items():
            if theme not in THEMES:
                raise ValueError(f"TilesetTheme.{part}: expected one of {THEMES}, got {theme!r}")
        return parts


@dataclass
class Tileset:
    """An RGBA atlas and what each tile is: `tiles[i]` = {"semantic", "variant"} for atlas cell i (row-major)."""

    tile_px: int
    atlas: np.ndarray
    tiles: list[dict[str, Any]]
    theme: str
    seed: int
    weights: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> int:
        return self.atlas.shape[1] // self.tile_px

    def tile(self, semantic: Semantic | str, variant: int = 0) -> np.ndarray:
        """The (px, px, 4) RGBA tile for a semantic and variant."""
        sem = Semantic(semantic).value
        for i, t in enumerate(self.tiles):
            if t["semantic"] == sem and t["variant"] == variant:
                y, x = divmod(i, self.columns)
                p = self.tile_px
                return self.atlas[y * p : (y + 1) * p, x * p : (x + 1) * p]
        raise KeyError(f"tileset has no tile for semantic {sem!r} variant {variant}")

    def index(self, image: str = "atlas.png") -> dict[str, Any]:
        """Our renderer's index: the atlas, the tile size and, per semantic, its first cell and variant rule."""
        first: dict[str, dict[str, Any]] = {}
        for i, t in enumerate(self.tiles):
            entry = first.setdefault(t["semantic"], {"first": i, "variants": 0, "rule": t["rule"]})
            entry["variants"] += 1
        return {
            "image": image,
            "tile_px": self.tile_px,
            "columns": self.columns,
            "theme": self.theme,
            "seed": self.seed,
            "weights": self.weights,
            "semantics": first,
        }

    def tiled(self, image: str = "atlas.png") -> dict[str, Any]:
        """A Tiled JSON tileset (.tsj) over the same atlas; each tile carries `semantic` and `variant`."""
        rows = self.atlas.shape[0] // self.tile_px
        return {
            "name": f"ludoforge-{self.theme}-{self.seed}",
            "type": "tileset",
            "version": "1.10",
            "tiledversion": "1.10.2",
            "tilewidth": self.tile_px,
            "tileheight": self.tile_px,
            "tilecount": rows * self.columns,
            "columns": self.columns,
            "margin": 0,
            "spacing": 0,
            "image": image,
            "imagewidth": self.atlas.shape[1],
            "imageheight": self.atlas.shape[0],
            "tiles": [
                {
                    "id": i,
                    "properties": [
                        {"name": "semantic", "type": "string", "value": t["semantic"]},
                        {"name": "variant", "type": "int", "value": t["variant"]},
                    ],
                }
                for i, t in enumerate(self.tiles)
            ],
        }

    def files(self) -> dict[str, bytes]:
        """atlas.png, tileset.tsj and index.json as bytes, index.json last (what `save` writes)."""
        buf = io.BytesIO()
        Image.fromarray(self.atlas, "RGBA").save(buf, format="PNG")
        return {
            "atlas.png": buf.getvalue(),
            "tileset.tsj": (json.dumps(self.tiled(), indent=1) + "\n").encode("utf-8"),
            "index.json": (json.dumps(self.index(), indent=1) + "\n").encode("utf-8"),
        }

    def save(self, folder: str | Path) -> Path:
        """Write atlas.png, tileset.tsj and index.json into `folder` (each atomically, the index last, so its
        presence means the set is whole); returns the index path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files().items():
            atomic_write_bytes(folder / name, data)
        return folder / "index.json"


def _cut(texture: np.ndarray, px: int) -> list[np.ndarray]:
    """A (side·px, side·px, 3) seamless texture → its side² tiles, row-major."""
    side = texture.shape[0] // px
    return [texture[y * px : (y + 1) * px, x * px : (x + 1) * px] for y in range(side) for x in range(side)]


def _shade(rgb: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def wall_variant(tile: np.ndarray, mask: int) -> np.ndarray:
    """A wall tile for one neighbour mask (N=1, E=2, S=4, W=8 set where the neighbour is wall): every side facing
    open ground gets a lit top face (north), a dark drop shadow (south) or a dark rim (east, west)."""
    px = tile.shape[0]
    out = tile.astype(np.float32)
    rim = max(1, px // 16)
    face = max(2, px // 5)
    if not mask & 1:  # open to the north: a lighter cap, as if lit from above
        out[:face] = out[:face] * 0.7 + 255 * 0.3
        out[:rim] *= 0.5
    if not mask & 4:  # open to the south: the wall's dark face
        ramp = np.linspace(1.0, 0.45, face, dtype=np.float32)[:, None, None]
        out[px - face :] *= ramp
    if not mask & 2:
        out[:, px - rim :] *= 0.45
    if not mask & 8:
        out[:, :rim] *= 0.45
    return np.clip(out, 0, 255).astype(np.uint8)


def door_tile(wood: np.ndarray, floor: np.ndarray, locked: bool) -> np.ndarray:
    """Wood planks in a dark frame over the floor; a locked door gets a bright lock plate in the middle."""
    px = wood.shape[0]
    out = floor.copy()
    frame = max(2, px // 8)
    inner = slice(frame // 2, px - frame // 2)
    out[inner, inner] = _shade(wood[inner, inner], 0.55)
    out[frame : px - frame, frame : px - frame] = wood[frame : px - frame, frame : px - frame]
    c = px // 2
    if locked:
        r = max(2, px // 6)
        plate = np.array([230, 190, 60], np.uint8)
        out[c - r : c + r, c - r : c + r] = plate
        out[c - r // 3 : c + r // 2, c - max(1, r // 4) : c + max(1, r // 4)] = (40, 30, 10)
    else:
        knob = max(1, px // 12)
        out[c - knob : c + knob, px - frame - 3 * knob : px - frame - knob] = (40, 30, 10)
    return out


def exit_tile(floor: np.ndarray) -> np.ndarray:
    """Stairs down: treads getting darker toward the bottom."""
    px = floor.shape[0]
    out = floor.astype(np.float32)
    steps = 4
    for i in range(steps):
        y0, y1 = i * px // steps, (i + 1) * px // steps
        out[y0:y1] *= 1.0 - 0.18 * (i + 1)
        out[y0 : y0 + max(1, px // 32)] = out[y0 : y0 + max(1, px // 32)] * 0.3 + 200 * 0.7
    return np.clip(out, 0, 255).astype(np.uint8)


def decoration_tile(floor: np.ndarray, tuft: np.ndarray) -> np.ndarray:
    """A round tuft of the decoration texture on the floor, with a soft shadow under it."""
    px = floor.shape[0]
    y, x = np.mgrid[0:px, 0:px]
    r = np.hypot(y - px * 0.55, x - px / 2)
    out = floor.astype(np.float32)
    shadow = np.clip(1 - (px * 0.42 - r) / (px * 0.1), 0.55, 1)[..., None]
    out *= shadow
    inside = r < px * 0.32
    out[inside] = tuft[inside]
    return np.clip(out, 0, 255).astype(np.uint8)


def void_tile(floor: np.ndarray) -> np.ndarray:
    return _shade(floor, 0.12)


class TilesetGenerator:
    """Builds a Tileset for a seed from the shipped texture generators (loaded once, reused for every seed)."""

    def __init__(
        self,
        theme: TilesetTheme | None = None,
        tile_px: int = 32,
        device: str = "cpu",
        loaded: Mapping[str, TextureGenerator] | None = None,
    ) -> None:
        """`loaded`: texture generators already loaded, by theme (a server keeps one of each); the rest load."""
        if not MIN_TILE_PX <= tile_px <= MAX_TILE_PX:
            raise ValueError(f"tile_px: expected {MIN_TILE_PX}..{MAX_TILE_PX}, got {tile_px}")
        self.theme = theme or TilesetTheme()
        self.tile_px = tile_px
        loaded = loaded or {}
        self.generators = {
            part: loaded[texture]
            if texture in loaded
            else TextureGenerator.pretrained(texture, device=device)
            for part, texture in self.theme.textures().items()
        }

    def generate(self, seed: int = 0, style: np.ndarray | None = None, style_steps: int = 60) -> Tileset:
        """The tileset for `seed`; with a `style` image (H, W, 3 uint8), every texture is first restyled toward it
        (style transfer with wrap-round convolutions, so the textures stay seamless)."""
        px = self.tile_px
        side = VARIANT_SIDE * px
        # One seamless texture per part, each with its own seed stream so that changing one part's generator
        # leaves the others as they were.
        tex = {
            part: gen.sample(side, seed * 7919 + k) for k, (part, gen) in enumerate(self.generators.items())
        }
        if style is not None:
            from procgen.textures.style import transfer

            tex = {part: transfer(t, style, steps=style_steps, periodic=True) for part, t in tex.items()}
        floors = _cut(tex["floor"], px)
        walls = _cut(tex["wall"], px)
        cells: list[tuple[str, int, str, np.ndarray]] = []  # (semantic, variant, rule, rgb)
        for semantic, part in (
            (Semantic.FLOOR, "floor"),
            (Semantic.HAZARD, "hazard"),
            (Semantic.WATER, "water"),
        ):
            cells += [(semantic.value, i, "grid4", t) for i, t in enumerate(_cut(tex[part], px))]
        cells += [(Semantic.WALL.value, m, "wall_mask", wall_variant(walls[m], m)) for m in range(WALL_MASKS)]
        wood = tex["door"][:px, :px]
        cells += [
            (Semantic.DOOR.value, 0, "single", door_tile(wood, floors[0], locked=False)),
            (Semantic.LOCKED_DOOR.value, 0, "single", door_tile(wood, floors[0], locked=True)),
            (Semantic.EXIT.value, 0, "single", exit_tile(floors[5])),
            (Semantic.VOID.value, 0, "single", void_tile(floors[10])),
            (
                Semantic.DECORATION.value,
                0,
                "single",
                decoration_tile(floors[15], tex["decoration"][:px, :px]),
            ),
        ]
        rows = -(-len(cells) // COLUMNS)
        atlas = np.zeros((rows * px, COLUMNS * px, 3), np.uint8)
        for i, (*_, rgb) in enumerate(cells):
            y, x = divmod(i, COLUMNS)
            atlas[y * px : (y + 1) * px, x * px : (x + 1) * px] = rgb
        used = np.zeros(atlas.shape[:2], bool)
        for i in range(len(cells)):
            y, x = divmod(i, COLUMNS)
            used[y * px : (y + 1) * px, x * px : (x + 1) * px] = True
        # No dithering: the palette mapping stays per pixel, so tiles cut from one seamless texture still meet
        # without a seam after it.
        shared = Image.fromarray(atlas).quantize(
            PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        rgba = np.dstack([np.asarray(shared.convert("RGB")), np.where(used, 255, 0).astype(np.uint8)])
        return Tileset(
            tile_px=px,
            atlas=rgba,
            tiles=[{"semantic": s, "variant": v, "rule": r} for s, v, r, _ in cells],
            theme=self.theme.name,
            seed=int(seed),
            weights={part: gen.weights_id for part, gen in self.generators.items()},
        )
