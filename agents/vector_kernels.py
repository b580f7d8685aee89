"""The batched env's rules, compiled with numba: each env's whole tick as plain scalar code, run over all envs in
parallel. This is the only implementation of `agents.vector.BatchedNpcEnv`.

The rules are the World's (`engine.sim.world`), for what an env holds: the player, K NPC slots of any roles
(slot 0 is the one that learns and is observed), at most one key and one locked door, treasures, hazards and
the exit, on one level whose distances and sight come from precomputed tables (`agents.envs.arenas`). The
scripted player is `agents.envs.players.player_action` itself, the episode draw `agents.envs.roles.draw_episode`,
and the noise `engine.sim.noise`'s.
tests/agents/test_rules_equivalence.py holds these kernels to the World tick by tick on generated multi-NPC
levels; tests/agents/test_vector.py holds the batched env to the single env over whole episodes.

Names follow the World: `player_turn` (World._player_turn with its `_enter_cell`), `update_sight`, `npc_move`,
`end_tick` (World.end_tick: every NPC's turn in slot order, then the grace period). Every function takes the
two bundles below and the env index `i` (and an NPC slot `k`).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from agents.envs.players import PlayerTables, noise, player_action
from agents.envs.roles import draw_episode
from agents.observation import (
    FEATURE_INDEX,
    HOME_SCALE,
    ONE_HOT,
    PLAYER_CHANNEL,
    SIGHT_SCALE,
)
from engine.level import Semantic
from engine.sim.policy import OBS_RADIUS, Action
from engine.sim.world import CHASE_RADIUS, INVULNERABLE_TICKS, PLAYER_MAX_HEALTH, SIGHT_RADIUS

_HAZARD, _EXIT, _LOCKED = Semantic.HAZARD.code, Semantic.EXIT.code, Semantic.LOCKED_DOOR.code
_KEY, _TREASURE = Semantic.KEY.code, Semantic.TREASURE.code
RUNNING, WON, DIED = 0, 1, 2
"""episode outcomes, as the state stores them"""
STEP_OF_ACTION = np.array([-1, 0, 1, 2, 3, -1], dtype=np.int64)
"""Action code → index into STEPS (UP, DOWN, LEFT, RIGHT); -1 for staying put (NOOP, INTERACT)"""
NO_ACTION = -1
"""an NPC slot's action when nobody chooses one: it stays put (the kernels compile no scripted NPC policy)"""
assert int(Action.INTERACT) == len(STEP_OF_ACTION) - 1
_CHANNELS = ONE_HOT.shape[1]
_WINDOW = 2 * OBS_RADIUS + 1
_F = FEATURE_INDEX
_VISIBLE, _PDX, _PDY = _F["player_visible"], _F["player_dx"], _F["player_dy"]
_TO_PLAYER, _TO_KEY, _TO_HOME = _F["toward_player_up"], _F["toward_key_up"], _F["toward_home_up"]
_HOME_DX, _HOME_DY, _AT_HOME, _IN_ZONE = _F["home_dx"], _F["home_dy"], _F["at_home"], _F["player_in_zone"]
_HEALTH, _CARRIED, _HAS_KEY = _F["health"], _F["keys_carried"], _F["player_has_key"]
_ALERTED, _FRIENDLY = _F["alerted"], _F["friendly"]


class Rules(NamedTuple):
    """The level tables and the NPC slots' constants (read-only)."""

    terrain: np.ndarray  # (T, C) uint8 the World's terrain codes per table (arena and door state)
    terrain_ext: np.ndarray  # (T, C + 1) terrain plus a VOID column, for window cells off the level
    window_cells: np.ndarray  # (C, 81) each cell's window as indices into a terrain_ext row
    walk: np.ndarray  # (T, C, C) uint8 BFS distances src → dst, hazards walkable
    safe: np.ndarray  # (T, C, C) the same over hazard-free cells
    walk_step: np.ndarray  # (T, G, C) int8 the first move from a cell toward a goal (index into STEPS)
    safe_step: np.ndarray  # (T, G, C) the same over hazard-free cells
    sight: np.ndarray  # (T, C, C) bool an NPC on src sees dst
    safe_cell: np.ndarray  # (T, C) bool
    walk_cell: np.ndarray  # (T, C) bool
    base: np.ndarray  # (A,) each arena's first table; + 1 once its locked door is open
    arena_start: (
        np.ndarray
    )  # (A,) per arena: the player's start, the exit, the key, the locked door (-1: none)
    arena_exit: np.ndarray
    arena_key: np.ndarray
    arena_locked: np.ndarray
    arena_treasures: np.ndarray  # (A, T) -1 padded
    spawn: np.ndarray  # (A, S) the arena bank's spawn cells, their distances from the start and their count
    spawn_distance: np.ndarray
    spawn_count: np.ndarray
    x: np.ndarray  # (C,) each cell's column and row: lookups, not divisions, which were a third of a step
    y: np.ndarray
    neighbour: np.ndarray  # (C, 4) the cell one STEPS[k] away, -1 off the level
    npc_enemy: np.ndarray  # (K,) bool per slot: an enemy (hunter, guard), which the player's bump attacks
    npc_code: np.ndarray  # (K,) its semantic code as other NPCs' windows show it
    npc_companion: np.ndarray  # (K,) bool: crosses hazards, picks up keys, hands them over, tracks the player
    npc_period: np.ndarray  # (K,) ticks between moves
    npc_max_health: np.ndarray  # (K,)
    npc_zone: np.ndarray  # (K,) zone radius around home
    idle: np.ndarray  # (K,) NO_ACTION for every slot
    guard: bool  # slot 0 is a guard (it is tallied for leaving its zone)


class State(NamedTuple):
    """The envs' state, per env (N,) or per env and NPC slot (N, K), and slot 0's episode tallies; written in
    place."""

    arena: np.ndarray
    table: np.ndarray
    style: np.ndarray
    seed: np.ndarray  # uint64
    tick: np.ndarray
    outcome: np.ndarray
    player: np.ndarray
    health: np.ndarray
    keys: np.ndarray
    invulnerable: np.ndarray
    bumped: np.ndarray  # the friendly slot + 1 the player bumped last tick (0: none): a second bump swaps
    key: np.ndarray  # the key on the floor (-1: none)
    treasures: np.ndarray  # (N, T) treasures still lying there (-1: taken)
    npc: np.ndarray  # (N, K) cells
    npc_health: np.ndarray
    cooldown: np.ndarray
    alive: np.ndarray
    alerted: np.ndarray
    sees: np.ndarray
    carried: np.ndarray  # keys a companion carries
    home: np.ndarray
    # the Tally's (TALLIED), for slot 0
    ticks: np.ndarray
    hits: np.ndarray
    zone_hits: np.ndarray
    handed: np.ndarray
    blocked: np.ndarray
    agent_hazard: np.ndarray
    won: np.ndarray
    player_dead: np.ndarray
    agent_dead: np.ndarray
    outside_zone: np.ndarray
    far: np.ndarray
    to_exit: np.ndarray


TALLIED = State._fields[State._fields.index("ticks") :]
SLOTTED = State._fields[State._fields.index("npc") : State._fields.index("ticks")]


def new_state(envs: int, slots: int, treasures: int, tallies: dict[str, np.ndarray]) -> State:
    """Zeroed state for `envs` envs of `slots` NPC slots; the tallies are the caller's arrays (a `Tally`)."""
    bools = {"alive", "alerted", "sees"}
    arrays: dict[str, np.ndarray] = {}
    for name in State._fields:
        if name in TALLIED:
            arrays[name] = tallies[name]
        elif name in SLOTTED:
            arrays[name] = np.zeros((envs, slots), bool if name in bools else np.int64)
        else:
            arrays[name] = np.zeros(envs, np.uint64 if name == "seed" else np.int64)
    arrays["treasures"] = np.full((envs, max(treasures, 1)), -1, np.int64)
    return State(**arrays)


# The helpers run without numba's reference counting (`_nrt=False`): they never allocate, and with it every
# call that passes the two bundles (some 60 arrays) increfs and decrefs each array, about 0.6 µs a call, which
# was most of a step. A helper that allocated would fail to compile, not leak.
_jit = numba.njit(cache=True, nogil=True, _nrt=False)

# ---------------------------------------------------------------------------------------------- geometry


@_jit
def _step_target(r: Rules, cell: int, step: int) -> int:
    """The cell one STEPS[step] away, -1 off the level or for no step (step -1)."""
    return -1 if step < 0 else r.neighbour[cell, step]


@_jit
def _chebyshev(r: Rules, a: int, b: int) -> int:
    return max(abs(r.x[a] - r.x[b]), abs(r.y[a] - r.y[b]))


@_jit
def _manhattan(r: Rules, a: int, b: int) -> int:
    return abs(r.x[a] - r.x[b]) + abs(r.y[a] - r.y[b])


@_jit
def _npc_at(s: State, i: int, cell: int) -> int:
    """The living NPC's slot on `cell`, -1 for none (World.npc_at)."""
    for k in range(s.npc.shape[1]):
        if s.alive[i, k] and s.npc[i, k] == cell:
            return k
    return -1


@_jit
def _closed_door(r: Rules, s: State, i: int) -> int:
    """The arena's locked door while it is still closed, else -1."""
    arena = s.arena[i]
    return r.arena_locked[arena] if s.table[i] == r.base[arena] else -1


# ---------------------------------------------------------------------------------------------- damage


@_jit
def _record_outcome(s: State, i: int) -> None:
    s.won[i] = s.outcome[i] == WON
    s.player_dead[i] = s.outcome[i] == DIED


@_jit
def _hurt_player(s: State, i: int) -> bool:
    """World._hurt_player (no shield: only the narrator gives one)."""
    if s.invulnerable[i] != 0:
        return False
    s.health[i] -= 1
    s.invulnerable[i] = INVULNERABLE_TICKS
    if s.health[i] == 0:
        s.outcome[i] = DIED
    _record_outcome(s, i)
    return True


@_jit
def _hurt_npc(s: State, i: int, k: int) -> None:
    """World._hurt_npc, one point."""
    s.npc_health[i, k] -= 1
    s.alerted[i, k] = True
    if s.npc_health[i, k] == 0:
        s.alive[i, k] = False
        if k == 0:
            s.agent_dead[i] = True


# ---------------------------------------------------------------------------------------------- the player


@_jit
def scripted_action(r: Rules, s: State, i: int) -> int:
    """The scripted player's action this tick (before the tick begins), facing the NPC of slot 0."""
    alive = s.alive[i, 0]
    # (the player's tables as their own bundle here: numba's parallel loops take no nested tuples)
    tables = PlayerTables(r.walk, r.safe, r.walk_step, r.safe_step, r.safe_cell, r.neighbour, r.x, r.y)
    return player_action(
        tables,
        s.table[i],
        s.style[i],
        s.player[i],
        s.keys[i],
        r.arena_exit[s.arena[i]],
        s.key[i],
        _closed_door(r, s, i),
        s.treasures[i],
        s.npc[i, 0],
        alive and r.npc_enemy[0],
        alive and s.sees[i, 0],
        noise(s.seed[i], s.tick[i] + 1),
    )


@_jit
def player_turn(r: Rules, s: State, i: int, action: int) -> None:
    """World.begin_tick then World._player_turn, for the actions a scripted player takes (NOOP and the four
    moves; INTERACT, which no scripted player uses, stays put)."""
    s.tick[i] += 1
    s.ticks[i] += 1
    bumped_before, s.bumped[i] = s.bumped[i], 0
    target = _step_target(r, s.player[i], STEP_OF_ACTION[action])
    if target < 0:
        return
    k = _npc_at(s, i, target)
    if k >= 0:
        # bumping an enemy attacks it; a friend blocks the way, and a second bump in a row swaps places
        if r.npc_enemy[k]:
            _hurt_npc(s, i, k)
            return
        if bumped_before != k + 1:
            s.bumped[i] = k + 1
            if k == 0:
                s.blocked[i] += 1
            return
        s.npc[i, k] = s.player[i]
    else:
        t = s.table[i]
        if r.terrain[t, target] == _LOCKED:
            if s.keys[i] > 0:
                s.keys[i] -= 1
                s.table[i] += 1
            return
        if not r.walk_cell[t, target]:
            return
    s.player[i] = target
    _enter_cell(r, s, i)


@_jit
def _enter_cell(r: Rules, s: State, i: int) -> None:
    """World._enter_cell: the items on the player's new cell, then its tile."""
    p = s.player[i]
    if s.key[i] == p:
        s.keys[i] += 1
        s.key[i] = -1
    treasures = s.treasures[i]
    for j in range(len(treasures)):
        if treasures[j] == p:
            treasures[j] = -1
    tile = r.terrain[s.table[i], p]
    if tile == _HAZARD:
        _hurt_player(s, i)
    elif tile == _EXIT and s.outcome[i] == RUNNING:
        s.outcome[i] = WON
        _record_outcome(s, i)


@_jit
def begin_tick(r: Rules, s: State, i: int) -> None:
    """The player's turn with the scripted player's action."""
    player_turn(r, s, i, scripted_action(r, s, i))


# ---------------------------------------------------------------------------------------------- the NPCs


@_jit
def update_sight(r: Rules, s: State, i: int, k: int) -> None:
    """World.update_sight: seen, the NPC is alerted; unseen and out of reach, it gives up."""
    t, a, p = s.table[i], s.npc[i, k], s.player[i]
    sees = _chebyshev(r, a, p) <= SIGHT_RADIUS and r.sight[t, a, p]
    gone = r.safe[t, p, a] > CHASE_RADIUS
    s.alerted[i, k] = sees or (s.alerted[i, k] and not gone)
    s.sees[i, k] = sees


@_jit
def npc_move(r: Rules, s: State, i: int, k: int, action: int) -> None:
    """World._npc_move: an enemy stepping at the player hits them; otherwise it moves onto a free cell it may
    stand on (companions cross hazards, and pick up keys and get hurt on the way)."""
    target = _step_target(r, s.npc[i, k], STEP_OF_ACTION[action])
    if target < 0:
        return
    if target == s.player[i]:
        if r.npc_enemy[k] and _hurt_player(s, i) and k == 0:
            s.hits[i] += 1
            if _chebyshev(r, s.player[i], s.home[i, k]) <= r.npc_zone[k]:
                s.zone_hits[i] += 1
        return
    t = s.table[i]
    companion = r.npc_companion[k]
    if not (r.walk_cell[t, target] if companion else r.safe_cell[t, target]) or _npc_at(s, i, target) >= 0:
        return
    s.npc[i, k] = target
    if companion:
        if s.key[i] == target:
            s.carried[i, k] += 1
            s.key[i] = -1
        if r.terrain[t, target] == _HAZARD:
            if k == 0:
                s.agent_hazard[i] += 1
            _hurt_npc(s, i, k)


@_jit
def end_tick(r: Rules, s: State, i: int, actions: np.ndarray) -> None:
    """World.end_tick: each living NPC in slot order sees, then waits out its cooldown or acts (`actions[k]`)
    and, a companion, hands its keys over; then the player's grace period runs down."""
    for k in range(len(actions)):
        if s.outcome[i] != RUNNING:
            break
        if not s.alive[i, k]:
            continue
        update_sight(r, s, i, k)
        if s.cooldown[i, k] > 0:
            s.cooldown[i, k] -= 1
            continue
        s.cooldown[i, k] = r.npc_period[k] - 1
        if actions[k] >= 0:
            npc_move(r, s, i, k, actions[k])
        if (
            r.npc_companion[k]
            and s.alive[i, k]
            and s.carried[i, k] > 0
            and _manhattan(r, s.npc[i, k], s.player[i]) == 1
        ):
            s.keys[i] += s.carried[i, k]
            if k == 0:
                s.handed[i] += s.carried[i, k]
            s.carried[i, k] = 0
    if s.invulnerable[i] > 0:
        s.invulnerable[i] -= 1


@_jit
def advance(r: Rules, s: State, i: int) -> None:
    """Run env i to slot 0's next decision (between a tick's halves, after its sight update) or its episode's
    end, then record the tallies read at decisions (NpcEnv._advance)."""
    while True:
        begin_tick(r, s, i)
        if s.outcome[i] != RUNNING or not s.alive[i, 0]:
            break
        if s.cooldown[i, 0] == 0:
            update_sight(r, s, i, 0)
            break
        end_tick(r, s, i, r.idle)
        if s.outcome[i] != RUNNING or not s.alive[i, 0]:
            break
    a, p = s.npc[i, 0], s.player[i]
    s.outside_zone[i] = r.guard and _chebyshev(r, a, s.home[i, 0]) > r.npc_zone[0]
    s.far[i] = _manhattan(r, a, p) > 4
    s.to_exit[i] = r.walk[s.table[i], r.arena_exit[s.arena[i]], p]


# ---------------------------------------------------------------------------------------------- observing


@_jit
def _slot(r: Rules, cell: int, agent: int) -> int:
    """The cell's index in the agent's window, -1 outside it."""
    dx, dy = r.x[cell] - r.x[agent], r.y[cell] - r.y[agent]
    if abs(dx) > OBS_RADIUS or abs(dy) > OBS_RADIUS:
        return -1
    return (dy + OBS_RADIUS) * _WINDOW + dx + OBS_RADIUS


@_jit
def _write_code(out: np.ndarray, slot: int, code: int) -> None:
    for channel in range(_CHANNELS):
        out[slot * _CHANNELS + channel] = ONE_HOT[code, channel]


@_jit
def _draw(r: Rules, out: np.ndarray, cell: int, agent: int, code: int) -> None:
    slot = _slot(r, cell, agent) if cell >= 0 else -1
    if slot >= 0:
        _write_code(out, slot, code)


@_jit
def _direction(r: Rules, out: np.ndarray, first: int, table: int, goal: int, agent: int) -> None:
    k = r.safe_step[table, goal, agent]
    if k >= 0:
        out[first + k] = 1.0


@_jit
def observe(r: Rules, s: State, i: int, out: np.ndarray) -> None:
    """encode(World.observe(npc)) for slot 0 of env i, written into `out` (one row)."""
    t, a, p = s.table[i], s.npc[i, 0], s.player[i]
    # each window cell's whole one-hot row, written once (off-level cells read the VOID column): eight stores
    # from a constant table vectorise, and were faster than zeroing the row and setting one channel per cell
    window_cells = r.window_cells[a]
    for slot in range(_WINDOW * _WINDOW):
        _write_code(out, slot, r.terrain_ext[t, window_cells[slot]])
    # items replace their cell's code, and the other NPCs are drawn over items
    key = s.key[i]
    _draw(r, out, key, a, _KEY)
    for cell in s.treasures[i]:
        _draw(r, out, cell, a, _TREASURE)
    for k in range(1, s.npc.shape[1]):
        if s.alive[i, k]:
            _draw(r, out, s.npc[i, k], a, r.npc_code[k])
    for j in range(_WINDOW * _WINDOW * _CHANNELS, len(out)):
        out[j] = 0.0
    ax, ay = r.x[a], r.y[a]
    sees = s.sees[i, 0]
    dx, dy = r.x[p] - ax, r.y[p] - ay
    if sees:
        slot = _slot(r, p, a)
        if slot >= 0:
            out[slot * _CHANNELS + PLAYER_CHANNEL] = 1.0
        out[_VISIBLE] = 1.0
        out[_PDX] = dx / SIGHT_SCALE
        out[_PDY] = dy / SIGHT_SCALE
    if (s.alerted[i, 0] or r.npc_companion[0]) and r.safe[t, p, a] <= CHASE_RADIUS:
        _direction(r, out, _TO_PLAYER, t, p, a)
    if key >= 0:
        _direction(r, out, _TO_KEY, t, key, a)
    home = s.home[i, 0]
    _direction(r, out, _TO_HOME, t, home, a)
    hx, hy = r.x[home] - ax, r.y[home] - ay
    out[_HOME_DX] = min(max(hx / HOME_SCALE, -2.0), 2.0)
    out[_HOME_DY] = min(max(hy / HOME_SCALE, -2.0), 2.0)
    out[_AT_HOME] = hx == 0 and hy == 0
    out[_IN_ZONE] = sees and max(abs(dx - hx), abs(dy - hy)) <= r.npc_zone[0]
    out[_HEALTH] = s.npc_health[i, 0] / max(r.npc_max_health[0], 1)
    out[_CARRIED] = s.carried[i, 0] > 0
    out[_HAS_KEY] = s.keys[i] > 0
    out[_ALERTED] = s.alerted[i, 0]
    out[_FRIENDLY] = not r.npc_enemy[0]


# ---------------------------------------------------------------------------------------------- batches


def _step_envs(r: Rules, s: State, actions: np.ndarray, out: np.ndarray) -> None:
    """Every env's NPCs act (`actions` (N, K), NO_ACTION where none is chosen); each env runs to its next
    decision and is observed into its row of `out`."""
    for i in numba.prange(len(actions)):
        end_tick(r, s, i, actions[i])
        advance(r, s, i)
        observe(r, s, i, out[i])


def _start_envs(
    r: Rules,
    s: State,
    rows: np.ndarray,
    base_seed: np.ndarray,
    episode: np.ndarray,
    cumulative: np.ndarray,
    spawn_min_distance: int,
    out: np.ndarray,
) -> None:
    """Begin the next episode in envs `rows` (drawn by `agents.envs.roles.draw_episode` from each env's
    `base_seed` and `episode` number, with the style distribution `cumulative`), run them to their first
    decision and observe them into their rows of `out`. Zeroes the tallies held here (the caller zeroes
    `decisions`, the one it keeps)."""
    for j in numba.prange(len(rows)):
        i = rows[j]
        seed, arena, style, spawn = draw_episode(
            base_seed[i], episode[i], cumulative, r.spawn, r.spawn_distance, r.spawn_count, spawn_min_distance
        )
        _begin_episode(r, s, i, arena, style, seed, spawn)
        advance(r, s, i)
        observe(r, s, i, out[i])


# Each batch loop compiled twice: over all cores, and in the calling thread. A parallel region costs a fork and
# a join, which is more than the work below PARALLEL_MIN_ENVS envs, and far more when the machine is busy
# (a region waits for its slowest thread); `parallel_for` picks.
PARALLEL_MIN_ENVS = 1024
step_envs = numba.njit(cache=True, nogil=True, parallel=True)(_step_envs)
step_envs_serial = numba.njit(cache=True, nogil=True)(_step_envs)
start_envs = numba.njit(cache=True, nogil=True, parallel=True)(_start_envs)
start_envs_serial = numba.njit(cache=True, nogil=True)(_start_envs)


def parallel_for(envs: int) -> bool:
    """Whether a batch of `envs` envs runs on all cores."""
    return envs >= PARALLEL_MIN_ENVS and numba.get_num_threads() > 1


@_jit
def _begin_episode(r: Rules, s: State, i: int, arena: int, style: int, seed, spawn: int) -> None:
    """World.__init__ for an arena: the player at the start, slot 0's NPC on its spawn (its home), items in
    place."""
    s.arena[i], s.table[i], s.style[i], s.seed[i] = arena, r.base[arena], style, seed
    s.tick[i], s.outcome[i], s.bumped[i] = 0, RUNNING, 0
    s.player[i], s.health[i], s.keys[i], s.invulnerable[i] = r.arena_start[arena], PLAYER_MAX_HEALTH, 0, 0
    s.key[i] = r.arena_key[arena]
    for j in range(s.treasures.shape[1]):
        s.treasures[i, j] = r.arena_treasures[arena, j]
    s.npc[i, 0], s.npc_health[i, 0], s.cooldown[i, 0] = spawn, r.npc_max_health[0], 0
    s.alive[i, 0], s.alerted[i, 0], s.sees[i, 0], s.carried[i, 0] = True, False, False, 0
    s.home[i, 0] = spawn
    s.ticks[i] = s.hits[i] = s.zone_hits[i] = s.handed[i] = s.blocked[i] = 0
    s.agent_hazard[i] = s.to_exit[i] = 0
    s.won[i] = s.player_dead[i] = s.agent_dead[i] = s.outside_zone[i] = s.far[i] = False


# ---------------------------------------------------------------------------------------------- one rule at a
# time, from Python: what tests/agents/test_rules_equivalence.py steps beside the World


@numba.njit(cache=True, nogil=True)
def player_turns(r: Rules, s: State, actions: np.ndarray) -> None:
    """`player_turn` in every env with the player actions `actions` (N,)."""
    for i in range(len(actions)):
        player_turn(r, s, i, actions[i])


@numba.njit(cache=True, nogil=True)
def npc_turns(r: Rules, s: State, actions: np.ndarray) -> None:
    """`end_tick` in every env with the NPC actions `actions` (N, K)."""
    for i in range(len(actions)):
        end_tick(r, s, i, actions[i])


@numba.njit(cache=True, nogil=True)
def scripted_actions(r: Rules, s: State, out: np.ndarray) -> None:
    """Every env's scripted player action, into `out` (N,)."""
    for i in range(len(out)):
        out[i] = scripted_action(r, s, i)


@numba.njit(cache=True, nogil=True)
def observe_envs(r: Rules, s: State, out: np.ndarray) -> None:
    """`observe` for every env into its row of `out`."""
    for i in range(len(out)):
        observe(r, s, i, out[i])
