"""Whole dungeons from rooms: a random critical path of rooms on a grid, side branches, corridors between
door slots, locked doors on the path and their keys placed before them. Deterministic given the seed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import InputError
from engine.level import Legend, Level, LevelMeta, Semantic, Spawn
from engine.sim.grid import STEPS, UNREACHED, WALKABLE_LUT, bfs_distances

if TYPE_CHECKING:
    from procgen.levels.generator import LevelGenerator

ROOM_W, ROOM_H = 16, 11
GAP = 4  # tiles of corridor space between neighbouring rooms
MARGIN = 1
MAX_ROOMS = 24

FLOOR, WALL, DOOR = Semantic.FLOOR.code, Semantic.WALL.code, Semantic.DOOR.code
LOCKED, VOID, ENEMY = Semantic.LOCKED_DOOR.code, Semantic.VOID.code, Semantic.ENEMY.code
KEY, START, EXIT = Semantic.KEY.code, Semantic.START.code, Semantic.EXIT.code

Side = tuple[int, int]
NORTH, SOUTH, WEST, EAST = (0, -1), (0, 1), (-1, 0), (1, 0)
SIDES: tuple[Side, ...] = (NORTH, SOUTH, WEST, EAST)


ROOM_DENSITY_RANGES = {
    "enemies": (0.0, 6.0),
    "hazard": (0.0, 0.3),
    "pickups": (0.0, 6.0),
    "openness": (0.25, 0.75),
}
"""the corpus's range of each density condition (procgen.levels.gan.DENSITY_NAMES)"""


@dataclass(frozen=True)
class DungeonSettings:
    """How big a dungeon to build. Every field is bounded; `validate()` names the one out of range."""

    rooms: int = 6
    """rooms on the critical path, start room and exit room included"""
    branches: int = 1
    """side rooms hanging off the critical path"""
    locked_doors: int = 1
    """locked doors on the critical path, each with its key placed before it"""
    room_density: tuple[tuple[str, float], ...] = ()
    """the room GAN's density conditions for every room, as (name, value) pairs: enemies (0..6 per room),
    hazard (0..0.3 of the tiles), pickups (0..6 per room), openness (0.25..0.75); unnamed ones are drawn from
    the corpus. Authored rooms ignore it."""

    def validate(self) -> DungeonSettings:
        if not 2 <= self.rooms <= MAX_ROOMS:
            raise InputError("rooms", f"expected 2..{MAX_ROOMS}, got {self.rooms}")
        if not 0 <= self.branches <= self.rooms:
            raise InputError("branches", f"expected 0..rooms ({self.rooms}), got {self.branches}")
        if not 0 <= self.locked_doors <= self.rooms - 2:
            raise InputError(
                "locked_doors", f"expected 0..rooms-2 ({self.rooms - 2}), got {self.locked_doors}"
            )
        for name, value in self.room_density:
            if name not in ROOM_DENSITY_RANGES:
                raise InputError(
                    "room_density", f"expected names from {sorted(ROOM_DENSITY_RANGES)}, got {name!r}"
                )
            lo, hi = ROOM_DENSITY_RANGES[name]
            if not lo <= value <= hi:
                raise InputError(f"room_density.{name}", f"expected {lo}..{hi}, got {value}")
        return self


@dataclass
class _PlacedRoom:
    cell: tuple[int, int]
    origin: tuple[int, int]  # top-left tile in the dungeon grid
    doors: dict[Side, tuple[int, int]]  # the slot used on each connected side, in dungeon coordinates


def door_slots(room: np.ndarray) -> dict[Side, list[tuple[int, int]]]:
    """Door tiles on each border of a room (semantic codes), corners excluded, as (x, y) in the room."""
    h, w = room.shape
    return {
        NORTH: [(x, 0) for x in range(1, w - 1) if room[0, x] == DOOR],
        SOUTH: [(x, h - 1) for x in range(1, w - 1) if room[h - 1, x] == DOOR],
        WEST: [(0, y) for y in range(1, h - 1) if room[y, 0] == DOOR],
        EAST: [(w - 1, y) for y in range(1, h - 1) if room[y, w - 1] == DOOR],
    }


def _layout(
    rng: np.random.Generator, settings: DungeonSettings
) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]]]:
    """A self-avoiding walk for the critical path, then branches: (cell x, cell y, index of the path room)."""
    total = settings.rooms + settings.branches
    gw = max(3, math.ceil(math.sqrt(total * 2)))
    gh = max(2, math.ceil(total * 2 / gw))
    for _ in range(500):
        path = [(int(rng.integers(gw)), int(rng.integers(gh)))]
        while len(path) < settings.rooms:
            x, y = path[-1]
            free = [(x + dx, y + dy) for dx, dy in SIDES if 0 <= x + dx < gw and 0 <= y + dy < gh]
            free = [c for c in free if c not in path]
            if not free:
                break
            path.append(free[int(rng.integers(len(free)))])
        if len(path) < settings.rooms:
            continue
        used = set(path)
        branches: list[tuple[int, int, int]] = []
        for _ in range(settings.branches):
            options = [
                (x + dx, y + dy, i)
                for i, (x, y) in enumerate(path[:-1])  # never off the exit room: the branch would be a detour
                for dx, dy in SIDES
                if 0 <= x + dx < gw and 0 <= y + dy < gh and (x + dx, y + dy) not in used
            ]
            if not options:
                break
            bx, by, i = options[int(rng.integers(len(options)))]
            branches.append((bx, by, i))
            used.add((bx, by))
        if len(branches) == settings.branches:
            # Shift to the top-left so the dungeon grid is no bigger than the rooms it holds.
            mx = min(x for x, _ in [*path, *((x, y) for x, y, _ in branches)])
            my = min(y for _, y in [*path, *((x, y) for x, y, _ in branches)])
            return [(x - mx, y - my) for x, y in path], [(x - mx, y - my, i) for x, y, i in branches]
    raise RuntimeError(
        f"could not lay out {total} rooms on a {gw}x{gh} grid"
    )  # unreachable for valid settings


def _carve_corridor(grid: np.ndarray, a: tuple[int, int], b: tuple[int, int], horizontal: bool) -> None:
    """Floor from door a to door b (a is west/north of b) with one jog in the middle of the gap, walled in."""
    (ax, ay), (bx, by) = a, b
    cells: list[tuple[int, int]] = []
    if horizontal:
        mid = ax + GAP // 2
        cells += [(x, ay) for x in range(ax + 1, mid + 1)]
        cells += [(mid, y) for y in range(min(ay, by), max(ay, by) + 1)]
        cells += [(x, by) for x in range(mid, bx)]
    else:
        mid = ay + GAP // 2
        cells += [(ax, y) for y in range(ay + 1, mid + 1)]
        cells += [(x, mid) for x in range(min(ax, bx), max(ax, bx) + 1)]
        cells += [(bx, y) for y in range(mid, by)]
    for x, y in cells:
        grid[y, x] = FLOOR
    for x, y in cells:
        around = grid[y - 1 : y + 2, x - 1 : x + 2]
        around[around == VOID] = WALL


def _floor_cells(grid: np.ndarray, room: _PlacedRoom, reach: np.ndarray) -> list[tuple[int, int]]:
    ox, oy = room.origin
    area = grid[oy : oy + ROOM_H, ox : ox + ROOM_W]
    reached = reach[oy : oy + ROOM_H, ox : ox + ROOM_W] != UNREACHED
    ys, xs = np.nonzero((area == FLOOR) & reached)
    if not len(ys):
        # A generated room can be all hazard or clutter: any reachable open tile will do, but never a door or
        # a tile already taken (a key placed on the start would remove the start).
        taken = (area == DOOR) | (area == KEY) | (area == START) | (area == EXIT)
        ys, xs = np.nonzero(reached & WALKABLE_LUT[area] & ~taken)
    # Keep off the tiles just inside a door, so nothing spawns blocking the way in.
    cells = [(int(x) + ox, int(y) + oy) for y, x in zip(ys, xs, strict=True)]
    near_doors = {(dx + sx, dy + sy) for dx, dy in room.doors.values() for sx, sy in SIDES}
    return [c for c in cells if c not in near_doors] or cells


RoomChoice = tuple[np.ndarray, dict[Side, tuple[int, int]]]
"""a room's semantic grid (unused door slots walled up) and the door it uses on each connected side"""


def authored_rooms(
    rooms: Sequence[Level],
) -> Callable[[list[set[Side]], np.random.Generator], list[RoomChoice]]:
    """Rooms picked from a corpus: any room with door slots on the needed sides, one slot used per side."""
    room_grids = [r.semantic_grid() for r in rooms]
    if any(g.shape != (ROOM_H, ROOM_W) for g in room_grids):
        raise ValueError(f"rooms: every room must be {ROOM_W}x{ROOM_H} tiles")
    slots = [door_slots(g) for g in room_grids]

    def choose(needs: list[set[Side]], rng: np.random.Generator) -> list[RoomChoice]:
        out = []
        for needed in needs:
            candidates = [i for i, s in enumerate(slots) if all(s[side] for side in needed)]
            if not candidates:
                raise ValueError(f"rooms: no room has door slots on sides {sorted(needed)}")
            choice = candidates[int(rng.integers(len(candidates)))]
            room = room_grids[choice].copy()
            doors = {}
            for side, side_slots in slots[choice].items():
                if side in needed:
                    doors[side] = side_slots[int(rng.integers(len(side_slots)))]
                for x, y in side_slots:
                    if doors.get(side) != (x, y):
                        room[y, x] = WALL  # unused door slots are walled up
            out.append((room, doors))
        return out

    return choose


def gan_rooms(
    generator: LevelGenerator, density: Mapping[str, float] | None = None
) -> Callable[[list[set[Side]], np.random.Generator], list[RoomChoice]]:
    """Rooms from the level GAN, conditioned on exactly the doors each room needs (and on `density` when given),
    repaired to be playable. Door positions on each side are drawn from those the corpus uses there."""
    corpus_slots = [door_slots(g) for g in generator.corpus.originals]
    seen = {side: sorted({p for s in corpus_slots for p in s[side]}) for side in SIDES}

    def choose(needs: list[set[Side]], rng: np.random.Generator) -> list[RoomChoice]:
        masks = np.zeros((len(needs), ROOM_H, ROOM_W), np.float32)
        doors: list[dict[Side, tuple[int, int]]] = []
        for i, needed in enumerate(needs):
            chosen = {
                side: seen[side][int(rng.integers(len(seen[side])))] for side in SIDES if side in needed
            }
            for x, y in chosen.values():
                masks[i, y, x] = 1.0
            doors.append(chosen)
        conditions = {"doors": masks} | ({"density": dict(density)} if density else {})
        codes, _ = generator.sample_codes(len(needs), int(rng.integers(2**31)), conditions, repair=True)
        return list(zip(codes, doors, strict=True))

    return choose


def generate_dungeon(
    seed: int,
    settings: DungeonSettings | None = None,
    rooms: Sequence[Level] | None = None,
    generator: LevelGenerator | None = None,
) -> Level:
    """One playable dungeon Level for `seed`: rooms from the level GAN when a `generator` is given, else from
    `rooms` (default: the authored corpus)."""
    settings = (settings or DungeonSettings()).validate()
    if generator is not None:
        choose = gan_rooms(generator, dict(settings.room_density))
    else:
        if rooms is None:
            from procgen.levels.corpus import dungeon_rooms

            rooms = dungeon_rooms()
        choose = authored_rooms(rooms)
    rng = np.random.default_rng(seed)

    path, branches = _layout(rng, settings)
    cells = path + [(x, y) for x, y, _ in branches]
    links = [(path[i], path[i + 1]) for i in range(len(path) - 1)] + [
        (path[i], (x, y)) for x, y, i in branches
    ]
    gw = max(x for x, _ in cells) + 1
    gh = max(y for _, y in cells) + 1
    grid = np.full(
        (2 * MARGIN + gh * ROOM_H + (gh - 1) * GAP, 2 * MARGIN + gw * ROOM_W + (gw - 1) * GAP), VOID, np.uint8
    )

    needs = [
        {(b[0] - a[0], b[1] - a[1]) for a, b in links if a == cell}
        | {(a[0] - b[0], a[1] - b[1]) for a, b in links if b == cell}
        for cell in cells
    ]
    placed: dict[tuple[int, int], _PlacedRoom] = {}
    for cell, (room, doors) in zip(cells, choose(needs, rng), strict=True):
        ox, oy = MARGIN + cell[0] * (ROOM_W + GAP), MARGIN + cell[1] * (ROOM_H + GAP)
        grid[oy : oy + ROOM_H, ox : ox + ROOM_W] = room
        placed[cell] = _PlacedRoom(cell, (ox, oy), {s: (x + ox, y + oy) for s, (x, y) in doors.items()})

    for a, b in links:
        side = (b[0] - a[0], b[1] - a[1])
        first, second = (a, b) if side in (EAST, SOUTH) else (b, a)
        out_side = EAST if side[0] else SOUTH
        back_side = WEST if side[0] else NORTH
        _carve_corridor(
            grid, placed[first].doors[out_side], placed[second].doors[back_side], horizontal=bool(side[0])
        )

    # Locks on the critical path: the door by which path room k+1 is entered.
    lock_edges = (
        sorted(int(k) for k in rng.choice(np.arange(1, len(path) - 1), settings.locked_doors, replace=False))
        if settings.locked_doors
        else []
    )
    for k in lock_edges:
        a, b = path[k], path[k + 1]
        entry = (a[0] - b[0], a[1] - b[1])
        x, y = placed[b].doors[entry]
        grid[y, x] = LOCKED

    start_room = placed[path[0]]
    ox, oy = start_room.origin
    start_area = grid[oy : oy + ROOM_H, ox : ox + ROOM_W]
    start_area[start_area == ENEMY] = FLOOR  # no enemy waiting at the spawn point

    open_all = WALKABLE_LUT[grid] | (grid == LOCKED)
    reach = bfs_distances(open_all, [next(iter(start_room.doors.values()))])
    start = _pick(rng, _floor_cells(grid, start_room, reach))
    grid[start[1], start[0]] = START
    exit_ = _pick(rng, _floor_cells(grid, placed[path[-1]], reach))
    grid[exit_[1], exit_[0]] = EXIT

    # Each key goes in a room reachable after the previous lock and before its own; a side branch if one fits.
    for j, k in enumerate(lock_edges):
        lo = lock_edges[j - 1] + 1 if j else 0
        segment = set(range(lo, k + 1))
        options = [(x, y) for x, y, i in branches if i in segment] or [path[i] for i in segment]
        # A room whose every open tile is taken (a start room of hazards) cannot hold the key.
        options = [c for c in options if _floor_cells(grid, placed[c], reach)] or options
        room = placed[options[int(rng.integers(len(options)))]]
        key = _pick(rng, _floor_cells(grid, room, reach))
        grid[key[1], key[0]] = KEY

    level = Level(
        tiles=grid,
        legend=Legend.default(),
        meta=LevelMeta(
            seed=int(seed),
            generator="procgen.dungeon+gan" if generator is not None else "procgen.dungeon",
            name=f"dungeon-{seed}",
        ),
    )
    return level.validate()


def _pick(rng: np.random.Generator, cells: list[tuple[int, int]]) -> tuple[int, int]:
    if not cells:
        raise ValueError("rooms: a room has no reachable floor tile to place the start, exit or a key on")
    return cells[int(rng.integers(len(cells)))]


GUARD_SHARE = 3
"""one enemy in this many guards its spot; the others hunt"""


def cast_roles(level: Level, seed: int) -> Level:
    """Give the seed's NPCs their roles: every GUARD_SHARE-th enemy (a seeded choice) guards the spot it stands
    on, the rest hunt, and a companion waits beside the player's start."""
    tiles = level.tiles.copy()
    floor_id = level.legend.id_of(Semantic.FLOOR)
    enemies = level.positions_of(Semantic.ENEMY)
    rng = np.random.default_rng([seed, 0xC0DE])
    spawns = list(level.spawns)
    for i in sorted(rng.choice(len(enemies), size=len(enemies) // GUARD_SHARE, replace=False)):
        x, y = enemies[i]
        tiles[y, x] = floor_id
        spawns.append(Spawn(Semantic.ENEMY, x, y, {"role": "guard"}))
    semantic = level.semantic_grid()
    ((sx, sy),) = level.positions_of(Semantic.START) or [
        (s.x, s.y) for s in level.spawns if s.kind is Semantic.START
    ]
    for dx, dy in STEPS:
        x, y = sx + dx, sy + dy
        if (
            0 <= y < semantic.shape[0]
            and 0 <= x < semantic.shape[1]
            and semantic[y, x] == Semantic.FLOOR.code
        ):
            spawns.append(Spawn(Semantic.NPC, x, y, {"role": "companion"}))
            break
    return dataclasses.replace(level, tiles=tiles, spawns=tuple(spawns))
