"""The solver on hand-built levels: traps it must reject, and the path and critical tiles it reports."""

from __future__ import annotations

import numpy as np
import pytest

from engine.formats.vglc import parse_ascii
from engine.level import Legend, Semantic
from procgen.levels.genre import Genre, JumpModel
from procgen.levels.solver import room_playable, solve

LEGEND = Legend.default()
PLATFORMER = Genre("platformer", JumpModel(max_jump_height=3, max_jump_width=5, gravity=1))


def grid(text: str) -> np.ndarray:
    """ASCII with the default legend's characters (W wall, D door, L locked, k key, S start, X exit, # solid)."""
    return LEGEND.semantic_lut()[parse_ascii(text.strip("\n"), LEGEND)]


def test_key_behind_its_own_lock_is_unplayable() -> None:
    level = grid(
        """
WWWWWWWWWW
WS.....L.W
WWWWWWWWkW
WX.......W
WWWWWWWWWW
"""
    )
    # The only key lies past the only lock; the exit is beyond both.
    sol = solve(level)
    assert not sol.playable
    assert "before any key" in sol.reason


def test_key_before_lock_is_playable_and_the_path_visits_key_then_door() -> None:
    level = grid(
        """
WWWWWWWWWW
WS.k...L.W
WWWWWWWW.W
WX.......W
WWWWWWWWWW
"""
    )
    sol = solve(level)
    assert sol.playable
    key, door, goal = (3, 1), (7, 1), (1, 3)
    assert sol.path.index(key) < sol.path.index(door) < sol.path.index(goal) == sol.length - 1
    # A one-tile-wide corridor: every tile on the way is critical.
    assert {door, goal, (8, 2)} <= sol.critical


def test_exit_walled_off_is_unplayable() -> None:
    level = grid(
        """
WWWWWWW
WS..W.W
W...WXW
W...W.W
WWWWWWW
"""
    )
    assert not solve(level).playable
    open_level = level.copy()
    open_level[2, 4] = LEGEND.semantic_lut()[LEGEND.id_of("floor")]
    sol = solve(open_level)
    assert sol.playable and sol.length == 5
    assert (4, 2) in sol.critical  # the one gap in the wall


def test_two_starts_or_no_exit_is_unplayable() -> None:
    assert not solve(grid("WWWWW\nWS.SW\nW..XW\nWWWWW")).playable
    assert not solve(grid("WWWWW\nWS..W\nW...W\nWWWWW")).playable


def test_room_needs_every_door_and_pickup_connected() -> None:
    room = grid(
        """
WWWDWWWW
W......W
W..$...D
WWWWWWWW
"""
    )
    assert room_playable(room)
    cut = room.copy()
    cut[1:3, 5] = LEGEND.semantic_lut()[LEGEND.id_of("wall")]
    assert not room_playable(cut)  # the east door is cut off
    assert not solve(cut, room=True).playable


platform = grid


def test_a_jump_too_high_is_unplayable() -> None:
    # Start on the ground; the exit sits on a pillar. A 3-tile rise reaches a pillar top 3 above the ground.
    low = platform(
        """
........
........
........
....X...
....#...
....#...
S...#...
########
"""
    )
    high = platform(
        """
........
........
....X...
....#...
....#...
....#...
S...#...
########
"""
    )
    assert solve(low, PLATFORMER).playable
    sol = solve(high, PLATFORMER)
    assert not sol.playable and "jump model" in sol.reason


def test_a_gap_too_wide_is_unplayable_and_a_ladder_fixes_a_high_ledge() -> None:
    gap = lambda width: platform(  # noqa: E731
        "\n".join(
            ["............", "............", "S" + "." * 10 + "X", "##" + "." * width + "#" * (10 - width)]
        )
    )
    # Gliding 5 tiles from the edge lands 5 columns on: a 4-tile gap is the widest one a jump clears.
    assert solve(gap(4), PLATFORMER).playable
    assert not solve(gap(5), PLATFORMER).playable
    ladder = platform(
        """
........
....X...
...H#...
...H#...
...H#...
S..H#...
########
"""
    )
    sol = solve(ladder, PLATFORMER)
    assert sol.playable
    assert sol.path[-1] == (4, 1)


@pytest.mark.parametrize("bad", ["hazard", "water"])
def test_platformer_hazards_block_the_way(bad: str) -> None:
    code = LEGEND.semantic_lut()[LEGEND.id_of(bad)]
    floor = platform("........\n........\nS......X\n########")
    assert solve(floor, PLATFORMER).playable
    pit = floor.copy()
    pit[3, 2:6] = code
    pit[2, 2:6] = code  # a wide field of it, taller than a jump can clear sideways
    pit[1, 2:6] = code
    pit[0, 2:6] = code
    assert not solve(pit, PLATFORMER).playable


def _reference_room_solution(sem: np.ndarray) -> tuple:
    """The room question answered the plain way, as the solver first did it: one BFS from the first door, and a
    fresh labelling of the room with each path cell blocked in turn for the critical tiles."""
    from scipy import ndimage

    from engine.sim.grid import UNREACHED, WALKABLE_LUT, bfs_distances, shortest_path
    from procgen.levels.solver import FOUR_NEIGHBOURS, border_doors, inside_of, room_targets

    doors = border_doors(sem)
    if not doors:
        return (False, "no door on the room's border", (), frozenset())
    walk = WALKABLE_LUT[sem]
    dist = bfs_distances(walk, doors[:1])
    targets = room_targets(sem)[1:]
    cut_off = [t for t in targets if dist[t[1], t[0]] == UNREACHED]
    inside = inside_of(doors[0], sem.shape)
    if not walk[inside[1], inside[0]]:
        cut_off.insert(0, inside)
    if cut_off:
        return (False, f"cut off from the door at {doors[0]}: {cut_off[:4]}", (), frozenset())
    far = max(targets, key=lambda t: dist[t[1], t[0]])
    path = tuple(shortest_path(walk, doors[0], [far]))
    critical = set()
    for x, y in path:
        blocked = walk.copy()
        blocked[y, x] = False
        labels, _ = ndimage.label(blocked, structure=FOUR_NEIGHBOURS)
        home = labels[doors[0][1], doors[0][0]]
        if (x, y) in targets or any(labels[ty, tx] != home for tx, ty in targets):
            critical.add((x, y))
    return (True, "", path, frozenset(critical))


def test_the_batched_room_solver_matches_the_plain_one_room_for_room() -> None:
    """`solve_rooms` and `rooms_playable` (the backend's batched pass) against the plain definition above on the
    generator's unrepaired rooms, the corpus and random rooms with doors anywhere on the border: the same verdict,
    reason, path and critical tiles, room for room, whatever the batch."""
    from engine.level import Semantic
    from procgen.levels.generator import LevelGenerator, SampleRequest
    from procgen.levels.solver import rooms_playable, solve_rooms

    generator = LevelGenerator.pretrained("dungeon")
    made = generator.sample_batch([SampleRequest(150, 3, repair=False)])[0]
    rng = np.random.default_rng(4)
    random_rooms = rng.choice(len(Semantic), size=(300, 11, 16)).astype(np.uint8)
    mostly_floor = np.where(rng.random((300, 11, 16)) < 0.75, Semantic.FLOOR.code, random_rooms)
    mostly_floor[:, [0, -1], :] = mostly_floor[:, :, [0, -1]] = Semantic.WALL.code
    for room in mostly_floor:  # zero to three doors, anywhere on the ring (corners included)
        for _ in range(rng.integers(0, 4)):
            y, x = (0, rng.integers(16)) if rng.random() < 0.5 else (rng.integers(11), 15)
            room[y, x] = Semantic.DOOR.code
    rooms = np.concatenate([made[0], made[1].raw, generator.corpus.originals, mostly_floor, random_rooms])
    reference = [_reference_room_solution(r) for r in rooms]
    assert 0.2 < np.mean([r[0] for r in reference]) < 0.8  # both verdicts are well represented
    assert sum(len(r[3]) for r in reference) > 1000
    for size in (1, 7, 64, len(rooms)):
        batched = [s for at in range(0, len(rooms), size) for s in solve_rooms(rooms[at : at + size])]
        assert [(s.playable, s.reason, s.path, s.critical) for s in batched] == reference
    assert rooms_playable(rooms).tolist() == [r[0] for r in reference]
    assert [s.critical for s in solve_rooms(rooms, critical=False)] == [frozenset()] * len(rooms)


def test_the_whole_batch_distance_steps_equal_bfs_grid_by_grid() -> None:
    """The batched solver's distances (every grid of a batch a step at a time) are `bfs_distances`' exactly,
    with sources anywhere: on the border, in a corner, on a closed cell."""
    from engine.sim.grid import bfs_distances
    from procgen.levels.solver import _step_distances

    rng = np.random.default_rng(4)
    for h, w, n in ((11, 16, 40), (1, 7, 5), (9, 1, 5), (16, 16, 20), (3, 3, 30)):
        walk = rng.random((n, h, w)) < rng.uniform(0.3, 0.9, (n, 1, 1))
        sources = np.stack([rng.integers(0, w, n), rng.integers(0, h, n)], axis=1)
        sources[0] = (0, 0)
        sources[-1] = (w - 1, h - 1)
        got = _step_distances(walk, sources)
        for i in range(n):
            assert (got[i] == bfs_distances(walk[i], [tuple(sources[i])])).all(), (h, w, i)


def test_a_room_too_small_to_walk_into_is_unplayable_not_an_error() -> None:
    from procgen.levels.solver import rooms_playable, solve_rooms

    for shape in ((1, 6), (6, 1), (2, 5), (5, 2)):
        room = np.full(shape, Semantic.DOOR.code, dtype=np.uint8)
        assert not room_playable(room) and not rooms_playable(room[None])[0]
        assert not solve_rooms(room[None])[0].playable
