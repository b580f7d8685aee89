"""The three NPC roles as RL tasks: rewards, termination, success and the role metric, defined once over batched
tallies so the single env and the VecEnv score an episode identically. Also the episode draw: which arena,
which player style, where the NPC spawns; a pure function of (env seed, episode number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numba
import numpy as np

from agents.envs.arenas import ArenaBank
from agents.envs.players import STYLES
from engine.sim.noise import splitmix64
from engine.sim.policy import Role

_U64 = np.uint64


@dataclass
class Tally:
    """Per-env running counts for the current episode (arrays of length N)."""

    decisions: np.ndarray
    hits: np.ndarray  # damage the NPC dealt the player
    zone_hits: np.ndarray  # of those, dealt while the player stood in the guard's zone
    handed: np.ndarray  # keys the companion handed over
    blocked: np.ndarray  # player moves that bumped into the companion
    agent_hazard: np.ndarray  # hazard damage the NPC took
    ticks: np.ndarray
    won: np.ndarray  # bool: the player reached the exit
    player_dead: np.ndarray
    agent_dead: np.ndarray
    outside_zone: np.ndarray  # bool, now: the NPC stands outside its zone
    far: np.ndarray  # bool, now: the NPC is more than FOLLOW_RANGE steps (Manhattan) from the player
    to_exit: np.ndarray  # now: the player's shortest walk to the exit, in steps

    @classmethod
    def zeros(cls, n: int) -> Tally:
        ints = {"decisions", "hits", "zone_hits", "handed", "blocked", "agent_hazard", "ticks", "to_exit"}
        return cls(**{f.name: np.zeros(n, np.int64 if f.name in ints else bool) for f in fields(cls)})

    def copy(self) -> Tally:
        return Tally(**{name: getattr(self, name).copy() for name in _TALLY_FIELDS})

    def reset(self, envs: np.ndarray) -> None:
        """Zero the tallies of `envs` (a mask or row indices)."""
        for name in _TALLY_FIELDS:
            getattr(self, name)[envs] = 0


_TALLY_FIELDS = tuple(f.name for f in fields(Tally))  # dataclasses.fields is slow for a per-step loop
FOLLOW_RANGE = 4


@dataclass(frozen=True)
class RoleSpec:
    role: Role
    max_decisions: int
    """truncation: decisions per episode"""
    styles: Mapping[str, float]
    """the scripted-player population and its weights"""
    spawn_min_distance: int = 0
    """hunter and companion: fewest hazard-free steps from the player's start to the NPC's spawn"""
    metric: str = ""
    metric_better: str = "higher"

    def reward(self, before: Tally, now: Tally) -> np.ndarray:
        d = {name: getattr(now, name) - getattr(before, name) for name in ("hits", "zone_hits", "handed")}
        d |= {name: getattr(now, name) - getattr(before, name) for name in ("blocked", "agent_hazard")}
        dead = (now.agent_dead & ~before.agent_dead).astype(np.float64)
        won = (now.won & ~before.won).astype(np.float64)
        if self.role is Role.HUNTER:
            r = 1.0 * (d["hits"] > 0) - won - dead - 0.01
        elif self.role is Role.GUARD:
            r = 1.0 * d["zone_hits"] - dead - 0.02 * now.outside_zone
        else:
            r = 0.5 * d["handed"] + won - 0.05 * d["blocked"] - 0.3 * d["agent_hazard"] - dead
            r = r - 0.01 * now.far - 0.005
        return r.astype(np.float32)

    def terminated(self, now: Tally) -> np.ndarray:
        over = now.won | now.player_dead | now.agent_dead
        return over | (now.hits > 0) if self.role is Role.HUNTER else over

    def truncated(self, now: Tally) -> np.ndarray:
        return now.decisions >= self.max_decisions

    def success(self, now: Tally) -> np.ndarray:
        if self.role is Role.HUNTER:
            return now.hits > 0
        if self.role is Role.GUARD:
            return now.zone_hits > 0
        return now.won & (now.handed > 0)

    def role_metric(self, now: Tally) -> np.ndarray:
        if self.role is Role.HUNTER:
            return now.to_exit.astype(np.float64)  # how far from the exit the player was stopped
        if self.role is Role.GUARD:
            return now.zone_hits.astype(np.float64)
        return now.blocked.astype(np.float64)


ROLES: dict[Role, RoleSpec] = {
    Role.HUNTER: RoleSpec(
        Role.HUNTER,
        max_decisions=96,
        styles={"runner": 1, "fighter": 1, "looter": 1, "evader": 1, "dawdler": 1},
        spawn_min_distance=6,
        metric="steps the player still had to go to the exit when the episode ended",
    ),
    Role.GUARD: RoleSpec(
        Role.GUARD,
        max_decisions=128,
        styles={"runner": 1, "fighter": 1, "looter": 1, "evader": 1, "dawdler": 1},
        metric="intercepts (hits on the player inside the zone) per episode",
    ),
    Role.COMPANION: RoleSpec(
        Role.COMPANION,
        max_decisions=192,
        styles={"waiter": 2, "runner": 1, "looter": 1, "dawdler": 1},
        spawn_min_distance=2,
        metric="player moves blocked by the companion per episode",
        metric_better="lower",
    ),
}


@dataclass
class Episodes:
    """The draw for a batch of episodes."""

    seed: np.ndarray  # uint64: the World's seed
    arena: np.ndarray
    style: np.ndarray
    spawn: np.ndarray


_jit = numba.njit(cache=True, nogil=True, _nrt=False)
_splitmix64 = _jit(splitmix64)
_EPISODE_SALT = 0xD1B54A32D192ED03
_ARENA_SALT, _STYLE_SALT, _SPAWN_SALT = 1, 2, 3
"""three independent draws per episode: arena, style, spawn"""


@_jit
def draw_episode(
    base_seed,
    episode,
    cumulative: np.ndarray,
    spawn: np.ndarray,
    spawn_distance: np.ndarray,
    spawn_count: np.ndarray,
    spawn_min_distance: int,
):
    """(World seed, arena, player style, spawn cell) of an env's episode, from its seed and episode number
    alone (uint64 both). `cumulative` is the style weights' distribution over STYLES; the spawn tables are the
    arena bank's. The single env calls it through `draw_episodes`, the batched env's kernels directly."""
    seed = _splitmix64((base_seed * _U64(_EPISODE_SALT)) ^ episode) >> _U64(1)
    arena = int(_splitmix64(seed ^ _U64(_ARENA_SALT)) % _U64(len(spawn_count)))
    u = np.float64(_splitmix64(seed ^ _U64(_STYLE_SALT)) >> _U64(11)) / 9007199254740992.0  # 2 ** 53
    style = 0
    while style < len(cumulative) - 1 and cumulative[style] <= u:
        style += 1
    eligible = 0
    for d in spawn_distance[arena]:
        eligible += d >= spawn_min_distance
    if eligible == 0:  # too far for this arena: any spawn cell
        eligible = spawn_count[arena]
    pick = int(_splitmix64(seed ^ _U64(_SPAWN_SALT)) % _U64(eligible))
    return seed, arena, style, spawn[arena, pick]


def draw_episodes(
    bank: ArenaBank,
    base_seed: np.ndarray,
    episode: np.ndarray,
    styles: Mapping[str, float],
    spawn_min_distance: int,
) -> Episodes:
    """`draw_episode` for each env of a batch."""
    cumulative = style_distribution(styles)
    draws = [
        draw_episode(
            _U64(b),
            _U64(e),
            cumulative,
            bank.spawn,
            bank.spawn_distance,
            bank.spawn_count,
            spawn_min_distance,
        )
        for b, e in zip(np.asarray(base_seed, _U64), np.asarray(episode, _U64), strict=True)
    ]
    seed, arena, style, spawn = (
        (np.array(column) for column in zip(*draws, strict=True)) if draws else [[]] * 4
    )
    return Episodes(
        seed=np.asarray(seed, _U64),
        arena=np.asarray(arena, np.int64),
        style=np.asarray(style, np.int64),
        spawn=np.asarray(spawn, np.int64),
    )


def style_distribution(styles: Mapping[str, float]) -> np.ndarray:
    """The style weights' cumulative distribution over STYLES (validated)."""
    key = tuple(float(styles.get(name, 0.0)) for name in STYLES)
    if key not in _CUMULATIVE:
        weights = np.array(key)
        if weights.sum() <= 0 or (weights < 0).any():
            raise ValueError(f"styles: expected non-negative weights over {STYLES}, got {dict(styles)}")
        _CUMULATIVE[key] = np.cumsum(weights / weights.sum())
    return _CUMULATIVE[key]


_CUMULATIVE: dict[tuple[float, ...], np.ndarray] = {}


CURRICULUM_PARAMS = ("styles", "spawn_min_distance")


def checked_params(bank: ArenaBank, params: Mapping[str, object]) -> dict[str, object]:
    """The curriculum parameters an env takes (`set_params`), validated: `styles` (weights by style name) and
    `spawn_min_distance` (hazard-free steps from the player's start)."""
    unknown = set(params) - set(CURRICULUM_PARAMS)
    if unknown:
        raise ValueError(f"params: unknown {sorted(unknown)} (expected one of {CURRICULUM_PARAMS})")
    out: dict[str, object] = {}
    if "styles" in params:
        styles = dict(params["styles"])  # type: ignore[call-overload]
        bad = set(styles) - set(STYLES)
        if bad:
            raise ValueError(f"styles: unknown {sorted(bad)} (expected some of {STYLES})")
        style_distribution(styles)  # raises on bad weights
        out["styles"] = styles
    if "spawn_min_distance" in params:
        distance = int(params["spawn_min_distance"])  # type: ignore[call-overload]
        if not 0 <= distance <= 255:
            raise ValueError(f"spawn_min_distance: expected 0..255, got {distance}")
        out["spawn_min_distance"] = distance
    return out
