"""Saved runs: versioned JSON written atomically. A corrupt or unknown save gives a SaveError, never a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.atomic import atomic_write_text
from engine.errors import LevelFormatError, LudoforgeError, SaveError
from engine.sim.world import PolicyFactory, World, scripted_policies

SAVE_FORMAT = "ludoforge.save"
SAVE_VERSION = 1
MAX_SAVE_BYTES = 32 * 1024 * 1024


def default_save_path() -> Path:
    """$LUDOFORGE_HOME/save.json, or ~/.local/share/ludoforge/save.json."""
    home = os.environ.get("LUDOFORGE_HOME")
    base = Path(home) if home else Path.home() / ".local" / "share" / "ludoforge"
    return base / "save.json"


def write_save(path: str | Path, world: World) -> None:
    data = {"format": SAVE_FORMAT, "version": SAVE_VERSION, "world": world.snapshot()}
    atomic_write_text(path, json.dumps(data, separators=(",", ":")))


def read_save(path: str | Path, policies: PolicyFactory = scripted_policies) -> World:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SaveError(path, "there is no saved run here") from None
    if size > MAX_SAVE_BYTES:
        raise SaveError(path, f"is {size} bytes; a save is at most {MAX_SAVE_BYTES}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SaveError(path, f"the save is corrupt (not valid JSON: {e})") from None
    if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
        raise SaveError(path, f"not a ludoforge save (field 'format' should be {SAVE_FORMAT!r})")
    version = data.get("version")
    if version != SAVE_VERSION:
        raise SaveError(
            path, f"save version {version!r} is not supported (this build reads version {SAVE_VERSION})"
        )
    try:
        return World.from_snapshot(data["world"], policies)
    except LevelFormatError as e:
        raise SaveError(path, f"the saved level is invalid: {e}") from None
    except (KeyError, TypeError, ValueError, LudoforgeError) as e:
        raise SaveError(path, f"the save is corrupt (field {e!s} is missing or malformed)") from None
