"""The batched WFC baseline: it keeps the door conditions it is given, every neighbouring pair of windows is one
the examples allow, its support tables are the pairwise agreement tables, and a seed fixes the batch."""

from __future__ import annotations

import numpy as np
import pytest

from engine.level import Semantic
from procgen.levels.corpus import shipped_corpus
from procgen.levels.gan import door_masks
from procgen.levels.wfc import DIRECTIONS, BatchedRoomWFC, WFCError

ROOMS = 24


@pytest.fixture(scope="module")
def corpus():
    return shipped_corpus("dungeon")


@pytest.fixture(scope="module")
def wfc(corpus) -> BatchedRoomWFC:
    return BatchedRoomWFC(corpus.examples)


@pytest.fixture(scope="module")
def doors(corpus) -> np.ndarray:
    """Door masks as the GAN gets them: those of training rooms, drawn at random."""
    masks = door_masks(corpus.examples)
    return masks[np.random.default_rng(0).integers(0, len(masks), ROOMS)]


@pytest.fixture(scope="module")
def rooms(wfc, doors) -> np.ndarray:
    return wfc.generate_rooms(doors, np.random.default_rng(5))


def test_rooms_have_the_frame_and_exactly_the_doors_asked_for(rooms, doors) -> None:
    assert rooms.shape == doors.shape and rooms.dtype == np.uint8
    ring = np.zeros(rooms.shape[1:], bool)
    ring[[0, -1], :] = True
    ring[:, [0, -1]] = True
    door = Semantic.DOOR.code
    assert np.array_equal(rooms[:, ring] == door, doors[:, ring].astype(bool))
    assert (rooms[:, ring][~doors[:, ring].astype(bool)] == Semantic.WALL.code).all()


def test_every_window_and_every_neighbouring_pair_is_allowed(wfc, rooms) -> None:
    """Each 2x2 window of the output is a pattern of the examples, and each pair of windows one step apart is in
    the agreement table the WFC was given (which the overlap implies, so this checks the rendering too)."""
    index = {p.tobytes(): i for i, p in enumerate(wfc.patterns)}
    windows = np.lib.stride_tricks.sliding_window_view(rooms, (2, 2), axis=(1, 2))
    ids = np.array(
        [[[index[w.tobytes()] for w in row] for row in room] for room in np.ascontiguousarray(windows)]
    )
    gh, gw = ids.shape[1:]
    for d, (dy, dx) in enumerate(DIRECTIONS):
        a = ids[:, max(-dy, 0) : gh - max(dy, 0), max(-dx, 0) : gw - max(dx, 0)]
        b = ids[:, max(dy, 0) : gh + min(dy, 0), max(dx, 0) : gw + min(dx, 0)]
        assert wfc.agree[d][a, b].all(), f"direction {(dy, dx)}"


def test_support_tables_are_the_agreement_tables(wfc) -> None:
    """Propagation reads support through the overlap strips; that is exactly agree[d], pattern by pattern."""
    k = len(wfc.patterns)
    for d in range(len(DIRECTIONS)):
        held = np.eye(k, dtype=np.uint8)  # q holding only pattern b
        groups = np.maximum.reduceat(held[:, wfc._order[d]], wfc._starts[d], 1)
        shown = np.concatenate([groups, np.zeros((k, 1), np.uint8)], 1)
        assert np.array_equal(shown[:, wfc._need[d]].T.astype(bool), wfc.agree[d])


def test_a_seed_fixes_the_batch(wfc, doors, rooms) -> None:
    again = wfc.generate_rooms(doors, np.random.default_rng(5))
    other = wfc.generate_rooms(doors, np.random.default_rng(6))
    assert np.array_equal(rooms, again)
    assert not np.array_equal(rooms, other)


def test_rooms_differ_and_are_not_bare(rooms) -> None:
    inside = rooms[:, 1:-1, 1:-1]
    assert len({r.tobytes() for r in rooms}) == len(rooms)
    assert (inside != Semantic.FLOOR.code).any((1, 2)).mean() > 0.5


def test_a_door_mask_no_pattern_can_frame_is_an_error(wfc) -> None:
    bad = np.zeros((1, 11, 16), np.float32)
    bad[0, 0, 0] = 1  # a door in the corner: no example has one
    with pytest.raises(WFCError):
        wfc.generate_rooms(bad, np.random.default_rng(0))
