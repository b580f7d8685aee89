"""Arenas: the levels the NPC envs play on. One arena is one 16x11 room, from the level GAN (a level seed is a GAN
seed) or from the authored corpus, dressed for a role: a start door, an exit door, and what the role needs (a
guard's post; a companion's key and the locked door before the exit).

Level seeds split into training and test sets the Procgen way: `num_levels` seeds from `start_level`.

Every arena carries all-pairs tables over its cells (BFS distances over walkable and hazard-free cells, and
line of sight), one set per state of its locked door. The scripted players and the batched VecEnv read these
instead of searching each tick; they hold exactly what `engine.sim.grid` computes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from engine.errors import LudoforgeError
from engine.level import Legend, Level, LevelMeta, Semantic, Spawn
from engine.sim.grid import SIGHT_BLOCKERS, STEPS, WALKABLE_LUT, bfs_distances, line_cells
from engine.sim.policy import Role

ARENA_W, ARENA_H = 16, 11
UNREACHED = 255  # distances are uint8; every arena path is far shorter
MAX_LEVELS = 5_000
"""the most level seeds one env may hold (each costs about 0.2 MB of tables)"""

FLOOR, WALL, DOOR = Semantic.FLOOR.code, Semantic.WALL.code, Semantic.DOOR.code
LOCKED, KEY, EXIT = Semantic.LOCKED_DOOR.code, Semantic.KEY.code, Semantic.EXIT.code
HAZARD, TREASURE, VOID = Semantic.HAZARD.code, Semantic.TREASURE.code, Semantic.VOID.code
START = Semantic.START.code
_CLEARED = [Semantic.ENEMY.code, Semantic.NPC.code, START, EXIT, KEY]
REPLACEMENT_STRIDE = 10_000_000
TEST_START_LEVEL = 1_000_000
"""the first level seed of the test levels; training uses seeds from 0"""
GUARD_ZONE = 3  # a 7x7 zone: a 4-radius one would cover most of a 16x11 room


class ArenaError(LudoforgeError, ValueError):
    """A room that cannot be dressed for a role (too few doors, nowhere to put a key)."""


@dataclass(frozen=True)
class Arena:
    """One room dressed for one role. Cells are flat indices y * width + x."""

    seed: int
    role: Role
    terrain: np.ndarray  # (H, W) semantic codes: markers cleared, START/EXIT/LOCKED in place, no items
    start: int
    exit: int
    treasures: tuple[int, ...]
    key: int  # -1: none
    locked: int  # -1: none
    home: int  # a guard's post; -1 for roles that spawn per episode
    spawn_cells: np.ndarray  # cells the agent may spawn on this episode (sorted)
    walk: np.ndarray = field(repr=False)  # (doors, C, C) uint8: BFS distance src → dst, hazards walkable
    safe: np.ndarray = field(repr=False)  # (doors, C, C) the same over hazard-free cells
    sight: np.ndarray = field(repr=False)  # (doors, C, C) bool: an NPC on src sees dst

    @property
    def width(self) -> int:
        return int(self.terrain.shape[1])

    def xy(self, cell: int) -> tuple[int, int]:
        return int(cell % self.width), int(cell // self.width)

    def level(self, agent_cell: int, zone_radius: int = GUARD_ZONE) -> Level:
        """The arena as a Level with the agent NPC spawned on `agent_cell` (items drawn back in)."""
        tiles = self.terrain.copy()
        flat = tiles.reshape(-1)
        flat[list(self.treasures)] = TREASURE
        if self.key >= 0:
            flat[self.key] = KEY
        kind = Semantic.NPC if self.role is Role.COMPANION else Semantic.ENEMY
        x, y = self.xy(agent_cell)
        props: dict[str, str | int] = {"role": self.role.value}
        if self.role is Role.GUARD:
            props["zone_radius"] = zone_radius
        meta = LevelMeta(
            seed=self.seed, generator="agents.envs.arenas", name=f"{self.role.value}-{self.seed}"
        )
        return Level(
            tiles=tiles, legend=Legend.default(), spawns=(Spawn(kind, x, y, props),), meta=meta
        ).validate()


# ---------------------------------------------------------------------------------------------- tables


@functools.cache
def _sight_lines(height: int, width: int) -> np.ndarray:
    """For every (src, dst) pair, the cells strictly between them on the Bresenham line that
    `engine.sim.grid.line_of_sight` walks, padded with index C (a never-blocking sentinel): (C, C, L), plus
    Depends only on the grid shape, so it is built once per shape."""
    cells = height * width
    lines: list[list[list[tuple[int, int]]]] = []
    longest = 0
    for src in range(cells):
        x0, y0 = src % width, src // width
        row = []
        for dst in range(cells):
            x1, y1 = dst % width, dst // width
            between = list(line_cells(x0, y0, x1, y1))
            longest = max(longest, len(between))
            row.append(between)
        lines.append(row)
    table = np.full((cells, cells, max(longest, 1)), cells, dtype=np.int32)
    for s, row in enumerate(lines):
        for d, between in enumerate(row):
            table[s, d, : len(between)] = [y * width + x for x, y in between]
    return table


def all_pairs_distances(walkable: np.ndarray) -> np.ndarray:
    """(C, C) uint8 BFS distances from every cell (walkable or not) to every cell over `walkable`, exactly as
    `bfs_distances` gives them one source at a time; UNREACHED where not reached. All sources expand at once."""
    h, w = walkable.shape
    cells = h * w
    dist = np.full((cells, h, w), UNREACHED, dtype=np.uint8)
    frontier = np.zeros((cells, h, w), dtype=bool)
    frontier.reshape(cells, cells)[np.arange(cells), np.arange(cells)] = True
    reached = frontier.copy()
    dist[frontier] = 0
    d = 0
    while frontier.any():
        d += 1
        grown = np.zeros_like(frontier)
        grown[:, 1:, :] |= frontier[:, :-1, :]
        grown[:, :-1, :] |= frontier[:, 1:, :]
        grown[:, :, 1:] |= frontier[:, :, :-1]
        grown[:, :, :-1] |= frontier[:, :, 1:]
        frontier = grown & walkable & ~reached
        reached |= frontier
        dist[frontier] = d
    return dist.reshape(cells, cells)


def first_steps(dist: np.ndarray, height: int, width: int) -> np.ndarray:
    """(C, C) int8: for goal g and cell c, the index into STEPS of the first move of a shortest path from c to g
    (the first neighbour one step closer, as `step_towards` picks it); -1 at the goal or where unreached."""
    cells = height * width
    nb = neighbours(np.arange(cells), width, height)  # (C, 4)
    d_nb = np.where(nb >= 0, dist[:, np.maximum(nb, 0)], UNREACHED).astype(np.int16)  # (G, C, 4)
    here = dist.astype(np.int16)[:, :, None]
    closer = (d_nb == here - 1) & (here > 0) & (here < UNREACHED)
    return np.where(closer.any(axis=2), closer.argmax(axis=2), -1).astype(np.int8)


def arena_tables(terrain: np.ndarray, locked: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(walk, safe, sight), each (states, C, C): state 0 with the locked door closed, state 1 with it open
    (one state when there is no locked door)."""
    states = [terrain]
    if locked >= 0:
        opened = terrain.copy()
        opened.reshape(-1)[locked] = DOOR
        states.append(opened)
    lines = _sight_lines(*terrain.shape)
    walk, safe, sight = [], [], []
    for grid in states:
        walkable = WALKABLE_LUT[grid]
        walk.append(all_pairs_distances(walkable))
        safe.append(all_pairs_distances(walkable & (grid != HAZARD)))
        blocks = np.append(SIGHT_BLOCKERS[grid].reshape(-1), False)  # index C: the sentinel
        sight.append(~blocks[lines].any(axis=-1))
    return np.stack(walk), np.stack(safe), np.stack(sight)


# ---------------------------------------------------------------------------------------------- dressing


def _door_cells(room: np.ndarray) -> list[int]:
    h, w = room.shape
    border = np.zeros_like(room, dtype=bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    corners = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]
    for y, x in corners:
        border[y, x] = False
    return [int(i) for i in np.flatnonzero((room == DOOR) & border)]


def _inner(cell: int, h: int, w: int) -> int:
    x, y = cell % w, cell // w
    if y == 0:
        return cell + w
    if y == h - 1:
        return cell - w
    return cell + 1 if x == 0 else cell - 1


def dress(room: np.ndarray, role: Role, seed: int) -> Arena:
    """Dress one room's semantic grid for `role`, deterministically by `seed`."""
    h, w = room.shape
    rng = np.random.default_rng([seed, 0xA7E7A])
    terrain = room.copy()
    flat = terrain.reshape(-1)
    treasures = tuple(int(i) for i in np.flatnonzero(flat == TREASURE))
    flat[np.isin(flat, [*_CLEARED, TREASURE])] = FLOOR
    flat[flat == LOCKED] = FLOOR
    doors = _door_cells(terrain)
    if len(doors) < 2:
        raise ArenaError(f"arena seed {seed}: the room has {len(doors)} door(s); a start and an exit need 2")
    walkable = WALKABLE_LUT[terrain]
    # Start and exit: the pair of doors farthest apart, so the player crosses the room.
    best = (-1, 0, 0)
    for a in doors:
        dist = bfs_distances(walkable, [(a % w, a // w)])
        for b in doors:
            d = int(dist[b // w, b % w])
            if b != a and d > best[0]:
                best = (d, a, b)
    if best[0] < 0:
        raise ArenaError(f"arena seed {seed}: no two doors are connected")
    _, start, exit_ = best
    if rng.random() < 0.5:
        start, exit_ = exit_, start
    for d in doors:
        flat[d] = WALL
    flat[start], flat[exit_] = START, EXIT
    key = locked = home = -1
    if role is Role.COMPANION:
        # The exit's inner tile becomes a locked door: the exit is only reachable with the key.
        locked = _inner(exit_, h, w)
        flat[locked] = LOCKED
    safe_floor = (flat == FLOOR) & ~np.isin(np.arange(h * w), treasures)
    from_start = bfs_distances(
        WALKABLE_LUT[terrain] & (terrain != HAZARD), [(start % w, start // w)]
    ).reshape(-1)
    if role is Role.COMPANION:
        far = np.flatnonzero(safe_floor & (from_start >= 6))
        if len(far) == 0:
            raise ArenaError(f"arena seed {seed}: no hazard-free floor 6+ steps from the start for the key")
        key = int(rng.choice(far))
        spawn = np.flatnonzero(safe_floor & (from_start >= 2) & (np.arange(h * w) != key))
    elif role is Role.GUARD:
        # The post sits on the middle third of the start-to-exit route, so every player passes the zone.
        exit_dist = bfs_distances(WALKABLE_LUT[terrain], [(exit_ % w, exit_ // w)]).reshape(-1)
        total = int(exit_dist[start])
        route = [
            c
            for c in np.flatnonzero(safe_floor)
            if from_start[c] >= 0 and from_start[c] + exit_dist[c] == total
        ]
        middle = [c for c in route if total / 3 <= from_start[c] <= 2 * total / 3] or route
        if not middle:
            raise ArenaError(f"arena seed {seed}: no hazard-free floor on the route for a guard post")
        home = int(rng.choice(middle))
        spawn = np.array([home])
    else:
        spawn = np.flatnonzero(safe_floor & (from_start >= 6))
        if len(spawn) == 0:
            spawn = np.flatnonzero(safe_floor & (from_start >= 2))
    if len(spawn) == 0:
        raise ArenaError(f"arena seed {seed}: nowhere for the {role.value} to spawn")
    walk, safe, sight = arena_tables(terrain, locked)
    return Arena(
        seed=seed,
        role=role,
        terrain=terrain,
        start=start,
        exit=exit_,
        treasures=treasures,
        key=key,
        locked=locked,
        home=home,
        spawn_cells=np.sort(spawn).astype(np.int32),
        walk=walk,
        safe=safe,
        sight=sight,
    )


# ---------------------------------------------------------------------------------------------- sources

_SIDES = (("west", "east"), ("north", "south"))


def _gan_rooms(seeds: list[int]) -> np.ndarray:
    """One GAN room per seed, with a door on each of two opposite sides; run as one batch, but each room
    depends only on its own seed."""
    import torch

    gen = _gan()
    densities, masks, latents = [], [], []
    for seed in seeds:
        rng = np.random.default_rng([seed, 0xD00E])
        a, b = _SIDES[int(rng.integers(2))]
        limit = ARENA_H if a == "west" else ARENA_W
        doors = {a: [int(rng.integers(2, limit - 2))], b: [int(rng.integers(2, limit - 2))]}
        density, mask = gen.conditions(1, rng, {"doors": doors})
        densities.append(density)
        masks.append(mask)
        latents.append(gen.latents(1, seed))
    conditions = {"density": np.concatenate(densities), "doors": np.concatenate(masks)}
    codes, _ = gen.sample_codes(len(seeds), conditions=conditions, repair=True, z=torch.cat(latents))
    return codes


@functools.cache
def _gan():
    from procgen.levels.generator import LevelGenerator

    return LevelGenerator.pretrained("dungeon", device="cpu")


@functools.cache
def _corpus_rooms() -> np.ndarray:
    from procgen.levels.corpus import shipped_corpus

    return shipped_corpus("dungeon").examples


LEVEL_SOURCES = ("gan", "corpus")


def rooms(source: str, seeds: list[int]) -> np.ndarray:
    """(N, 11, 16) rooms for level seeds: GAN samples, or corpus rooms (seed modulo the corpus, flips
    included)."""
    if source == "gan":
        return _gan_rooms(seeds)
    if source == "corpus":
        corpus = _corpus_rooms()
        return corpus[np.asarray(seeds) % len(corpus)].copy()
    raise ValueError(f"level_source: expected one of {LEVEL_SOURCES}, got {source!r}")


@functools.lru_cache(maxsize=64)
def arena_set(source: str, role: Role, start_level: int, num_levels: int) -> tuple[Arena, ...]:
    """The arenas for level seeds start_level .. start_level + num_levels - 1 (a seed whose room cannot be
    dressed is replaced by seed + 10,000,000, so the set always has num_levels arenas and the training and test
    ranges never share one)."""
    if not 1 <= num_levels <= MAX_LEVELS:
        raise ValueError(f"num_levels: expected 1..{MAX_LEVELS}, got {num_levels}")
    if start_level < 0:
        raise ValueError(f"start_level: expected >= 0, got {start_level}")
    if source not in LEVEL_SOURCES:
        raise ValueError(f"level_source: expected one of {LEVEL_SOURCES}, got {source!r}")
    arenas: dict[int, Arena] = {}
    todo = list(range(start_level, start_level + num_levels))
    for attempt in range(100):
        if not todo:
            break
        seeds = [s + attempt * REPLACEMENT_STRIDE for s in todo]
        failed = []
        for level_seed, seed, grid in zip(todo, seeds, rooms(source, seeds), strict=True):
            try:
                arenas[level_seed] = dress(grid, role, seed)
            except ArenaError:
                failed.append(level_seed)
        todo = failed
    if todo:
        raise ArenaError(f"level seed {todo[0]}: 100 rooms in a row could not be dressed as {role.value}")
    return tuple(arenas[s] for s in sorted(arenas))


def neighbours(cells: np.ndarray, width: int, height: int) -> np.ndarray:
    """(..., 4) neighbour cells in STEPS order, -1 off the grid."""
    x, y = cells % width, cells // width
    out = np.empty((*np.shape(cells), 4), dtype=np.int64)
    for k, (dx, dy) in enumerate(STEPS):
        nx, ny = x + dx, y + dy
        ok = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        out[..., k] = np.where(ok, ny * width + nx, -1)
    return out


@dataclass(frozen=True, eq=False)
class ArenaBank:
    """A set of arenas with their tables stacked, so a batch of envs on different arenas reads them with one
    gather. Table `base[a] + door_open` belongs to arena `a`."""

    arenas: tuple[Arena, ...]
    walk: np.ndarray  # (T, C, C) uint8
    safe: np.ndarray  # (T, C, C) uint8
    walk_step: np.ndarray  # (T, G, C) int8: first_steps of `walk`
    safe_step: np.ndarray  # (T, G, C) int8: first_steps of `safe`
    sight: np.ndarray  # (T, C, C) bool
    safe_cell: np.ndarray  # (T, C) bool: hazard-free walkable
    terrain: np.ndarray  # (T, C) uint8: the World's terrain codes (the start marker is floor there)
    walk_cell: np.ndarray  # (T, C) bool
    base: np.ndarray  # (A,) int64
    spawn: np.ndarray  # (A, S) spawn cells, farthest (hazard-free steps) from the start first
    spawn_distance: np.ndarray  # (A, S) those distances, -1 padding
    spawn_count: np.ndarray  # (A,)
    height: int
    width: int

    @classmethod
    def of(cls, arenas: tuple[Arena, ...]) -> ArenaBank:
        shapes = {a.terrain.shape for a in arenas}
        if len(shapes) != 1:
            raise ValueError(f"arenas: expected one shape, got {sorted(shapes)}")
        (height, width) = shapes.pop()
        counts = np.array([a.walk.shape[0] for a in arenas])
        grids = []
        for a in arenas:
            grids.append(a.terrain.reshape(-1))
            if a.locked >= 0:
                opened = a.terrain.reshape(-1).copy()
                opened[a.locked] = DOOR
                grids.append(opened)
        terrain = np.stack(grids)
        walk_cell = WALKABLE_LUT[terrain]
        longest = max(len(a.spawn_cells) for a in arenas)
        spawn = np.zeros((len(arenas), longest), np.int64)
        spawn_distance = np.full((len(arenas), longest), -1, np.int64)
        for i, a in enumerate(arenas):
            d = a.safe[0, a.start, a.spawn_cells].astype(np.int64)
            order = np.lexsort((a.spawn_cells, -d))  # farthest first, ties by cell: one exact order
            spawn[i, : len(order)] = a.spawn_cells[order]
            spawn_distance[i, : len(order)] = d[order]
        walk = np.concatenate([a.walk for a in arenas])
        safe = np.concatenate([a.safe for a in arenas])
        return cls(
            arenas=arenas,
            walk=walk,
            safe=safe,
            walk_step=np.stack([first_steps(d, height, width) for d in walk]),
            safe_step=np.stack([first_steps(d, height, width) for d in safe]),
            sight=np.concatenate([a.sight for a in arenas]),
            safe_cell=walk_cell & (terrain != HAZARD),
            terrain=np.where(terrain == START, FLOOR, terrain).astype(np.uint8),
            walk_cell=walk_cell,
            base=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
            spawn=spawn,
            spawn_distance=spawn_distance,
            spawn_count=np.array([len(a.spawn_cells) for a in arenas], np.int64),
            height=height,
            width=width,
        )

    @property
    def cells(self) -> int:
        return self.height * self.width

    @functools.cached_property
    def has_keys(self) -> bool:
        """Whether any arena holds a key (and so a locked door): players skip those goals when none does."""
        return any(a.key >= 0 for a in self.arenas)

    def neighbours(self, cells: np.ndarray) -> np.ndarray:
        return neighbours(cells, self.width, self.height)


@functools.lru_cache(maxsize=16)
def arena_bank(source: str, role: Role, start_level: int, num_levels: int) -> ArenaBank:
    """The bank for a level-seed range (cached: envs of one process share it)."""
    return ArenaBank.of(arena_set(source, role, start_level, num_levels))
