"""The tileset builder on the shipped texture GANs: one palette, seamless floors across variants, wall autotiles,
files that Tiled and our renderer can read, determinism by seed, bounded sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from demo_game.cli import app
from engine.level import Semantic
from procgen.metrics.textures import seam_ratio
from procgen.textures.tileset import PALETTE_COLOURS, VARIANT_SIDE, TilesetGenerator, TilesetTheme


@pytest.fixture(scope="module")
def builder() -> TilesetGenerator:
    return TilesetGenerator(tile_px=32)


@pytest.fixture(scope="module")
def tileset(builder):
    return builder.generate(seed=4)


def _block(tileset, semantic: str) -> np.ndarray:
    rows = [
        np.concatenate(
            [tileset.tile(semantic, y * VARIANT_SIDE + x)[..., :3] for x in range(VARIANT_SIDE)], 1
        )
        for y in range(VARIANT_SIDE)
    ]
    return np.concatenate(rows, 0)


def _boundary_ratio(block: np.ndarray, px: int) -> float:
    """Mean |difference| across the tile boundaries inside a block over the mean across all other neighbours."""
    a = block.astype(np.float64)
    dx, dy = np.abs(np.diff(a, axis=1)), np.abs(np.diff(a, axis=0))
    at_x = np.zeros(dx.shape[1], bool)
    at_x[px - 1 :: px] = True
    at_y = np.zeros(dy.shape[0], bool)
    at_y[px - 1 :: px] = True
    across = np.concatenate([dx[:, at_x].ravel(), dy[at_y].ravel()]).mean()
    inside = np.concatenate([dx[:, ~at_x].ravel(), dy[~at_y].ravel()]).mean()
    return float(across / inside)


@pytest.mark.parametrize("semantic", ["floor", "hazard", "water"])
def test_variant_blocks_meet_without_seams(builder, semantic) -> None:
    """Each 4x4 block of variants is one periodic texture: it wraps onto itself, and no tile edge inside it
    shows. Single seams are noisy (see test_textures), so the measure is over eight seeds' blocks."""
    blocks = [_block(builder.generate(seed=s), semantic) for s in range(8)]
    wraps = np.array([seam_ratio(b) for b in blocks])
    assert wraps.mean() <= 1.0 + 3 * wraps.std(ddof=1) / np.sqrt(len(wraps))
    inside = np.array([_boundary_ratio(b, builder.tile_px) for b in blocks])
    assert inside.mean() <= 1.1


def test_one_shared_palette_and_opaque_tiles(tileset) -> None:
    used = tileset.atlas[tileset.atlas[..., 3] > 0][:, :3]
    assert len(np.unique(used, axis=0)) <= PALETTE_COLOURS
    assert set(np.unique(tileset.atlas[..., 3])) <= {0, 255}
    assert (tileset.atlas[..., 3] == 255).sum() == len(tileset.tiles) * tileset.tile_px**2


def test_walls_have_sixteen_distinct_autotiles_and_a_plain_inside(tileset) -> None:
    walls = [tileset.tile(Semantic.WALL, m)[..., :3] for m in range(16)]
    assert len({w.tobytes() for w in walls}) == 16
    # A wall open to the north gets a lit cap (rows 2..5 of 32; rows 0..1 are its dark outline); one open to the
    # south a dark face.
    plain = walls[15].astype(float)
    assert walls[15 & ~1][2:6].mean() > plain[2:6].mean() + 5
    assert walls[15 & ~1][:2].mean() < walls[15 & ~1][2:6].mean()
    assert walls[15 & ~4][-4:].mean() < plain[-4:].mean() - 5


def test_every_renderer_semantic_has_a_tile(tileset) -> None:
    index = tileset.index()
    for semantic in ("floor", "wall", "door", "locked_door", "exit", "hazard", "water", "void", "decoration"):
        assert semantic in index["semantics"], semantic
    assert index["semantics"]["floor"]["variants"] == VARIANT_SIDE**2
    assert index["semantics"]["wall"]["rule"] == "wall_mask"


def test_saved_files_agree_with_each_other(tileset, tmp_path) -> None:
    index_path = tileset.save(tmp_path / "ts")
    index = json.loads(index_path.read_text())
    tsj = json.loads((tmp_path / "ts" / "tileset.tsj").read_text())
    atlas = np.asarray(Image.open(tmp_path / "ts" / index["image"]))
    assert atlas.shape == (tsj["imageheight"], tsj["imagewidth"], 4)
    assert tsj["tilewidth"] == index["tile_px"] == 32
    semantics = [p["value"] for t in tsj["tiles"] for p in t["properties"] if p["name"] == "semantic"]
    assert semantics.count("floor") == VARIANT_SIDE**2 and semantics.count("wall") == 16
    assert np.array_equal(atlas, tileset.atlas)


def test_a_seed_fixes_the_tileset(builder, tileset) -> None:
    assert np.array_equal(builder.generate(seed=4).atlas, tileset.atlas)
    assert not np.array_equal(builder.generate(seed=5).atlas, tileset.atlas)


def test_bad_theme_and_tile_size_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"TilesetTheme\.floor"):
        TilesetGenerator(TilesetTheme(floor="marble"))
    with pytest.raises(ValueError, match="tile_px"):
        TilesetGenerator(tile_px=1000)


def test_cli_writes_a_tileset(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["textures", "tileset", "--seed", "2", "--tile-px", "16", "--out", str(tmp_path / "t")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "t" / "index.json").read_text())["tile_px"] == 16
