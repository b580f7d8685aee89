"""Minimum-edit repair: always playable on noise, minimal against brute force, the same answer every time, a
proven bound when it is not optimal, typed errors past its bounds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.level import Semantic
from engine.sim.grid import WALKABLE_LUT as WALKABLE
from procgen.levels import repair as repair_module
from procgen.levels.corpus import shipped_corpus
from procgen.levels.genre import Genre, JumpModel
from procgen.levels.repair import RepairError, repair
from procgen.levels.solver import LADDER, border_doors, inside_of, is_playable, room_playable, solve
from procgen.levels.structure import frame_rooms, place_endpoints

DUNGEON = shipped_corpus("dungeon")
PLATFORMER = shipped_corpus("platformer")
WALL, FLOOR = Semantic.WALL.code, Semantic.FLOOR.code
SOLID, START, EXIT = Semantic.SOLID.code, Semantic.START.code, Semantic.EXIT.code


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
        result = repair(segment, genre)
        assert solve(result.tiles, genre).playable
        assert 0 <= result.lower_bound <= result.edits and result.gap == result.edits - result.lower_bound
        assert result.optimal == (result.gap == 0)


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


# ------------------------------------------------------------------------------ exact against brute force


def _platformer_edits(sem: np.ndarray) -> list[tuple[int, int, int]]:
    """Every single edit platformer repair may make: any tile to sky or ground, except the endpoints and the
    tile holding up a ladder (never to sky)."""
    out = []
    h, w = sem.shape
    for y, x in itertools.product(range(h), range(w)):
        if sem[y, x] in (START, EXIT):
            continue
        holds_ladder = y > 0 and sem[y - 1, x] == LADDER and sem[y, x] != LADDER
        if sem[y, x] != FLOOR and not holds_ladder:
            out.append((y, x, FLOOR))
        if sem[y, x] != SOLID:
            out.append((y, x, SOLID))
    return out


def _brute_force_minimum(
    sem: np.ndarray, edits: list[tuple[int, int, int]], playable, k_max: int
) -> int | None:
    """The fewest edits (at most k_max) after which `playable` accepts the level, by trying every edit set."""
    for k in range(1, k_max + 1):
        for combo in itertools.combinations(edits, k):
            if len({(y, x) for y, x, _ in combo}) < k:
                continue  # two edits of one tile
            tiles = sem.copy()
            for y, x, code in combo:
                tiles[y, x] = code
            if playable(tiles):
                return k
    return None


def _tiny_segments(jump: JumpModel, n: int, seed: int, shape=(5, 7)) -> list[np.ndarray]:
    """Unplayable random segments with their endpoints, rich in ladders, platforms and hazards."""
    codes = np.array([FLOOR, Semantic.HAZARD.code, Semantic.ENEMY.code, Semantic.TREASURE.code, SOLID,
                      Semantic.PLATFORM.code, LADDER])  # fmt: skip
    p = np.array([0.5, 0.06, 0.03, 0.03, 0.28, 0.05, 0.05])
    rng = np.random.default_rng(seed)
    genre = Genre("platformer", jump)
    out: list[np.ndarray] = []
    while len(out) < n:
        sem = place_endpoints(rng.choice(codes, size=(1, *shape), p=p).astype(np.uint8))[0]
        if (sem == START).sum() == 1 and (sem == EXIT).sum() == 1 and not is_playable(sem, genre):
            out.append(sem)
    return out


@pytest.mark.parametrize("jump", [JumpModel(2, 2, 1), JumpModel(3, 5, 1), JumpModel(1, 3, 1)])
def test_platformer_repair_is_minimal_against_brute_force(jump: JumpModel) -> None:
    genre = Genre("platformer", jump)
    k_max = 2
    for sem in _tiny_segments(jump, 25, seed=jump.max_jump_height * 10 + jump.max_jump_width):
        truth = _brute_force_minimum(sem, _platformer_edits(sem), lambda t: is_playable(t, genre), k_max)
        try:
            result = repair(sem, genre)
        except RepairError as err:  # e.g. a start walled in by tiles that hold up ladders
            assert "infeasible" in str(err) and truth is None
            continue
        assert is_playable(result.tiles, genre)
        if truth is None:
            assert result.edits > k_max, "brute force found nothing this small"
        else:
            assert result.edits == truth
            assert result.lower_bound <= truth  # the proven bound is a bound
        assert result.optimal == (result.lower_bound == result.edits)


def test_platformer_optimality_is_claimed_only_when_proven() -> None:
    """A segment where the search's relaxation is weaker than the truth: the cheapest relaxed route (1 edit)
    lets a move rely on a tile a later move edits, and the solver rejects it. The repair still finds the true
    minimum (2, by brute force), but it has only proven 1, so it must not say optimal."""
    sem = np.array(
        [[15, 0, 14, 0, 0, 14, 7, 0], [9, 14, 16, 0, 11, 14, 14, 0], [0, 0, 16, 14, 0, 0, 0, 6],
         [7, 0, 14, 0, 16, 0, 14, 14], [5, 0, 14, 16, 16, 14, 14, 7], [14, 14, 0, 16, 14, 0, 0, 7]],
        dtype=np.uint8,
    )  # fmt: skip
    genre = Genre("platformer", JumpModel(1, 3, 1))
    result = repair(sem, genre)
    assert is_playable(result.tiles, genre)
    assert _brute_force_minimum(sem, _platformer_edits(sem), lambda t: is_playable(t, genre), 2) == 2
    assert result.edits == 2 and result.lower_bound == 1 and not result.optimal and result.gap == 1


def test_room_repair_is_minimal_against_brute_force() -> None:
    rng = np.random.default_rng(5)
    rooms = noise(DUNGEON, 40, (6, 7), seed=6)
    doors = np.zeros(rooms.shape, np.float32)
    for d in doors:
        d[0, rng.integers(1, 6)] = 1
        d[5, rng.integers(1, 6)] = 1
        if rng.random() < 0.5:
            d[rng.integers(1, 5), 0] = 1
    checked = 0
    for room in frame_rooms(rooms, doors):
        if room_playable(room):
            continue
        result = repair(room, room=True)
        start = room.copy()  # the forced edits repair makes first: the tile inside each door opens
        for door in border_doors(room):
            x, y = inside_of(door, room.shape)
            if not WALKABLE[start[y, x]]:
                start[y, x] = FLOOR
        n_forced = int((start != room).sum())
        h, w = room.shape
        interior = [
            (int(y), int(x), FLOOR)
            for y, x in np.argwhere(~WALKABLE[start])
            if 0 < y < h - 1 and 0 < x < w - 1
        ]
        truth = 0 if room_playable(start) else _brute_force_minimum(start, interior, room_playable, 3)
        assert room_playable(result.tiles) and result.optimal and result.gap == 0
        if truth is None:
            assert result.edits - n_forced > 3
        else:
            assert result.edits == n_forced + truth
            checked += 1
    assert checked >= 10


# ------------------------------------------------------------------------------------------- determinism


def test_the_same_level_gets_the_same_repair() -> None:
    """Twice in a row, and with the wall-clock safety net cut to a millisecond: platformer repair has no clock
    in it, so neither changes a tile (the CP-SAT model it replaced gave 16 edits at 0.5 s and 6 at 3 s)."""
    genre = PLATFORMER.genre
    for segment in place_endpoints(noise(PLATFORMER, 6, (16, 16), seed=11)):
        first, second = repair(segment, genre), repair(segment, genre)
        rushed = repair(segment, genre, time_limit_s=1e-3)
        for other in (second, rushed):
            assert np.array_equal(first.tiles, other.tiles)
            assert (first.edits, first.optimal, first.lower_bound) == (
                other.edits,
                other.optimal,
                other.lower_bound,
            )


def _five_piece_room() -> np.ndarray:
    room = DUNGEON.originals[0].copy()
    room[1:-1, [3, 6, 9, 12]] = WALL  # five pieces, each holding a door or a treasure
    room[2, 5] = room[8, 10] = Semantic.TREASURE.code
    return room


def test_five_pieces_get_the_same_minimal_repair_from_the_table_and_from_cp_sat(monkeypatch) -> None:
    """Five to EXACT_JOIN_MAX_PIECES pieces go to the Dreyfus-Wagner table, more to CP-SAT (bounded by
    deterministic time with one worker): each gives the same tiles twice, and both the same minimum."""
    room = _five_piece_room()
    first, second = repair(room, room=True), repair(room, room=True)
    assert np.array_equal(first.tiles, second.tiles) and first.optimal and first.edits == 4
    monkeypatch.setattr(repair_module, "EXACT_JOIN_MAX_PIECES", 4)
    by_cp_sat, again = repair(room, room=True), repair(room, room=True)
    assert np.array_equal(by_cp_sat.tiles, again.tiles) and by_cp_sat.optimal and by_cp_sat.edits == 4


def test_the_steiner_table_matches_cp_sat_on_rooms_of_five_to_eight_pieces(monkeypatch) -> None:
    """On random small rooms of 5+ pieces the table's edits equal CP-SAT's wherever CP-SAT proves its optimum,
    and are never more where it does not."""
    rng = np.random.default_rng(21)
    compared = {}
    for _ in range(600):
        room = np.where(rng.random((8, 10)) < 0.55, WALL, FLOOR).astype(np.uint8)
        room[[0, -1], :] = WALL
        room[:, [0, -1]] = WALL
        for x in rng.choice(np.arange(1, 9), 3, replace=False):
            room[0 if rng.random() < 0.5 else -1, x] = Semantic.DOOR.code
        for _ in range(3):
            room[rng.integers(1, 7), rng.integers(1, 9)] = Semantic.KEY.code
        pieces = repair_module.pieces_to_join(room)
        if pieces < 5 or compared.get(pieces, 0) >= 6:
            continue
        ours = repair(room, room=True)
        with monkeypatch.context() as m:
            m.setattr(repair_module, "EXACT_JOIN_MAX_PIECES", 4)
            reference = repair(room, room=True)
        assert room_playable(ours.tiles) and ours.optimal
        assert ours.edits == reference.edits if reference.optimal else ours.edits <= reference.edits
        compared[pieces] = compared.get(pieces, 0) + 1
    assert sum(compared.values()) >= 12 and max(compared) >= 6, compared


def test_a_search_cut_short_reports_a_valid_bound() -> None:
    """With too few labels to finish, repair still returns a playable level, says it is not proven optimal,
    and its lower bound does not exceed the true minimum (found with the full search)."""
    genre = PLATFORMER.genre
    cut = 0
    for segment in place_endpoints(noise(PLATFORMER, 12, (16, 16), seed=12)):
        full = repair(segment, genre)
        short = repair(segment, genre, max_labels=3)
        assert is_playable(short.tiles, genre)
        assert short.lower_bound <= full.edits <= short.edits
        if not short.optimal:
            cut += 1
            assert short.gap > 0
        if full.optimal:
            assert full.lower_bound == full.edits
    assert cut >= 3  # the limit really was reached
