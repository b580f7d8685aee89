"""The scripted players the NPCs train against: a population of styles, one compiled rule per style.

Every style is greedy on the arena's BFS tables: each tick it takes the first move (in STEPS order) that brings
it one step closer to its current goal (the nearest, when there are several), over hazard-free cells when it
can and through hazards when it must.
`player_action` is the one definition: numba compiles it once, the single env calls it through
`player_actions` and the batched env's kernels (`agents.vector_kernels`) call it from their compiled tick.

| style | plays |
|---|---|
| runner | exit if reachable; else the locked door, holding a key; else the nearest key |
| fighter | attacks an adjacent enemy, else runs |
| looter | picks up every reachable treasure first, then runs |
| evader | steps away from an enemy it sees within 4 steps, else runs |
| dawdler | a random step one tick in four, else runs |
| waiter | stays put until it holds a key (waiting for its companion), then runs |
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import NamedTuple

import numba
import numpy as np

from agents.envs.arenas import UNREACHED, ArenaBank
from engine.sim.noise import splitmix64, tick_key
from engine.sim.policy import Action

STYLES: tuple[str, ...] = ("runner", "fighter", "looter", "evader", "dawdler", "waiter")
EVADE_RANGE = 4
PLAYER_SALT = 0xB0B
"""the scripted player's salt in `engine.sim.noise.tick_key` (NPCs use their ids)"""

_NOOP = int(Action.NOOP)
_FIGHTER, _LOOTER, _EVADER, _DAWDLER, _WAITER = (
    STYLES.index(name) for name in ("fighter", "looter", "evader", "dawdler", "waiter")
)
_U64 = np.uint64

# Compiled without numba's reference counting: these never allocate, and with it each call from the kernels
# increfs and decrefs every table it is passed (see agents/vector_kernels.py).
_jit = numba.njit(cache=True, nogil=True, _nrt=False)
_splitmix64 = _jit(splitmix64)
_tick_key = _jit(tick_key)


class PlayerTables(NamedTuple):
    """What a scripted player reads of an arena bank (read-only)."""

    walk: np.ndarray  # (T, C, C) uint8 BFS distances goal → cell, hazards walkable
    safe: np.ndarray  # (T, C, C) the same over hazard-free cells
    walk_step: np.ndarray  # (T, G, C) int8 the first move toward the goal (index into STEPS, -1: none)
    safe_step: np.ndarray
    safe_cell: np.ndarray  # (T, C) bool hazard-free walkable
    neighbour: np.ndarray  # (C, 4) the cell one STEPS[k] away, -1 off the level
    x: np.ndarray  # (C,) each cell's column and row
    y: np.ndarray


@functools.cache
def player_tables(bank: ArenaBank) -> PlayerTables:
    cells = np.arange(bank.cells)
    return PlayerTables(
        walk=bank.walk,
        safe=bank.safe,
        walk_step=bank.walk_step,
        safe_step=bank.safe_step,
        safe_cell=bank.safe_cell,
        neighbour=bank.neighbours(cells),
        x=cells % bank.width,
        y=cells // bank.width,
    )


def player_noise(episode_seed: np.ndarray, tick: np.ndarray) -> np.ndarray:
    """The scripted player's noise at a tick, over uint64 arrays (`noise` below)."""
    seed, tick = np.asarray(episode_seed).astype(_U64), np.asarray(tick).astype(_U64)
    return splitmix64(tick_key(seed, tick, _U64(PLAYER_SALT)))


@_jit
def noise(seed, tick):
    """`player_noise` for one env, in compiled code."""
    return _splitmix64(_tick_key(seed, _U64(tick), _U64(PLAYER_SALT)))


# ---------------------------------------------------------------------------------------------- the rules


@_jit
def _toward(tb: PlayerTables, table: int, player: int, goal: int, safe: bool) -> tuple[int, int]:
    """(distance to `goal`, the first move toward it as an Action code; NOOP at it or where unreachable)."""
    dist, steps = (tb.safe, tb.safe_step) if safe else (tb.walk, tb.walk_step)
    d = UNREACHED if goal < 0 else int(dist[table, goal, player])
    k = steps[table, max(goal, 0), player]
    return d, (k + 1 if k >= 0 else _NOOP)


@_jit
def _nearest(tb: PlayerTables, table: int, player: int, goals: np.ndarray, safe: bool) -> int:
    """The nearest of several goals (-1 entries are none); of goals at one distance the first wins."""
    dist = tb.safe if safe else tb.walk
    best, best_d = -1, UNREACHED + 1
    for goal in goals:
        d = UNREACHED if goal < 0 else int(dist[table, goal, player])
        if d < best_d:
            best, best_d = goal, d
    return best


@_jit
def _safe_then_walk(tb: PlayerTables, table: int, player: int, safe_goal: int, walk_goal: int):
    """(whether the goal is reachable at all, the move toward it over hazard-free cells when they reach it,
    else through hazards)."""
    d_safe, a_safe = _toward(tb, table, player, safe_goal, True)
    if d_safe < UNREACHED:
        return True, a_safe  # a hazard-free path is a path: no need to look further
    d_walk, a_walk = _toward(tb, table, player, walk_goal, False)
    return d_walk < UNREACHED, a_walk


@_jit
def _run(tb: PlayerTables, table: int, player: int, keys: int, exit_: int, key: int, locked: int) -> int:
    """The runner: the exit if reachable; else the locked door, holding a key; else the nearest key."""
    ok, move = _safe_then_walk(tb, table, player, exit_, exit_)
    if ok:
        return move
    door = locked if keys > 0 and locked >= 0 else -1
    ok, move = _safe_then_walk(tb, table, player, door, door)
    if ok:
        return move
    ok, move = _safe_then_walk(tb, table, player, key, key)
    return move if ok else _NOOP


@_jit
def _evade(tb: PlayerTables, table: int, player: int, agent: int) -> int:
    """Of staying and the four moves onto hazard-free cells, the one farthest from the enemy (first wins);
    -1 when the enemy is out of range."""
    if abs(tb.x[player] - tb.x[agent]) + abs(tb.y[player] - tb.y[agent]) > EVADE_RANGE:
        return -1
    best, best_away = _NOOP, int(tb.safe[table, agent, player])
    for k in range(4):
        option = tb.neighbour[player, k]
        if option >= 0 and tb.safe_cell[table, option] and option != agent:
            away = int(tb.safe[table, agent, option])
            if away > best_away:
                best, best_away = k + 1, away
    return best


@_jit
def player_action(
    tb: PlayerTables,
    table: int,
    style: int,
    player: int,
    keys: int,
    exit_: int,
    key: int,
    locked: int,
    treasures: np.ndarray,
    agent: int,
    agent_enemy: bool,
    agent_seen: bool,
    noise: np.uint64,
) -> int:
    """One player's action (an Action code). Cells are flat indices, -1 for none: `key` a key on the floor,
    `locked` the locked door while closed, `treasures` those still lying there; `agent` is the NPC,
    `agent_enemy` (alive and hostile) and `agent_seen` (alive and seeing the player) are its state."""
    if style == _FIGHTER:
        if agent_enemy:
            for k in range(4):
                if tb.neighbour[player, k] == agent:
                    return k + 1
    elif style == _LOOTER:
        ok, move = _safe_then_walk(
            tb,
            table,
            player,
            _nearest(tb, table, player, treasures, True),
            _nearest(tb, table, player, treasures, False),
        )
        if ok:
            return move
    elif style == _EVADER:
        if agent_enemy and agent_seen:
            move = _evade(tb, table, player, agent)
            if move >= 0:
                return move
    elif style == _DAWDLER:
        if noise % _U64(4) == _U64(0):
            return int((noise >> _U64(2)) % _U64(4)) + 1
    elif style == _WAITER and keys == 0 and locked >= 0:
        return _NOOP
    return _run(tb, table, player, keys, exit_, key, locked)


# ---------------------------------------------------------------------------------------------- from Python


@dataclass
class PlayerView:
    """What the scripted player decides from, one row per env (cells are flat indices, -1 for none)."""

    table: np.ndarray  # index into the bank's tables (arena and door state)
    style: np.ndarray  # index into STYLES
    player: np.ndarray
    keys: np.ndarray  # keys the player holds
    exit: np.ndarray
    key: np.ndarray  # a key lying on the floor
    locked: np.ndarray  # a locked door still closed
    treasures: np.ndarray  # (N, T) treasures still lying there
    agent: np.ndarray  # the NPC's cell
    agent_enemy: np.ndarray  # bool: the NPC is alive and hostile
    agent_seen: np.ndarray  # bool: the NPC and the player see each other
    noise: np.ndarray  # uint64

    def rows(self, rows: np.ndarray) -> PlayerView:
        """The view of some envs only."""
        return PlayerView(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def player_actions(bank: ArenaBank, view: PlayerView) -> np.ndarray:
    """Each env's player action (Action codes), by `player_action`."""
    tb = player_tables(bank)
    i64 = np.int64
    treasures = np.ascontiguousarray(view.treasures, dtype=i64)
    return np.array(
        [
            player_action(
                tb,
                i64(view.table[i]),
                i64(view.style[i]),
                i64(view.player[i]),
                i64(view.keys[i]),
                i64(view.exit[i]),
                i64(view.key[i]),
                i64(view.locked[i]),
                treasures[i],
                i64(view.agent[i]),
                bool(view.agent_enemy[i]),
                bool(view.agent_seen[i]),
                _U64(view.noise[i]),
            )
            for i in range(len(view.player))
        ],
        dtype=i64,
    )
