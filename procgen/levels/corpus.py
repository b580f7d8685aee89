"""Level corpora on disk: a folder of VGLC-style ASCII files with one shared JSON legend."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from engine.errors import LevelFormatError
from engine.formats.vglc import SHARED_LEGEND_NAME, read_vglc
from engine.level import Level

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DUNGEON_ROOMS_DIR = DATA_DIR / "dungeon" / "rooms"
MAX_CORPUS_FILES = 100_000


def load_rooms(folder: str | Path = DUNGEON_ROOMS_DIR, legend: str | Path | None = None) -> tuple[Level, ...]:
    """Every `*.txt` level in `folder` (sorted by name), read with `legend` (default: the folder's or its parent's
    `legend.json`)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise LevelFormatError(folder, "files", "no *.txt levels found in this folder")
    if len(files) > MAX_CORPUS_FILES:
        raise LevelFormatError(folder, "files", f"{len(files)} levels; the limit is {MAX_CORPUS_FILES}")
    if legend is None:
        candidates = [folder / SHARED_LEGEND_NAME, folder.parent / SHARED_LEGEND_NAME]
        legend = next((c for c in candidates if c.exists()), candidates[0])
    return tuple(read_vglc(f, legend) for f in files)


@cache
def dungeon_rooms() -> tuple[Level, ...]:
    """The authored dungeon room corpus shipped in procgen/data (cached: it never changes at run time)."""
    return load_rooms(DUNGEON_ROOMS_DIR)
