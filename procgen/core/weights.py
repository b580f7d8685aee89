"""Weights on disk: `<stem>.safetensors` (tensors only, never pickle) plus `<stem>.json`, the card.

The card holds what is needed to rebuild the model (`config`) and what a reader needs to trust it: the command
that trained it, the seed, the data, the metrics and the date. Both files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from engine.atomic import atomic_write_bytes, atomic_write_text
from engine.errors import LudoforgeError

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
MAX_WEIGHTS_BYTES = 256 * 1024 * 1024


class WeightsError(LudoforgeError, ValueError):
    """A weights file or card that is missing, malformed or does not fit its model: names the file and field."""

    def __init__(self, path: str | Path, field: str, message: str) -> None:
        self.path, self.field = Path(path), field
        super().__init__(f"{path}: {field}: {message}")


def save_weights(stem: str | Path, tensors: dict[str, torch.Tensor], card: dict[str, Any]) -> Path:
    """Write `<stem>.safetensors` and `<stem>.json`; the card gets the weights' sha256 so a stale pair is caught."""
    stem = Path(stem)
    blob = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    card = {**card, "weights_sha256": hashlib.sha256(blob).hexdigest(), "weights_bytes": len(blob)}
    atomic_write_bytes(stem.with_suffix(".safetensors"), blob)
    atomic_write_text(stem.with_suffix(".json"), json.dumps(card, indent=1, sort_keys=False) + "\n")
    return stem.with_suffix(".safetensors")


def load_weights(stem: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a weights pair, checking the card's hash against the tensors."""
    stem = Path(stem)
    weights_path, card_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    for path in (weights_path, card_path):
        if not path.exists():
            raise WeightsError(path, "file", "not found")
    if weights_path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise WeightsError(weights_path, "size", f"larger than {MAX_WEIGHTS_BYTES} bytes")
    blob = weights_path.read_bytes()
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(card_path, "card", f"not readable JSON: {exc}") from exc
    if not isinstance(card, dict) or not isinstance(card.get("config"), dict):
        raise WeightsError(card_path, "config", "expected an object holding the model's config")
    digest = hashlib.sha256(blob).hexdigest()
    if card.get("weights_sha256") not in (None, digest):
        raise WeightsError(
            card_path, "weights_sha256", f"does not match {weights_path.name} ({digest[:12]}…)"
        )
    try:
        tensors = load(blob)
    except (SafetensorError, ValueError) as exc:
        raise WeightsError(weights_path, "tensors", f"not a safetensors file: {exc}") from exc
    return tensors, card


def weights_hash(stem: str | Path) -> str:
    """A short id of a weights file, for cache keys."""
    return hashlib.sha256(Path(stem).with_suffix(".safetensors").read_bytes()).hexdigest()[:16]


def load_into(net: torch.nn.Module, tensors: dict[str, torch.Tensor], stem: str | Path) -> None:
    """Load `tensors` (read from `stem`) into `net`; a shape or name mismatch is a WeightsError naming the file."""
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise WeightsError(Path(stem).with_suffix(".safetensors"), "tensors", str(exc)) from exc
