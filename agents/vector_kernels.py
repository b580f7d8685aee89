"""The batched env's rules compiled with numba: each env's whole tick as plain scalar code, run over all envs in
parallel.

This is the fast backend of `agents.vector.BatchedNpcEnv`. The numpy backend there reads as the World's rules
over whole arrays and stays as the reference; this module does the same work per env without materialising
an array per rule, which is what numpy could not avoid (some 700 calls per step, see docs/agents.md). The
single env, the numpy backend and this one are held to identical observations, rewards and dones by
tests/agents/test_vector.py.

Naming follows the numpy backend method for method (`begin_tick`, `update_sight`, `end_tick`, `advance`,
`observe`), and the scripted players follow `agents.envs.players` rule for rule. Every function takes the env
index `i` and the two bundles below.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from agents.envs.arenas import UNREACHED
from agents.envs.players import EVADE_RANGE, STYLES
from agents.observation import FEATURE_INDEX, HOME_SCALE, ONE_HOT, PLAYER_CHANNEL, SIGHT_SCALE
from engine.level import Semantic
from engine.sim.policy import OBS_RADIUS, Action
from engine.sim.world import CHASE_RADIUS, INVULNERABLE_TICKS, PLAYER_MAX_HEALTH, SIGHT_RADIUS

_HAZARD, _EXIT, _LOCKED = Semantic.HAZARD.code, Semantic.EXIT.code, Semantic.LOCKED_DOOR.code
_KEY, _TREASURE = Semantic.KEY.code, Semantic.TREASURE.code
RUNNING, WON, DIED = 0, 1, 2
"""episode outcomes, as both backends store them"""
STEP_OF_ACTION = np.array([-1, 0, 1, 2, 3, -1], dtype=np.int64)
"""Action code → index into STEPS (UP, DOWN, LEFT, RIGHT); -1 for staying put (NOOP, INTERACT)"""
_NOOP = int(Action.NOOP)
_CHANNELS = ONE_HOT.shape[1]
_WINDOW = 2 * OBS_RADIUS + 1
_FIGHTER, _LOOTER, _EVADER, _DAWDLER, _WAITER = (
    STYLES.index(name) for name in ("fighter", "looter", "evader", "dawdler", "waiter")
)
_F = FEATURE_INDEX
_VISIBLE, _PDX, _PDY = _F["player_visible"], _F["player_dx"], _F["player_dy"]
_TO_PLAYER, _TO_KEY, _TO_HOME = _F["toward_player_up"], _F["toward_key_up"], _F["toward_home_up"]
_HOME_DX, _HOME_DY, _AT_HOME, _IN_ZONE = _F["home_dx"], _F["home_dy"], _F["at_home"], _F["player_in_zone"]
_HEALTH, _CARRIED, _HAS_KEY = _F["health"], _F["keys_carried"], _F["player_has_key"]
_ALERTED, _FRIENDLY = _F["alerted"], _F["friendly"]
_WINDOW_END = _F["player_visible"]
_U = np.uint64


class Rules(NamedTuple):
    """The arena bank's tables and the role's constants (read-only)."""

    terrain: np.ndarray
    terrain_ext: np.ndarray  # terrain plus a VOID column, for window cells off the level
    window_cells: np.ndarray  # (C, 81) each cell's window as indices into a terrain_ext row
    walk: np.ndarray
    safe: np.ndarray
    walk_step: np.ndarray
    safe_step: np.ndarray
    sight: np.ndarray
    safe_cell: np.ndarray
    walk_cell: np.ndarray
    base: np.ndarray
    arena_start: (
        np.ndarray
    )  # (A,) per arena: the player's start, the exit, the key, the locked door (-1: none)
    arena_exit: np.ndarray
    arena_key: np.ndarray
    arena_locked: np.ndarray
    arena_treasures: np.ndarray  # (A, T) -1 padded
    x: np.ndarray  # (C,) each cell's column and row: lookups, not divisions, which were a third of a step
    y: np.ndarray
    neighbour: np.ndarray  # (C, 4) the cell one STEPS[k] away, -1 off the level
    companion: bool
    guard: bool
    period: int
    max_health: int
    zone_radius: int


class State(NamedTuple):
    """The envs' state and their episode tallies: the numpy backend's own arrays, shared, written in place."""

    arena: np.ndarray
    table: np.ndarray
    style: np.ndarray
    seed: np.ndarray
    tick: np.ndarray
    outcome: np.ndarray
    player: np.ndarray
    health: np.ndarray
    keys: np.ndarray
    invulnerable: np.ndarray
    bumped: np.ndarray
    agent: np.ndarray
    agent_health: np.ndarray
    cooldown: np.ndarray
    alive: np.ndarray
    alerted: np.ndarray
    sees: np.ndarray
    carried: np.ndarray
    home: np.ndarray
    key: np.ndarray
    treasures: np.ndarray
    # the Tally's (TALLIED)
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

# The helpers run without numba's reference counting (`_nrt=False`): they never allocate, and with it every
# call that passes the two bundles (52 arrays) increfs and decrefs each array, about 0.6 µs a call, which was
# most of a step. A helper that allocated would fail to compile, not leak.
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


# ---------------------------------------------------------------------------------------------- players


@_jit
def _splitmix64(x):
    x = x + _U(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U(30))) * _U(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U(27))) * _U(0x94D049BB133111EB)
    return x ^ (x >> _U(31))


@_jit
def _player_noise(seed, tick: int):
    return _splitmix64(((seed * _U(0x100000001B3)) ^ (_U(tick) * _U(0x9E3779B1))) ^ _U(0xB0B))


@_jit
def _toward(r: Rules, table: int, player: int, goal: int, safe: bool) -> tuple[int, int]:
    """(distance to `goal`, the first move toward it as an Action code; NOOP at it or where unreachable)."""
    dist, steps = (r.safe, r.safe_step) if safe else (r.walk, r.walk_step)
    d = UNREACHED if goal < 0 else int(dist[table, goal, player])
    k = steps[table, max(goal, 0), player]
    return d, (k + 1 if k >= 0 else _NOOP)


@_jit
def _nearest(r: Rules, table: int, player: int, goals: np.ndarray, safe: bool) -> int:
    """The nearest of several goals (-1 entries are none); of goals at one distance the first wins."""
    dist = r.safe if safe else r.walk
    best, best_d = -1, UNREACHED + 1
    for goal in goals:
        d = UNREACHED if goal < 0 else int(dist[table, goal, player])
        if d < best_d:
            best, best_d = goal, d
    return best


@_jit
def _safe_then_walk(r: Rules, table: int, player: int, safe_goal: int, walk_goal: int) -> tuple[bool, int]:
    """The move toward the goal over hazard-free cells when they reach it, else through hazards; and whether
    it is reachable at all."""
    d_safe, a_safe = _toward(r, table, player, safe_goal, True)
    if d_safe < UNREACHED:
        return True, a_safe  # a hazard-free path is a path: no need to look further
    d_walk, a_walk = _toward(r, table, player, walk_goal, False)
    return d_walk < UNREACHED, a_walk


@_jit
def _closed_door(r: Rules, s: State, i: int) -> int:
    arena = s.arena[i]
    return r.arena_locked[arena] if s.table[i] == r.base[arena] else -1


@_jit
def _run(r: Rules, s: State, i: int, locked: int) -> int:
    """The runner: the exit if reachable; else the locked door, holding a key; else the nearest key."""
    t, p = s.table[i], s.player[i]
    exit_ = r.arena_exit[s.arena[i]]
    ok, move = _safe_then_walk(r, t, p, exit_, exit_)
    if ok:
        return move
    door = locked if s.keys[i] > 0 and locked >= 0 else -1
    ok, move = _safe_then_walk(r, t, p, door, door)
    if ok:
        return move
    ok, move = _safe_then_walk(r, t, p, s.key[i], s.key[i])
    return move if ok else _NOOP


@_jit
def _fight(r: Rules, s: State, i: int) -> int:
    """Attacks an adjacent enemy (-1: none)."""
    if r.companion or not s.alive[i]:
        return -1
    for k in range(4):
        if _step_target(r, s.player[i], k) == s.agent[i]:
            return k + 1
    return -1


@_jit
def _evade(r: Rules, s: State, i: int) -> int:
    """Of staying and the four moves onto hazard-free cells, the one farthest from a seen enemy within reach
    (-1: no such enemy)."""
    if r.companion or not (s.alive[i] and s.sees[i]):
        return -1
    t, p, a = s.table[i], s.player[i], s.agent[i]
    if _manhattan(r, p, a) > EVADE_RANGE:
        return -1
    best, best_away = _NOOP, int(r.safe[t, a, p])
    for k in range(4):
        option = _step_target(r, p, k)
        if option >= 0 and r.safe_cell[t, option] and option != a:
            away = int(r.safe[t, a, option])
            if away > best_away:
                best, best_away = k + 1, away
    return best


@_jit
def player_action(r: Rules, s: State, i: int) -> int:
    """`agents.envs.players.player_actions` for env i."""
    style, locked = s.style[i], _closed_door(r, s, i)
    if style == _FIGHTER:
        move = _fight(r, s, i)
        if move >= 0:
            return move
    elif style == _LOOTER:
        t, p = s.table[i], s.player[i]
        treasures = s.treasures[i]
        ok, move = _safe_then_walk(
            r, t, p, _nearest(r, t, p, treasures, True), _nearest(r, t, p, treasures, False)
        )
        if ok:
            return move
    elif style == _EVADER:
        move = _evade(r, s, i)
        if move >= 0:
            return move
    elif style == _DAWDLER:
        noise = _player_noise(s.seed[i], s.tick[i] + 1)
        if noise % _U(4) == _U(0):
            return int((noise >> _U(2)) % _U(4)) + 1
    elif style == _WAITER and s.keys[i] == 0 and locked >= 0:
        return _NOOP
    return _run(r, s, i, locked)


# ---------------------------------------------------------------------------------------------- the tick


@_jit
def _hurt_player(s: State, i: int) -> bool:
    if s.invulnerable[i] != 0:
        return False
    s.health[i] -= 1
    s.invulnerable[i] = INVULNERABLE_TICKS
    if s.health[i] == 0:
        s.outcome[i] = DIED
    return True


@_jit
def _hurt_agent(s: State, i: int) -> None:
    s.agent_health[i] -= 1
    s.alerted[i] = True
    if s.agent_health[i] == 0:
        s.alive[i] = False
        s.agent_dead[i] = True


@_jit
def _record_outcome(s: State, i: int) -> None:
    s.won[i] = s.outcome[i] == WON
    s.player_dead[i] = s.outcome[i] == DIED


@_jit
def begin_tick(r: Rules, s: State, i: int) -> None:
    """The player's turn (World._player_turn, for the moves a scripted player makes)."""
    step = STEP_OF_ACTION[player_action(r, s, i)]
    s.tick[i] += 1
    s.ticks[i] += 1
    target = _step_target(r, s.player[i], step)
    bumped_before, s.bumped[i] = s.bumped[i], False
    if target < 0:
        return
    swap = False
    if s.alive[i] and target == s.agent[i]:
        if r.companion:
            # a first bump into the companion fails; a second in a row swaps places
            if bumped_before:
                swap = True
                s.agent[i], s.player[i] = s.player[i], target
            else:
                s.blocked[i] += 1
                s.bumped[i] = True
                return
        else:
            _hurt_agent(s, i)
            return
    tile = r.terrain[s.table[i], target]
    if not swap:
        if tile == _LOCKED:
            if s.keys[i] > 0:
                s.keys[i] -= 1
                s.table[i] += 1
            return
        if not r.walk_cell[s.table[i], target]:
            return
        s.player[i] = target
    if s.key[i] == target:
        s.keys[i] += 1
        s.key[i] = -1
    treasures = s.treasures[i]
    for j in range(len(treasures)):
        if treasures[j] == target:
            treasures[j] = -1
    if tile == _HAZARD:
        _hurt_player(s, i)
    if tile == _EXIT and s.outcome[i] == RUNNING:
        s.outcome[i] = WON
    _record_outcome(s, i)


@_jit
def update_sight(r: Rules, s: State, i: int) -> None:
    """World.update_sight: seen, the NPC is alerted; unseen and out of reach, it gives up."""
    t, a, p = s.table[i], s.agent[i], s.player[i]
    sees = _chebyshev(r, a, p) <= SIGHT_RADIUS and r.sight[t, a, p]
    gone = r.safe[t, p, a] > CHASE_RADIUS
    s.alerted[i] = sees or (s.alerted[i] and not gone)
    s.sees[i] = sees


@_jit
def end_tick(r: Rules, s: State, i: int, action: int) -> None:
    """The NPC's turn (its sight update and, when `action` >= 0, its move or attack; a companion's key pickup
    and hand-over), then the player's grace period runs down."""
    if s.outcome[i] == RUNNING and s.alive[i]:
        update_sight(r, s, i)
        if s.cooldown[i] > 0:
            s.cooldown[i] -= 1
        else:
            s.cooldown[i] = r.period - 1
            if action >= 0:
                _npc_move(r, s, i, action)
            if (
                r.companion
                and s.alive[i]
                and s.carried[i] > 0
                and _manhattan(r, s.agent[i], s.player[i]) == 1
            ):
                s.keys[i] += s.carried[i]
                s.handed[i] += s.carried[i]
                s.carried[i] = 0
            _record_outcome(s, i)
    if s.invulnerable[i] > 0:
        s.invulnerable[i] -= 1


@_jit
def _npc_move(r: Rules, s: State, i: int, action: int) -> None:
    target = _step_target(r, s.agent[i], STEP_OF_ACTION[action])
    if target < 0:
        return
    t = s.table[i]
    if target == s.player[i]:
        if not r.companion and _hurt_player(s, i):
            s.hits[i] += 1
            if _chebyshev(r, s.player[i], s.home[i]) <= r.zone_radius:
                s.zone_hits[i] += 1
        return
    if not (r.walk_cell[t, target] if r.companion else r.safe_cell[t, target]):
        return
    s.agent[i] = target
    if r.companion:
        if s.key[i] == target:
            s.carried[i] += 1
            s.key[i] = -1
        if r.terrain[t, target] == _HAZARD:
            s.agent_hazard[i] += 1
            _hurt_agent(s, i)


@_jit
def advance(r: Rules, s: State, i: int) -> None:
    """Run env i to its NPC's next decision (between a tick's halves) or its episode's end, then record the
    tallies read at decisions."""
    while True:
        begin_tick(r, s, i)
        if s.outcome[i] != RUNNING or not s.alive[i]:
            break
        if s.cooldown[i] == 0:
            update_sight(r, s, i)
            break
        end_tick(r, s, i, -1)
        if s.outcome[i] != RUNNING or not s.alive[i]:
            break
    a, p = s.agent[i], s.player[i]
    s.outside_zone[i] = r.guard and _chebyshev(r, a, s.home[i]) > r.zone_radius
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
def _draw_item(r: Rules, out: np.ndarray, cell: int, agent: int, code: int) -> None:
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
    """encode(World.observe(npc)) for env i, written into `out` (one row)."""
    t, a, p = s.table[i], s.agent[i], s.player[i]
    # each window cell's one-hot row, written once (off-level cells read the VOID column)
    window_cells = r.window_cells[a]
    for slot in range(_WINDOW * _WINDOW):
        _write_code(out, slot, r.terrain_ext[t, window_cells[slot]])
    # an item replaces its cell's code; the key is drawn first, treasures over it
    key = s.key[i]
    _draw_item(r, out, key, a, _KEY)
    for cell in s.treasures[i]:
        _draw_item(r, out, cell, a, _TREASURE)
    for k in range(_WINDOW_END, len(out)):
        out[k] = 0.0
    ax, ay = r.x[a], r.y[a]
    sees = s.sees[i]
    dx, dy = r.x[p] - ax, r.y[p] - ay
    if sees:
        if _slot(r, p, a) >= 0:
            out[_slot(r, p, a) * _CHANNELS + PLAYER_CHANNEL] = 1.0
        out[_VISIBLE] = 1.0
        out[_PDX] = dx / SIGHT_SCALE
        out[_PDY] = dy / SIGHT_SCALE
    if (s.alerted[i] or r.companion) and r.safe[t, p, a] <= CHASE_RADIUS:
        _direction(r, out, _TO_PLAYER, t, p, a)
    if key >= 0:
        _direction(r, out, _TO_KEY, t, key, a)
    home = s.home[i]
    _direction(r, out, _TO_HOME, t, home, a)
    hx, hy = r.x[home] - ax, r.y[home] - ay
    out[_HOME_DX] = min(max(hx / HOME_SCALE, -2.0), 2.0)
    out[_HOME_DY] = min(max(hy / HOME_SCALE, -2.0), 2.0)
    out[_AT_HOME] = hx == 0 and hy == 0
    out[_IN_ZONE] = sees and max(abs(dx - hx), abs(dy - hy)) <= r.zone_radius
    out[_HEALTH] = s.agent_health[i] / r.max_health
    out[_CARRIED] = s.carried[i] > 0
    out[_HAS_KEY] = s.keys[i] > 0
    out[_ALERTED] = s.alerted[i]
    out[_FRIENDLY] = r.companion


# ---------------------------------------------------------------------------------------------- batches


@numba.njit(cache=True, nogil=True, parallel=True)
def step_envs(r: Rules, s: State, actions: np.ndarray, out: np.ndarray) -> None:
    """Every env's NPC acts; each env runs to its next decision and is observed into its row of `out`."""
    for i in numba.prange(len(actions)):
        end_tick(r, s, i, actions[i])
        advance(r, s, i)
        observe(r, s, i, out[i])


@numba.njit(cache=True, nogil=True, parallel=True)
def start_envs(
    r: Rules,
    s: State,
    rows: np.ndarray,
    arena: np.ndarray,
    style: np.ndarray,
    seed: np.ndarray,
    spawn: np.ndarray,
    out: np.ndarray,
) -> None:
    """Begin the drawn episodes (`agents.envs.roles.draw_episodes`) in envs `rows`, run them to their first
    decision and observe them into their rows of `out`. Zeroes the tallies held here (the caller zeroes
    `decisions`, the one it keeps)."""
    for j in numba.prange(len(rows)):
        i = rows[j]
        _begin_episode(r, s, i, arena[j], style[j], seed[j], spawn[j])
        advance(r, s, i)
        observe(r, s, i, out[i])


@_jit
def _begin_episode(r: Rules, s: State, i: int, arena: int, style: int, seed, spawn: int) -> None:
    """World.__init__ for an arena: the player at the start, the NPC on its spawn (its home), items in place."""
    s.arena[i], s.table[i], s.style[i], s.seed[i] = arena, r.base[arena], style, seed
    s.tick[i], s.outcome[i], s.bumped[i] = 0, RUNNING, False
    s.player[i], s.health[i], s.keys[i], s.invulnerable[i] = r.arena_start[arena], PLAYER_MAX_HEALTH, 0, 0
    s.agent[i], s.agent_health[i], s.cooldown[i] = spawn, r.max_health, 0
    s.alive[i], s.alerted[i], s.sees[i], s.carried[i] = True, False, False, 0
    s.home[i], s.key[i] = spawn, r.arena_key[arena]
    for k in range(s.treasures.shape[1]):
        s.treasures[i, k] = r.arena_treasures[arena, k]
    s.ticks[i] = s.hits[i] = s.zone_hits[i] = s.handed[i] = s.blocked[i] = 0
    s.agent_hazard[i] = s.to_exit[i] = 0
    s.won[i] = s.player_dead[i] = s.agent_dead[i] = s.outside_zone[i] = s.far[i] = False
