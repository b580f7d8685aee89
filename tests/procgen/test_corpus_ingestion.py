"""Any corpus: ASCII + legend or Tiled maps, rooms or windows, padding and the flips the genre allows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import LevelFormatError
from engine.formats import write_level
from engine.level import Semantic
from procgen.levels.corpus import build_corpus, shipped_corpus
from procgen.levels.solver import room_playable, solve
from procgen.levels.structure import place_endpoints

LEGEND = {"tiles": {".": ["floor"], "#": ["solid"], "S": ["start"], "X": ["exit"], "$": ["treasure"]}}


def write_corpus(folder, levels: dict[str, str], genre: dict | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "legend.json").write_text(json.dumps(LEGEND))
    if genre:
        (folder / "genre.json").write_text(json.dumps(genre))
    for name, text in levels.items():
        (folder / f"{name}.txt").write_text(text.strip("\n") + "\n")


def test_windows_padding_and_flips_for_a_platformer(tmp_path) -> None:
    write_corpus(
        tmp_path,
        {"a": "S.....$.X\n#########", "b": "S..X\n####"},
        {"genre": "platformer", "max_jump_height": 2, "max_jump_width": 3},
    )
    corpus = build_corpus(tmp_path, size=(4, 3), stride=1)
    # a: 9 wide → 6 windows; b: exactly 4 wide → 1. Both are 2 tall, padded with sky on top to 3.
    assert corpus.originals.shape == (7, 3, 4)
    assert (corpus.originals[:, 0] == Semantic.FLOOR.code).all()
    # A window is a piece of a level: its start and exit are removed (the genre puts them back when sampling).
    assert not np.isin(corpus.originals, [Semantic.START.code, Semantic.EXIT.code]).any()
    assert len(corpus.examples) == 14  # originals + horizontal flips; gravity forbids vertical ones
    assert corpus.genre.jump is not None and corpus.genre.jump.max_jump_width == 3
    segments = place_endpoints(corpus.originals)
    assert all(solve(s, corpus.genre).playable for s in segments)


def test_same_size_rooms_need_no_window_and_get_four_flips(tmp_path) -> None:
    write_corpus(tmp_path, {"r1": "....\n.$..\n....", "r2": "####\n#..#\n####"})
    corpus = build_corpus(tmp_path)
    assert corpus.shape == (3, 4)
    assert len(corpus.originals) == 2 and len(corpus.examples) == 8


def test_tiled_maps_are_read_through_engine_formats(tmp_path) -> None:
    rooms = shipped_corpus("dungeon").levels[:3]
    for i, room in enumerate(rooms):
        write_level(room, tmp_path / f"room_{i}.tmj")
    corpus = build_corpus(tmp_path, augment=False)
    assert len(corpus.originals) == 3
    assert all(room_playable(r) for r in corpus.originals)
    assert (corpus.originals[0] == rooms[0].semantic_grid()).all()


def test_mixed_sizes_without_a_window_is_a_clear_error(tmp_path) -> None:
    write_corpus(tmp_path, {"a": "....\n....", "b": "..\n.."})
    with pytest.raises(LevelFormatError, match="size"):
        build_corpus(tmp_path)
    with pytest.raises(LevelFormatError, match="size"):
        build_corpus(tmp_path, size=(200, 2))


def test_bad_genre_file_names_the_field(tmp_path) -> None:
    write_corpus(tmp_path, {"a": "S..X\n####"}, {"genre": "platformer", "max_jump_height": 0})
    with pytest.raises(LevelFormatError, match="max_jump_height"):
        build_corpus(tmp_path)


def test_shipped_corpora_sizes_and_validity() -> None:
    dungeon, platformer = shipped_corpus("dungeon"), shipped_corpus("platformer")
    assert len(dungeon.levels) >= 100
    assert all(room_playable(r) for r in dungeon.originals)
    assert all(solve(lv, platformer.genre).playable for lv in platformer.levels)
    assert len(platformer.originals) >= 150 and platformer.shape == (16, 16)
