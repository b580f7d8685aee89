"""Minimum-edit repair: always playable on noise, minimal on known cases, typed errors past its bounds."""

from __future__ import annotations

import numpy as np
import pytest

from engine.level import Semantic
from procgen.levels.corpus import shipped_corpus
from procgen.levels.repair import RepairError, repair
from procgen.levels.solver import room_playable, solve
from procgen.levels.structure import frame_rooms, place_endpoints

DUNGEON = shipped_corpus("dungeon")
PLATFORMER = shipped_corpus("platformer")
WALL, FLOOR = Semantic.WALL.code, Semantic.FLOOR.code


def noise(corpus, n: int, shape: tuple[int, int], seed: int) -> np.ndarray:
    """Random tiles drawn from the corpus's own tile frequencies."""
    codes, counts = np.unique(corpus.examples, return_counts=True)
    return (
        np.random.default_rng(seed).choice(codes, size=(n, *shape), p=counts / counts.sum()).astype(np.uint8)
    )


def test_repair_makes_every_noise_room_playable_with_few_edits() -> None:
    rng = np.random.default_rng(1)
    rooms = noise(DUNGEON, 200, (11, 16), seed=2)
    doors = np.zeros(rooms.shape, np.float32)
    for d in doors:  # one to four doors, on random sides and positions
        for side in rng.choice(4, rng.integers(1, 5), replace=False):
            if side == 0:
                d[0, rng.integers(1, 15)] = 1
            elif side == 1:
                d[10, rng.integers(1, 15)] = 1
            elif side == 2:
                d[rng.integers(1, 10), 0] = 1
            else:
                d[rng.integers(1, 10), 15] = 1
    rooms = frame_rooms(rooms, doors)
    assert np.mean([room_playable(r) for r in rooms]) < 0.9  # the noise really is broken
    for room in rooms:
        result = repair(room, room=True)
        assert room_playable(result.tiles)
        border = np.ones(room.shape, bool)
        border[1:-1, 1:-1] = False
        assert (
            result.tiles[border] == room[border]
        ).all()  # the frame and its doors are conditions, never edited


def test_repair_makes_noise_levels_with_endpoints_playable() -> None:
    levels = noise(DUNGEON, 30, (14, 20), seed=3)
    for level in levels:
        result = repair(level)
        assert solve(result.tiles).playable
        assert (result.tiles == Semantic.START.code).sum() == 1 and (
            result.tiles == Semantic.EXIT.code
        ).sum() == 1


def test_repair_makes_noise_platformer_segments_playable() -> None:
    segments = place_endpoints(noise(PLATFORMER, 12, (16, 16), seed=4))
    genre = PLATFORMER.genre
    for segment in segments:
        result = repair(segment, genre, time_limit_s=1.0)
        assert solve(result.tiles, genre).playable


def test_repair_is_minimal_on_a_wall_across_a_room() -> None:
    room = DUNGEON.originals[0].copy()  # the open hall: doors on all four sides
    room[1:-1, 8] = WALL  # cut it in two with a wall
    result = repair(room, room=True)
    assert result.edits == 1 and result.optimal
    assert room_playable(result.tiles)


def test_repair_needs_cp_sat_for_three_pieces_and_stays_minimal() -> None:
    room = DUNGEON.originals[0].copy()
    room[1:-1, 5] = WALL
    room[1:-1, 10] = WALL  # three pieces: a Steiner problem, not a shortest path
    result = repair(room, room=True)
    assert result.edits == 2
    assert room_playable(result.tiles)


def test_four_pieces_join_with_the_fewest_edits() -> None:
    room = DUNGEON.originals[0].copy()  # doors west (0, 5), north and south at x=7, east (15, 5)
    room[1:-1, [4, 9, 12]] = WALL  # four pieces, each holding a door or a treasure
    room[5, 10] = Semantic.TREASURE.code
    assert not room_playable(room)
    result = repair(room, room=True)
    assert room_playable(result.tiles) and result.edits == 3


def test_playable_levels_are_left_alone() -> None:
    for room in DUNGEON.originals[:20]:
        result = repair(room, room=True)
        assert result.edits == 0 and (result.tiles == room).all()


def test_typed_errors_past_the_bounds() -> None:
    room = DUNGEON.originals[0].copy()
    room[1:-1, 8] = WALL
    with pytest.raises(RepairError, match="budget"):
        repair(room, room=True, max_edit_fraction=0.0)
    no_doors = np.full((11, 16), FLOOR, np.uint8)
    no_doors[[0, -1], :] = WALL
    no_doors[:, [0, -1]] = WALL
    with pytest.raises(RepairError, match="door"):
        repair(no_doors, room=True)
    with pytest.raises(RepairError, match="size"):
        repair(np.zeros((100, 100), np.uint8))
