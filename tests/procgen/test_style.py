"""Style transfer over a random-weight CNN, measured with a different random CNN (procgen.metrics.textures):
the style statistics move toward the exemplar, the content's edges stay, seamless input stays seamless."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from demo_game.cli import app
from procgen.metrics.textures import gram_distance, seam_ratio
from procgen.textures.generator import exemplar
from procgen.textures.style import edge_agreement, transfer

CONTENT = exemplar("brick_wall")[:64, :64]
STYLE = exemplar("lava")


@pytest.fixture(scope="module")
def restyled() -> np.ndarray:
    return transfer(CONTENT, STYLE, steps=60)


def test_style_statistics_move_toward_the_exemplar(restyled) -> None:
    before, after = gram_distance(CONTENT, STYLE)[0], gram_distance(restyled, STYLE)[0]
    assert after < 0.25 * before


def test_the_contents_edges_are_kept(restyled) -> None:
    assert edge_agreement(restyled, CONTENT) > 0.6
    assert edge_agreement(restyled, STYLE[:64, :64]) < 0.2


def test_deterministic(restyled) -> None:
    assert np.array_equal(transfer(CONTENT, STYLE, steps=60), restyled)


def test_periodic_content_stays_seamless() -> None:
    y, x = np.mgrid[0:64, 0:64] / 64
    stripes = (np.sin(2 * np.pi * (2 * x + y)) * 90 + 128).astype(np.uint8)[..., None].repeat(3, 2)
    assert seam_ratio(stripes) <= 1.05
    out = transfer(stripes, STYLE, steps=40, periodic=True)
    assert seam_ratio(out) <= 1.1


def test_bad_images_and_step_counts_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="content: expected an"):
        transfer(CONTENT.astype(np.float32), STYLE)
    with pytest.raises(ValueError, match="style"):
        transfer(CONTENT, STYLE[:8, :8])
    with pytest.raises(ValueError, match="steps"):
        transfer(CONTENT, STYLE, steps=0)


def test_cli_restyles_a_file(tmp_path) -> None:
    Image.fromarray(CONTENT).save(tmp_path / "c.png")
    Image.fromarray(STYLE).save(tmp_path / "s.png")
    out = tmp_path / "o.png"
    result = CliRunner().invoke(
        app,
        [
            "style",
            "transfer",
            "--content",
            str(tmp_path / "c.png"),
            "--style",
            str(tmp_path / "s.png"),
            "--steps",
            "20",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Gram distance to the style" in result.output
    assert np.asarray(Image.open(out)).shape == CONTENT.shape
    (tmp_path / "bad.png").write_text("not an image")
    result = CliRunner().invoke(
        app, ["style", "transfer", "--content", str(tmp_path / "bad.png"), "--style", str(tmp_path / "s.png")]
    )
    assert result.exit_code != 0 and "bad.png" in result.output
