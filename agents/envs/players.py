"""The scripted players the NPCs train against: a population of styles, decided over a batch of arenas at once.

Every style is greedy on the arena's BFS tables: each tick it takes the first move (in STEPS order) that brings
it one step closer to its current goal (the nearest, when there are several), over hazard-free cells when it
can and through hazards when it must.
The single env calls this with a batch of one and the VecEnv with all its envs, so both get the same player.

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

from dataclasses import dataclass, fields

import numpy as np

from agents.envs.arenas import UNREACHED, ArenaBank
from engine.sim.policy import Action

STYLES: tuple[str, ...] = ("runner", "fighter", "looter", "evader", "dawdler", "waiter")
_NOOP = int(Action.NOOP)
_MOVE_CODES = np.array([int(Action.UP), int(Action.DOWN), int(Action.LEFT), int(Action.RIGHT)], np.int64)
EVADE_RANGE = 4

_U64 = np.uint64


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The sim's splitmix64 over uint64 arrays, for deterministic per-tick noise. Array arithmetic wraps
    silently (only numpy scalars warn), so inputs are made arrays first."""
    x = np.asarray(x).astype(_U64) + _U64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def player_noise(episode_seed: np.ndarray, tick: np.ndarray) -> np.ndarray:
    seed, tick = np.asarray(episode_seed).astype(_U64), np.asarray(tick).astype(_U64)
    return splitmix64((seed * _U64(0x100000001B3)) ^ (tick * _U64(0x9E3779B1)) ^ _U64(0xB0B))


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


def _toward(bank: ArenaBank, view: PlayerView, goal: np.ndarray, safe: bool):
    """(distance to `goal` (N,), the first move toward it as an Action code; NOOP where unreachable)."""
    dist, steps = (bank.safe, bank.safe_step) if safe else (bank.walk, bank.walk_step)
    flat = (view.table * bank.cells + np.maximum(goal, 0)) * bank.cells + view.player
    d = np.where(goal >= 0, dist.ravel().take(flat), UNREACHED)
    k = steps.ravel().take(flat)
    return d, np.where(k >= 0, _MOVE_CODES.take(k.astype(np.int64)), _NOOP)


def _toward_nearest(bank: ArenaBank, view: PlayerView, goals: np.ndarray, safe: bool):
    """`_toward` the nearest of several goals (N, G); of goals at one distance the first wins."""
    dist = bank.safe if safe else bank.walk
    flat = (view.table[:, None] * bank.cells + np.maximum(goals, 0)) * bank.cells + view.player[:, None]
    d = np.where(goals >= 0, dist.ravel().take(flat), UNREACHED)
    nearest = np.take_along_axis(goals, d.argmin(axis=1)[:, None], axis=1)[:, 0]
    return _toward(bank, view, nearest, safe)


def _safe_then_walk(bank: ArenaBank, view: PlayerView, goals: np.ndarray):
    """The move toward `goals` ((N,) or (N, G)): over hazard-free cells when they reach, else through
    hazards; and whether any goal is reachable at all."""
    toward = _toward if goals.ndim == 1 else _toward_nearest
    d_safe, a_safe = toward(bank, view, goals, safe=True)
    d_walk, a_walk = toward(bank, view, goals, safe=False)
    return d_walk < UNREACHED, np.where(d_safe < UNREACHED, a_safe, a_walk)


def _run(bank: ArenaBank, view: PlayerView) -> np.ndarray:
    """The runner: the exit if reachable; else the locked door, holding a key; else the nearest key."""
    exit_ok, to_exit = _safe_then_walk(bank, view, view.exit)
    conditions, choices = [exit_ok], [to_exit]
    if bank.has_keys:
        door_goal = np.where((view.keys > 0) & (view.locked >= 0), view.locked, -1)
        for goal in (door_goal, view.key):
            ok, toward = _safe_then_walk(bank, view, goal)
            conditions.append(ok)
            choices.append(toward)
    return np.select(conditions, choices, _NOOP).astype(np.int64)


def _fight(bank: ArenaBank, view: PlayerView) -> tuple[np.ndarray, np.ndarray]:
    nbrs = bank.neighbours(view.player)
    adjacent = view.agent_enemy[:, None] & (nbrs == view.agent[:, None]) & (nbrs >= 0)
    return adjacent.any(axis=1), _MOVE_CODES[adjacent.argmax(axis=1)]


def _loot(bank: ArenaBank, view: PlayerView) -> tuple[np.ndarray, np.ndarray]:
    return _safe_then_walk(bank, view, view.treasures)


def _evade(bank: ArenaBank, view: PlayerView) -> tuple[np.ndarray, np.ndarray]:
    """Of staying and the four moves onto hazard-free cells, the one farthest from the enemy (first wins)."""
    nbrs = bank.neighbours(view.player)
    options = np.concatenate([view.player[:, None], nbrs], axis=1)
    opt = np.where(options >= 0, options, 0)
    t = view.table[:, None]
    free = (options >= 0) & bank.safe_cell[t, opt] & (opt != view.agent[:, None])
    free[:, 0] = True
    away = np.where(free, bank.safe[t, view.agent[:, None], opt].astype(np.int64), -1)
    flee = np.concatenate([[_NOOP], _MOVE_CODES])[away.argmax(axis=1)]
    w = bank.width
    here = np.abs(view.player % w - view.agent % w) + np.abs(view.player // w - view.agent // w)
    return view.agent_enemy & view.agent_seen & (here <= EVADE_RANGE), flee


def _dawdle(bank: ArenaBank, view: PlayerView) -> tuple[np.ndarray, np.ndarray]:
    random_move = _MOVE_CODES[((view.noise >> _U64(2)) % _U64(4)).astype(np.int64)]
    return view.noise % _U64(4) == 0, random_move


def _wait(bank: ArenaBank, view: PlayerView) -> tuple[np.ndarray, np.ndarray]:
    return (view.keys == 0) & (view.locked >= 0), np.full(len(view.player), _NOOP)


# style → (when it departs from running, what it does then); the runner has no rule of its own
_RULES = {"fighter": _fight, "looter": _loot, "evader": _evade, "dawdler": _dawdle, "waiter": _wait}


def player_actions(bank: ArenaBank, view: PlayerView) -> np.ndarray:
    """Each env's player action (Action codes). Each style's rule runs only on the envs of that style."""
    action = _run(bank, view)
    for name, rule in _RULES.items():
        rows = np.flatnonzero(view.style == STYLES.index(name))
        if len(rows):
            departs, choice = rule(bank, view.rows(rows))
            action[rows] = np.where(departs, choice, action[rows])
    return action
