"""Weights on disk: `<stem>.safetensors` (tensors only, never pickle) plus `<stem>.json`, the card.

The card holds what is needed to rebuild the model (`config`) and what a reader needs to trust it: the command
that trained it, the seed, the data, the metrics and the date. Both files are written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

import torch
from pydantic import TypeAdapter, ValidationError
from safetensors import SafetensorError
from safetensors.torch import load, save

from engine.atomic import atomic_write_bytes, atomic_write_json
from engine.errors import FileFormatError
from engine.outside import parse_json, read_outside

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
MAX_WEIGHTS_BYTES = 256 * 1024 * 1024
MAX_CARD_BYTES = 4 * 1024 * 1024


class WeightsError(FileFormatError):
    """A weights file or card that is missing, malformed or does not fit its model: names the file and field."""


def save_weights(stem: str | Path, tensors: dict[str, torch.Tensor], card: dict[str, Any]) -> Path:
    """Write `<stem>.safetensors` and `<stem>.json`; the card gets the weights' sha256 so a stale pair is caught."""
    stem = Path(stem)
    blob = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    card = {**card, "weights_sha256": hashlib.sha256(blob).hexdigest(), "weights_bytes": len(blob)}
    atomic_write_bytes(stem.with_suffix(".safetensors"), blob)
    atomic_write_json(stem.with_suffix(".json"), card, indent=1)
    return stem.with_suffix(".safetensors")


def load_weights(stem: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a weights pair by the outside-data rule (engine.outside): the card must be an object with a config
    and the tensors' sha256, the tensors must match it, and every floating tensor must be finite."""
    stem = Path(stem)
    weights_path, card_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    for path in (weights_path, card_path):
        if not path.exists():
            raise WeightsError(path, "file", "not found")
    blob = read_outside(weights_path, limit=MAX_WEIGHTS_BYTES, error=WeightsError)
    card = parse_json(
        read_outside(card_path, limit=MAX_CARD_BYTES, error=WeightsError), card_path, error=WeightsError
    )
    if not isinstance(card, dict) or not isinstance(card.get("config"), dict):
        raise WeightsError(card_path, "config", "expected an object holding the model's config")
    digest = hashlib.sha256(blob).hexdigest()
    if not isinstance(card.get("weights_sha256"), str):
        raise WeightsError(
            card_path, "weights_sha256", f"missing; expected the sha256 of {weights_path.name}"
        )
    if card["weights_sha256"] != digest:
        raise WeightsError(
            card_path, "weights_sha256", f"does not match {weights_path.name} ({digest[:12]}…)"
        )
    try:
        tensors = load(blob)
    except (SafetensorError, ValueError) as exc:
        raise WeightsError(weights_path, "tensors", f"not a safetensors file: {exc}") from exc
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise WeightsError(weights_path, f"tensors.{name}", "holds NaN or infinite values")
    return tensors, card


C = TypeVar("C")


def card_config(cls: type[C], card: dict[str, Any], card_path: str | Path, section: str = "config") -> C:
    """The card's `section` (its `config`, by default) as the dataclass `cls`, checked field by field: no
    unknown or missing keys, each value of its declared type (strictly: "32" is not 32) and within the bounds
    it declares."""
    data = card.get(section)
    if not isinstance(data, dict):
        raise WeightsError(card_path, section, f"expected an object, got {type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise WeightsError(card_path, f"{section}.{unknown[0]}", f"unknown key (expected some of {names})")
    try:
        return TypeAdapter(cls).validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in (section, *first["loc"]))
        raise WeightsError(card_path, field, f"{first['msg']}, got {first.get('input')!r:.60}") from None


def weights_hash(stem: str | Path) -> str:
    """A short id of a weights file, for cache keys."""
    return hashlib.sha256(Path(stem).with_suffix(".safetensors").read_bytes()).hexdigest()[:16]


def load_into(net: torch.nn.Module, tensors: dict[str, torch.Tensor], stem: str | Path) -> None:
    """Load `tensors` (read from `stem`) into `net`; a shape or name mismatch is a WeightsError naming the file."""
    expected = net.state_dict()
    for name, tensor in tensors.items():
        # load_state_dict would cast fp16 or int8 tensors silently: the card's model is float32 throughout
        if name in expected and tensor.dtype != expected[name].dtype:
            raise WeightsError(
                Path(stem).with_suffix(".safetensors"),
                f"tensors.{name}",
                f"is {tensor.dtype}; the model its card describes holds {expected[name].dtype}",
            )
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise WeightsError(Path(stem).with_suffix(".safetensors"), "tensors", str(exc)) from exc
