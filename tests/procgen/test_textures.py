"""The seamless texture GAN: the measures behave as DESIGN.md defines them, the shipped themes tile and look like
their exemplars, sampling is deterministic and bounded, and a developer can train on their own image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from demo_game.cli import app
from procgen.metrics.textures import (
    SEAM_GOAL,
    diversity,
    gram_distance,
    meets_seam_goal,
    nearest_patch_distance,
    periodic_component,
    random_crops,
    seam_ratio,
    seam_ratios,
    shuffled_patches,
)
from procgen.textures import THEMES, TextureGenerator
from procgen.textures.generator import exemplar

runner = CliRunner()


# ------------------------------------------------------------------------------------------------- measures
def test_seam_ratio_tells_a_tiling_image_from_a_cut_one() -> None:
    y, x = np.mgrid[0:64, 0:64] / 64
    periodic = (np.sin(2 * np.pi * (3 * x + 2 * y)) * 100 + 128).astype(np.uint8)[..., None].repeat(3, 2)
    ramp = (x * 255).astype(np.uint8)[..., None].repeat(3, 2)
    assert seam_ratio(periodic) <= 1.05
    assert seam_ratio(ramp) > 10


def test_gram_distance_is_small_for_crops_and_large_for_other_themes_and_noise() -> None:
    brick = exemplar("brick_wall")
    rng = np.random.default_rng(0)
    crops = np.stack([np.roll(brick, tuple(rng.integers(0, 256, 2)), (0, 1)) for _ in range(4)])
    other = np.stack([exemplar(t) for t in THEMES if t != "brick_wall"])
    noise = rng.integers(0, 256, (4, 256, 256, 3), dtype=np.uint8)
    own = gram_distance(crops, brick).max()
    assert own < 0.02
    assert gram_distance(other, brick).min() > 10 * own
    assert gram_distance(noise, brick).min() > 10 * own


def test_shuffled_patches_keep_every_pixel_and_break_the_layout() -> None:
    ex = exemplar("wood")
    shuffled = shuffled_patches(ex, 32, np.random.default_rng(1))
    assert sorted(map(tuple, ex.reshape(-1, 3))) == sorted(map(tuple, shuffled.reshape(-1, 3)))
    assert np.abs(shuffled.astype(int) - ex).mean() > 10


def test_nearest_patch_distance_is_zero_for_the_exemplar_itself() -> None:
    ex = exemplar("lava")
    assert nearest_patch_distance(ex[None, :128, :128], ex, patch=16, per_sample=32) < 0.03
    noise = np.random.default_rng(2).integers(0, 256, (1, 128, 128, 3), dtype=np.uint8)
    assert nearest_patch_distance(noise, ex) > 0.2


# ------------------------------------------------------------------------------------------- shipped themes
@pytest.fixture(scope="module")
def generators() -> dict[str, TextureGenerator]:
    return {theme: TextureGenerator.pretrained(theme, device="cpu") for theme in THEMES}


SEAM_SAMPLES = 64
UNMET_WHEN_RESAMPLED = {"brick_wall", "grass_dirt", "wood"}
"""Themes whose mean seam ratio misses SEAM_GOAL at sizes that are not a multiple of 16 (1.15 to 1.28 over 64 to
128 samples; docs/textures.md and textures_eval.md say so). They are held to RESAMPLED_BOUND there instead."""
RESAMPLED_BOUND = 1.5


@pytest.mark.slow
@pytest.mark.parametrize("size", [256, 100, (160, 96)])
def test_every_shipped_theme_is_seamless_at_random_cuts(generators, size) -> None:
    """DESIGN.md's seam ratio at random cuts meets its goal: the mean over 64 samples is ≤ SEAM_GOAL (1.1).

    Measured on the net's own edge (`edge="raw"`): the latent is random, so that edge is a random cut of the
    periodic texture, and nothing chose it by looking at the pixels. A single cut is noisy (brick's mortar lines
    make neighbouring pairs differ several-fold), hence the 64. The same check fails for a cut photograph
    (the next test), so it can fail. At resampled sizes three themes miss the goal (UNMET_WHEN_RESAMPLED): the
    net's edge is always a cell boundary, and theirs are rougher than the average pair once resampled."""
    for theme, gen in generators.items():
        textures = gen.sample_batch(SEAM_SAMPLES, size, seed=3, edge="raw")
        width, height = (size, size) if isinstance(size, int) else size
        assert textures.shape == (SEAM_SAMPLES, height, width, 3) and textures.dtype == np.uint8
        goal = RESAMPLED_BOUND if size != 256 and theme in UNMET_WHEN_RESAMPLED else SEAM_GOAL
        assert meets_seam_goal(textures, goal), (
            f"{theme} at {size}: mean seam ratio at random cuts {seam_ratios(textures).mean():.3f} > {goal}"
        )


@pytest.mark.parametrize("theme", ["stone_floor", "brick_wall", "grass_dirt", "wood"])
def test_the_seam_check_fails_for_a_cut_photograph(theme) -> None:
    """The photographs cropped at random offsets (not periodic) fail the very check the generator passes, while
    the same photograph made exactly periodic (Moisan's periodic component) and cut at random passes: the
    measure tells a tiling texture from a cut one. (Lava and water are flat-colour tiles, left out.)"""
    rng = np.random.default_rng(0)
    photo = exemplar(theme)
    crops = random_crops(photo, 192, SEAM_SAMPLES, rng)
    assert not meets_seam_goal(crops)
    assert seam_ratios(crops).mean() > 1.5
    periodic = periodic_component(photo)
    cut = np.stack([np.roll(periodic, tuple(rng.integers(0, 256, 2)), (0, 1)) for _ in range(SEAM_SAMPLES)])
    assert meets_seam_goal(cut)


def test_the_quiet_cut_is_only_presentation() -> None:
    """It is a pure roll, so it makes any image's seam ratio ≤ 1, a photograph's included, and it is never the
    measure: an image that does not tile keeps its real seam, now inside, where tiling still shows it."""
    from procgen.textures.generator import quiet_cut

    photo = exemplar("wood")[:128, :128]
    assert seam_ratio(photo) > SEAM_GOAL
    cut = quiet_cut(photo[None])[0]
    assert seam_ratio(cut) <= 1.0  # why it cannot be the measure
    assert any(
        np.array_equal(np.roll(photo, (dy, dx), (0, 1)), cut) for dy in range(128) for dx in range(128)
    )
    tiled = np.tile(cut, (2, 2, 1)).astype(np.int16)
    columns = np.abs(np.diff(tiled, axis=1)).mean((0, 2))
    assert columns.max() > 4 * np.median(columns)


def test_sampling_edges(generators) -> None:
    """`edge="quiet"` (the default) is the raw texture rolled; anything else is an error."""
    gen = generators["lava"]
    raw, quiet = gen.sample(64, seed=4, edge="raw"), gen.sample(64, seed=4)
    assert any(np.array_equal(np.roll(raw, (dy, dx), (0, 1)), quiet) for dy in range(64) for dx in range(64))
    with pytest.raises(ValueError, match="edge"):
        gen.sample(64, edge="middle")


def test_periodic_component_tiles_and_keeps_the_detail() -> None:
    photo = exemplar("brick_wall").astype(np.float64)
    p = periodic_component(photo)
    assert seam_ratio(photo) > 3 and seam_ratio(p) < 1.0
    assert np.abs(p - photo).mean() < 16  # the smooth part it removes is small


@pytest.mark.slow
def test_each_theme_looks_like_its_own_exemplar_more_than_any_other(generators) -> None:
    exemplars = {t: exemplar(t) for t in THEMES}
    for theme, gen in generators.items():
        made = gen.sample_batch(8, 256, seed=5)
        distance = {t: float(gram_distance(made, ex).mean()) for t, ex in exemplars.items()}
        assert min(distance, key=distance.get) == theme, f"{theme}: {distance}"


@pytest.mark.slow
def test_samples_vary_and_do_not_copy_the_exemplar(generators) -> None:
    """Samples differ from each other at least a third as much as random crops of the exemplar do, and their
    patches are not the exemplar's own (whose nearest-patch distance is 0)."""
    rng = np.random.default_rng(0)
    for theme, gen in generators.items():
        ex = exemplar(theme)
        crops = np.stack([np.roll(ex, tuple(rng.integers(0, 256, 2)), (0, 1)) for _ in range(8)])
        made = gen.sample_batch(8, 256, seed=9)
        assert diversity(made) > diversity(crops) / 3, theme
        assert nearest_patch_distance(made, ex) > 0.005, theme


def test_a_seed_fixes_the_texture(generators) -> None:
    gen = generators["stone_floor"]
    a, b, c = gen.sample(128, seed=11), gen.sample(128, seed=11), gen.sample(128, seed=12)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sizes_and_batches_are_bounded(generators) -> None:
    gen = generators["water"]
    for size in (4, 4096, (64, 0)):
        with pytest.raises(ValueError, match="size"):
            gen.sample(size)
    with pytest.raises(ValueError, match="n: expected"):
        gen.sample_batch(10_000)
    with pytest.raises(ValueError, match="theme"):
        TextureGenerator.pretrained("marble")


# --------------------------------------------------------------------------------------------- developers
def test_train_dry_run_on_a_shipped_theme(tmp_path) -> None:
    from procgen.textures.train import Args, train

    path = train(Args(theme="lava", dry_run=True, run_dir=str(tmp_path)))
    assert path.name == "generator.safetensors"
    assert not list(tmp_path.iterdir())  # a dry run leaves nothing behind


def test_train_on_your_own_image_then_sample_it_from_the_cli(tmp_path) -> None:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(tmp_path / "mine.png")
    weights = tmp_path / "mine_weights"
    result = runner.invoke(
        app,
        [
            "textures",
            "train",
            "--theme",
            str(tmp_path / "mine.png"),
            "--iterations",
            "2",
            "--crop",
            "64",
            "--run-dir",
            str(tmp_path / "runs"),
            "--weights-out",
            str(weights),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "mine" / "samples").is_dir()
    out = tmp_path / "tex.png"
    result = runner.invoke(
        app,
        ["textures", "sample", "--weights", str(weights), "--size", "48", "--seed", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    img = np.asarray(Image.open(out))
    assert img.shape == (48, 48, 3) and img.std() > 0


def test_training_on_a_missing_or_tiny_image_is_a_clear_error(tmp_path) -> None:
    from engine.errors import LudoforgeError
    from procgen.textures.train import Args, train

    with pytest.raises(LudoforgeError, match="neither a shipped theme"):  # a one-line CLI error
        train(Args(theme=str(tmp_path / "nope.png"), dry_run=True))
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(ValueError, match="smaller than --crop"):
        train(Args(theme=str(tmp_path / "tiny.png"), dry_run=True))


def test_cli_sample_folder_and_bad_theme(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "textures",
            "sample",
            "--theme",
            "wood",
            "--n",
            "3",
            "--size",
            "64",
            "--seed",
            "2",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("wood_*.png"))) == 3
    result = runner.invoke(app, ["textures", "sample", "--theme", "marble", "--out", str(tmp_path / "x.png")])
    assert result.exit_code != 0 and "marble" in result.output


def test_the_generator_is_exactly_periodic(generators) -> None:
    """The body is circular (shift its input grid by a cell and the texture shifts by 16 pixels, wrapping round)
    and every wave completes whole cycles across the grid: so there is no edge anywhere, and every cut tiles."""
    import torch

    net = generators["brick_wall"].net
    rows, cols = 6, 5
    local, glob, phase = net.latent(4, rows, cols, torch.Generator().manual_seed(0))
    with torch.no_grad():
        z = torch.cat(
            [local, glob[..., None, None].expand(-1, -1, rows, cols), net.waves(glob, phase, rows, cols)], 1
        )
        a, b = net.body(z), net.body(torch.roll(z, (1, 2), (-2, -1)))
        cycles = net.waves.wave_vectors(glob, rows, cols) * torch.tensor([rows, cols])
    assert torch.allclose(torch.roll(a, (16, 32), (-2, -1)), b, atol=1e-5)
    assert torch.allclose(cycles, cycles.round(), atol=1e-4)
    assert cycles.abs().max() > 0.5  # the waves are in use, not all flat
