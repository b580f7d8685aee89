"""Level corpora: a folder of levels plus a legend, cut into same-sized training examples.

Any corpus works without per-game code. A folder holds VGLC-style ASCII levels (`*.txt`) with one JSON legend
(`legend.json` here or in the parent folder), and/or Tiled maps and our own JSON levels (`*.tmj`, `*.tmx`,
`*.json`, read through `engine.formats`). A `genre.json` says how a player moves (see `genre.py`).

Examples are whole rooms when every level already has the example size, or sliding windows otherwise. Levels
smaller than the example are padded. Augmentation adds the flips the genre allows. Everything is converted to
semantic codes, so one model and one solver serve every corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from engine.errors import LevelFormatError
from engine.formats import read_level
from engine.formats.vglc import SHARED_LEGEND_NAME, read_vglc
from engine.level import Level, Semantic
from procgen.levels.genre import Genre, read_genre

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DUNGEON_ROOMS_DIR = DATA_DIR / "dungeon" / "rooms"
PLATFORMER_LEVELS_DIR = DATA_DIR / "platformer" / "levels"
SHIPPED_CORPORA = {"dungeon": DUNGEON_ROOMS_DIR, "platformer": PLATFORMER_LEVELS_DIR}
MAX_CORPUS_FILES = 100_000
MAX_EXAMPLES = 200_000
MAX_EXAMPLE_SIDE = 64
LEVEL_SUFFIXES = (".txt", ".tmj", ".tmx", ".json")
# Windows cut a piece out of a level, so its start and exit no longer mean anything; the genre puts them back.
ENDPOINTS = (Semantic.START.code, Semantic.EXIT.code)


def _legend_for(folder: Path, legend: str | Path | None) -> Path:
    if legend is not None:
        return Path(legend)
    candidates = [folder / SHARED_LEGEND_NAME, folder.parent / SHARED_LEGEND_NAME]
    return next((c for c in candidates if c.exists()), candidates[0])


def load_rooms(folder: str | Path = DUNGEON_ROOMS_DIR, legend: str | Path | None = None) -> tuple[Level, ...]:
    """Every level in `folder`, sorted by file name: `*.txt` read with `legend` (default: the folder's or its
    parent's `legend.json`), Tiled and JSON levels through `engine.formats`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LevelFormatError(folder, "folder", "not a directory of levels")
    files = sorted(
        f
        for f in folder.iterdir()
        if f.suffix.lower() in LEVEL_SUFFIXES
        and f.name not in (SHARED_LEGEND_NAME, "genre.json")
        and not f.name.endswith(".legend.json")
    )
    if not files:
        raise LevelFormatError(
            folder, "files", f"no levels ({', '.join(LEVEL_SUFFIXES)}) found in this folder"
        )
    if len(files) > MAX_CORPUS_FILES:
        raise LevelFormatError(folder, "files", f"{len(files)} levels; the limit is {MAX_CORPUS_FILES}")
    legend_path = _legend_for(folder, legend)
    return tuple(read_vglc(f, legend_path) if f.suffix.lower() == ".txt" else read_level(f) for f in files)


@cache
def dungeon_rooms() -> tuple[Level, ...]:
    """The authored dungeon room corpus shipped in procgen/data (cached: it never changes at run time)."""
    return load_rooms(DUNGEON_ROOMS_DIR)


@dataclass(frozen=True)
class Corpus:
    """Training examples cut from a folder of levels, as semantic-code grids."""

    name: str
    genre: Genre
    levels: tuple[Level, ...]
    originals: np.ndarray
    """(N, H, W) uint8 semantic codes, one per room or window, before augmentation"""
    examples: np.ndarray
    """(M, H, W) the originals plus their allowed flips: what the GAN trains on"""
    channels: tuple[int, ...]
    """the semantic codes in use, in one-hot channel order"""
    pad_code: int

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.examples.shape[1]), int(self.examples.shape[2])

    def as_examples(self, codes: np.ndarray) -> np.ndarray:
        """Generated levels (N, H, W) in the form the training examples take, for measures that compare the two
        (tile patterns, novelty): a platformer's start and exit, which finishing places in every segment and
        `build_corpus` strips from every window, become floor. Anything else is unchanged. Returns a copy."""
        out = np.array(codes, dtype=np.uint8, copy=True)
        if self.genre.name == "platformer":
            out[np.isin(out, ENDPOINTS)] = Semantic.FLOOR.code
        return out


def build_corpus(
    folder: str | Path,
    legend: str | Path | None = None,
    size: tuple[int, int] | None = None,
    stride: int = 2,
    augment: bool = True,
    name: str | None = None,
) -> Corpus:
    """Cut the levels in `folder` into (width, height) = `size` examples.

    With no `size`, a folder of same-sized rooms gives one example per room, and anything else is an error that
    says to pass a size. Windows slide by `stride` tiles along the longer axis of each level (and the other axis
    when it is also longer than the window).
    """
    folder = Path(folder)
    levels = load_rooms(folder, legend)
    genre = read_genre(folder)
    grids = [lv.semantic_grid() for lv in levels]
    if size is None:
        shapes = {g.shape for g in grids}
        if len(shapes) != 1:
            raise LevelFormatError(
                folder,
                "size",
                f"levels have {len(shapes)} different sizes; pass a window size (width, height)",
            )
        h, w = shapes.pop()
    else:
        w, h = size
    if not (2 <= w <= MAX_EXAMPLE_SIDE and 2 <= h <= MAX_EXAMPLE_SIDE):
        raise LevelFormatError(folder, "size", f"expected 2..{MAX_EXAMPLE_SIDE} tiles a side, got {w}x{h}")
    if stride < 1:
        raise LevelFormatError(folder, "stride", f"expected ≥1, got {stride}")
    # Top-down rooms pad with void (outside the room); platformers pad with sky, which a player can jump into.
    pad_code = Semantic.FLOOR.code if genre.name == "platformer" else Semantic.VOID.code

    windows: list[np.ndarray] = []
    for grid in grids:
        gh, gw = grid.shape
        if gh < h or gw < w:  # pad at the top (sky) / bottom-right (void)
            padded = np.full((max(gh, h), max(gw, w)), pad_code, np.uint8)
            if genre.name == "platformer":
                padded[padded.shape[0] - gh :, :gw] = grid
            else:
                padded[:gh, :gw] = grid
            grid = padded
            gh, gw = grid.shape
        # A platformer's start and exit are always placed by the genre when sampling; a window cut from a bigger
        # level has lost the meaning of its endpoints too.
        strip_endpoints = genre.name == "platformer" or (gh, gw) != (h, w)
        for y in _offsets(gh, h, stride):
            for x in _offsets(gw, w, stride):
                window = grid[y : y + h, x : x + w].copy()
                if strip_endpoints:
                    window[np.isin(window, ENDPOINTS)] = Semantic.FLOOR.code
                windows.append(window)
                if len(windows) > MAX_EXAMPLES:
                    raise LevelFormatError(
                        folder, "size", f"more than {MAX_EXAMPLES} windows; raise the stride"
                    )
    originals = np.stack(windows).astype(np.uint8)
    examples = [originals]
    if augment:
        flip_x, flip_y = genre.flips
        if flip_x:
            examples.append(originals[:, :, ::-1])
        if flip_y:
            examples.append(originals[:, ::-1, :])
        if flip_x and flip_y:
            examples.append(originals[:, ::-1, ::-1])
    all_examples = np.ascontiguousarray(np.concatenate(examples))
    channels = tuple(sorted({int(c) for c in np.unique(all_examples)} | _required(genre)))
    return Corpus(name or folder.name, genre, levels, originals, all_examples, channels, pad_code)


def _required(genre: Genre) -> set[int]:
    """Channels the generator must be able to emit even when the corpus lacks them (doors, walls, floor)."""
    if genre.name == "platformer":
        return {Semantic.FLOOR.code, Semantic.SOLID.code}
    return {Semantic.FLOOR.code, Semantic.WALL.code, Semantic.DOOR.code}


def _offsets(length: int, window: int, stride: int) -> list[int]:
    if length <= window:
        return [0]
    offsets = list(range(0, length - window + 1, stride))
    if offsets[-1] != length - window:
        offsets.append(length - window)  # always include the level's far edge
    return offsets


def shipped_corpus(name: str) -> Corpus:
    """The corpora this repo ships: "dungeon" (16x11 rooms) and "platformer" (16x16 windows)."""
    if name == "dungeon":
        return _cached_corpus("dungeon")
    if name == "platformer":
        return _cached_corpus("platformer")
    raise ValueError(f"corpus: expected one of {sorted(SHIPPED_CORPORA)}, got {name!r}")


@cache
def _cached_corpus(name: str) -> Corpus:
    size = None if name == "dungeon" else (16, 16)
    return build_corpus(SHIPPED_CORPORA[name], size=size, name=name)
