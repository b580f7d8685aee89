"""Saved runs: versioned JSON written atomically. A corrupt or unknown save gives a SaveError, never a crash."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from engine.atomic import atomic_write_text
from engine.errors import FileFormatError, LevelFormatError, LudoforgeError, SaveError
from engine.outside import parse_json, read_outside
from engine.sim.world import MAX_NPCS, Npc, Player, PolicyFactory, World, scripted_policies

SAVE_FORMAT = "ludoforge.save"
SAVE_VERSION = 1
MAX_SAVE_BYTES = 32 * 1024 * 1024
MAX_SAVED_TICK = 2**40
MAX_SAVED_COUNT = 2**24
"""bounds a save is read within: well below the World's invariants (World.check_state), so a run continued
from any readable save stays readable when it is saved again"""


def default_save_path() -> Path:
    """$LUDOFORGE_HOME/save.json, or ~/.local/share/ludoforge/save.json."""
    home = os.environ.get("LUDOFORGE_HOME")
    base = Path(home) if home else Path.home() / ".local" / "share" / "ludoforge"
    return base / "save.json"


class _SaveFile(BaseModel):
    """The save file's own fields; the World's dataclasses type the player and the NPCs (`_PLAYER`, `_NPC`)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    format: Literal["ludoforge.save"]
    version: int
    world: dict[str, Any]


class _Snapshot(BaseModel):
    """`World.snapshot()`'s shape, typed strictly (a tick of 2.9 or "35" is not a tick); the World checks the
    ranges (`World.check_state`)."""

    model_config = ConfigDict(strict=True, extra="ignore")  # older snapshots may carry fields since dropped
    version: int
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)]
    tick: Annotated[int, Field(ge=0, le=MAX_SAVED_TICK)]
    outcome: str
    level: dict[str, Any]
    terrain: Annotated[str, Field(max_length=MAX_SAVE_BYTES)]
    player: dict[str, Any]
    npcs: Annotated[list[dict[str, Any]], Field(max_length=MAX_NPCS)]
    items: list[tuple[int, int, str]]
    pickups: list[tuple[int, int, str]] = []
    marked: list[tuple[int, int]] = []
    guide_until: int = 0
    difficulty: int = 0


_PLAYER, _NPC = TypeAdapter(Player), TypeAdapter(Npc)


def write_save(path: str | Path, world: World) -> None:
    """Write the run atomically, first removing temp files that an earlier save killed mid-write left behind
    (the save is written by one process, so any such file is an orphan)."""
    path = Path(path)
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            orphan.unlink()
    data = {"format": SAVE_FORMAT, "version": SAVE_VERSION, "world": world.snapshot()}
    atomic_write_text(path, json.dumps(data, separators=(",", ":")))


def read_save(path: str | Path, policies: PolicyFactory = scripted_policies) -> World:
    """The saved run, checked field by field and against the World's invariants before anything uses it: any
    problem is a SaveError that says what is wrong."""
    path = Path(path)
    if not path.exists():
        raise SaveError(path, "there is no saved run here")
    try:
        data = parse_json(read_outside(path, limit=MAX_SAVE_BYTES), path)
    except FileFormatError as e:
        raise SaveError(path, f"the save is corrupt ({e.field}: {str(e).split(': ', 2)[-1]})") from None
    if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
        raise SaveError(path, f"not a ludoforge save (field 'format' should be {SAVE_FORMAT!r})")
    version = data.get("version")
    if type(version) is not int or version != SAVE_VERSION:
        raise SaveError(
            path, f"save version {version!r} is not supported (this build reads version {SAVE_VERSION})"
        )
    try:
        _SaveFile.model_validate(data)
        # JSON mode: strict about numbers and strings, while a JSON array is a tuple
        world = _Snapshot.model_validate_json(json.dumps(data["world"]), strict=True)
        player = _PLAYER.validate_json(json.dumps(world.player), strict=True)
        for name in ("keys", "treasure", "shield", "invulnerable"):
            if not 0 <= getattr(player, name) <= MAX_SAVED_COUNT:  # headroom below World.check_state's bound
                raise SaveError(path, f"the save is corrupt (player.{name}: expected 0..{MAX_SAVED_COUNT})")
        for npc in world.npcs:
            _NPC.validate_json(json.dumps(npc), strict=True)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise SaveError(path, f"the save is corrupt (world field {field}: {first['msg']})") from None
    try:
        return World.from_snapshot(data["world"], policies)
    except LevelFormatError as e:
        raise SaveError(path, f"the saved level is invalid: {e}") from None
    except (KeyError, TypeError, ValueError, LudoforgeError) as e:
        raise SaveError(path, f"the save is corrupt ({e!s})") from None
