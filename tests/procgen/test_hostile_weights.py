"""Weights and cards as a stranger might hand them over (issue 18's rows): each is refused at load with a
WeightsError naming the file and the field, instead of loading silently (and then being "repaired" into
playable levels that hide the fault) or ending in a traceback."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from procgen.characters.classifier import SpriteClassifier
from procgen.characters.generator import SpriteGenerator
from procgen.core.weights import WEIGHTS_DIR, WeightsError, save_weights
from procgen.levels.generator import LevelGenerator
from procgen.textures.generator import TextureGenerator

LOADERS: dict[str, Callable[[Path], object]] = {
    "levels_dungeon": LevelGenerator.from_weights,
    "sprites": SpriteGenerator.from_weights,
    "textures_lava": TextureGenerator.from_weights,
    "sprites_classifier": SpriteClassifier.from_weights,
}


def _copy(tmp_path: Path, name: str) -> Path:
    for suffix in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / name


def _retensor(stem: Path, change: Callable[[dict[str, torch.Tensor]], None]) -> None:
    """Rewrite the tensors and re-sign the card, as a careful forger would: only the content is wrong."""
    tensors = load_file(stem.with_suffix(".safetensors"))
    change(tensors)
    card = json.loads(stem.with_suffix(".json").read_text())
    save_weights(
        stem, tensors, {k: v for k, v in card.items() if k not in ("weights_sha256", "weights_bytes")}
    )


def _recard(stem: Path, change: Callable[[dict], None]) -> None:
    card = json.loads(stem.with_suffix(".json").read_text())
    change(card)
    stem.with_suffix(".json").write_text(json.dumps(card))


def _first_float(tensors: dict[str, torch.Tensor]) -> str:
    return next(k for k, v in tensors.items() if v.is_floating_point())


TENSOR_CASES = {
    "fp16": (
        lambda t: t.update({k: v.half() for k, v in t.items() if v.is_floating_point()}),
        "torch.float16",
    ),
    "int8": (
        lambda t: t.update({k: v.to(torch.int8) for k, v in t.items() if v.is_floating_point()}),
        "int8",
    ),
    "all NaN": (
        lambda t: t.update(
            {k: torch.full_like(v, float("nan")) for k, v in t.items() if v.is_floating_point()}
        ),
        "NaN",
    ),
}


@pytest.mark.parametrize("name", LOADERS)
@pytest.mark.parametrize("case", TENSOR_CASES)
def test_tensors_of_the_wrong_dtype_or_not_finite_are_refused(tmp_path: Path, name: str, case: str) -> None:
    change, expected = TENSOR_CASES[case]
    stem = _copy(tmp_path, name)
    _retensor(stem, change)
    with pytest.raises(WeightsError) as err:
        LOADERS[name](stem)
    assert err.value.field.startswith("tensors.") and expected in str(err.value), str(err.value)
    assert str(stem.with_suffix(".safetensors")) in str(err.value)


CARD_CASES = {
    "no sha": (lambda c: c.pop("weights_sha256"), "weights_sha256", "missing"),
    "config {}": (lambda c: c.update(config={}), "config.", "Field required"),
    "unknown key": (lambda c: c["config"].update(colour="red"), "config.colour", "unknown key"),
    "config a list": (lambda c: c.update(config=[1]), "config", "expected an object"),
}


@pytest.mark.parametrize("name", LOADERS)
@pytest.mark.parametrize("case", CARD_CASES)
def test_a_card_that_does_not_describe_its_model_is_refused(tmp_path: Path, name: str, case: str) -> None:
    change, field, expected = CARD_CASES[case]
    if case == "config {}" and name == "textures_lava":
        pytest.skip("every texture config field has a default, and the defaults are the shipped net's")
    stem = _copy(tmp_path, name)
    _recard(stem, change)
    with pytest.raises(WeightsError) as err:
        LOADERS[name](stem)
    assert err.value.field.startswith(field) and expected in str(err.value), str(err.value)
    assert str(stem.with_suffix(".json")) in str(err.value)


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (lambda c: c["config"].update(z_dim="32"), "config.z_dim", "valid integer"),
        (lambda c: c["config"].update(height=-3), "config.height", "greater than or equal to 1"),
        (lambda c: c["config"].update(height=10**6), "config.height", "less than or equal to 256"),
        (lambda c: c["config"].update(channels=[1, 900]), "config.channels.1", "less than or equal to 255"),
        (lambda c: c["config"].update(density_std=[1, 1, 0, 1]), "config.density_std.2", "greater than 0"),
    ],
)
def test_level_card_fields_are_typed_and_bounded(tmp_path: Path, edit, field: str, expected: str) -> None:
    stem = _copy(tmp_path, "levels_dungeon")
    _recard(stem, edit)
    with pytest.raises(WeightsError) as err:
        LevelGenerator.from_weights(stem)
    assert err.value.field == field and expected in str(err.value), str(err.value)


def test_a_card_nested_without_end_is_refused(tmp_path: Path) -> None:
    stem = _copy(tmp_path, "levels_dungeon")
    stem.with_suffix(".json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(WeightsError, match="nested deeper"):
        LevelGenerator.from_weights(stem)
