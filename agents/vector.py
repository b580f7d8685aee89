"""The NPC envs over N envs at once, and an SB3 `VecEnv` adapter.

`BatchedNpcEnv` runs `NpcEnv`'s episodes (the World on an arena, a scripted player, one NPC that learns) for N
envs at once through the compiled rules of `agents.vector_kernels`, its only implementation. Distances and
line of sight come from the arena tables (`agents.envs.arenas`) rather than searches. The scripted players, the
episode draw and the rewards are the single env's own functions (`agents.envs.players`, `agents.envs.roles`).
tests/agents/test_vector.py holds it to the single env over long random rollouts, and
tests/agents/test_rules_equivalence.py holds the kernels to the World on generated multi-NPC levels.

Tick order, as in the World: the player's turn; then (between the halves, where the NPC decides) the NPC's
sight, its move or attack, a companion's key pickup and hand-over; then the player's grace period runs down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices

from agents import vector_kernels
from agents.envs.arenas import GUARD_ZONE, ArenaBank, arena_bank
from agents.envs.npc_env import N_ACTIONS
from agents.envs.players import STYLES, player_tables
from agents.envs.roles import ROLES, Tally, checked_params, style_distribution
from agents.observation import OBS_SIZE, WINDOW, observation_bounds
from engine.level import Semantic
from engine.sim.policy import GUARD_ZONE_RADIUS, OBS_RADIUS, Role
from engine.sim.world import (
    COMPANION_MOVE_PERIOD,
    ENEMY_HEALTH,
    ENEMY_MOVE_PERIOD,
    NPC_HEALTH,
    NPC_MOVE_PERIOD,
)

MAX_ENVS = 65_536
_VOID = Semantic.VOID.code
_ENEMY_ROLES = (Role.HUNTER, Role.GUARD)


def npc_constants(role: Role, zone_radius: int | None = None) -> dict[str, Any]:
    """One NPC slot's constants for `vector_kernels.Rules`, as the World gives an NPC of `role` spawned
    without properties (the arenas' guard zone aside)."""
    enemy = role in _ENEMY_ROLES
    period = {Role.COMPANION: COMPANION_MOVE_PERIOD, Role.VILLAGER: NPC_MOVE_PERIOD}.get(
        role, ENEMY_MOVE_PERIOD
    )
    return {
        "npc_enemy": enemy,
        "npc_code": (Semantic.ENEMY if enemy else Semantic.NPC).code,
        "npc_companion": role is Role.COMPANION,
        "npc_period": period,
        "npc_max_health": ENEMY_HEALTH if enemy else NPC_HEALTH,
        "npc_zone": GUARD_ZONE_RADIUS if zone_radius is None else zone_radius,
    }


def compiled_rules(bank: ArenaBank, slots: Sequence[Mapping[str, Any]], guard: bool) -> vector_kernels.Rules:
    """The kernels' read-only bundle for an arena bank and NPC slots (each `npc_constants(...)`)."""
    b = bank
    cells = b.height * b.width
    most = max(1, max(len(a.treasures) for a in b.arenas))
    treasures = np.full((len(b.arenas), most), -1, np.int64)
    for i, a in enumerate(b.arenas):
        treasures[i, : len(a.treasures)] = a.treasures
    # Each cell's window as indices into the terrain row, row-major (dy outer, dx inner) as World.observe
    # slices it; off-level cells point at an extra VOID column.
    dy, dx = np.divmod(np.arange(WINDOW * WINDOW), WINDOW)
    x, y = np.arange(cells) % b.width, np.arange(cells) // b.width
    wx, wy = x[:, None] + dx - OBS_RADIUS, y[:, None] + dy - OBS_RADIUS
    inside = (wx >= 0) & (wx < b.width) & (wy >= 0) & (wy < b.height)
    tables = player_tables(b)
    per_slot = {
        name: np.array(
            [slot[name] for slot in slots], bool if name in ("npc_enemy", "npc_companion") else np.int64
        )
        for name in slots[0]
    }
    return vector_kernels.Rules(
        terrain=b.terrain,
        terrain_ext=np.concatenate([b.terrain, np.full((len(b.terrain), 1), _VOID, np.uint8)], axis=1),
        window_cells=np.where(inside, wy * b.width + wx, cells).astype(np.int32),
        walk=b.walk,
        safe=b.safe,
        walk_step=b.walk_step,
        safe_step=b.safe_step,
        sight=b.sight,
        safe_cell=b.safe_cell,
        walk_cell=b.walk_cell,
        base=b.base,
        arena_start=np.array([a.start for a in b.arenas], np.int64),
        arena_exit=np.array([a.exit for a in b.arenas], np.int64),
        arena_key=np.array([a.key for a in b.arenas], np.int64),
        arena_locked=np.array([a.locked for a in b.arenas], np.int64),
        arena_treasures=treasures,
        spawn=b.spawn,
        spawn_distance=b.spawn_distance,
        spawn_count=b.spawn_count,
        x=tables.x,
        y=tables.y,
        neighbour=tables.neighbour,
        idle=np.full(len(slots), vector_kernels.NO_ACTION, np.int64),
        guard=guard,
        **per_slot,
    )


class BatchedNpcEnv:
    """N envs of one role, stepped together; finished envs reset themselves (the observation returned for them
    is the new episode's first, and the last one of the old episode is in `final_obs`).

    What it holds per env is what an arena holds: the player, one NPC (the learner), at most one key and one
    locked door, treasures, hazards and the exit, on a 16x11 room."""

    def __init__(
        self,
        role: Role | str,
        num_envs: int,
        level_source: str = "gan",
        num_levels: int = 200,
        start_level: int = 0,
        styles: Mapping[str, float] | None = None,
        spawn_min_distance: int | None = None,
    ) -> None:
        if not 1 <= num_envs <= MAX_ENVS:
            raise ValueError(f"num_envs: expected 1..{MAX_ENVS}, got {num_envs}")
        self.role = Role(role)
        self.spec = ROLES[self.role]
        self.bank: ArenaBank = arena_bank(level_source, self.role, start_level, num_levels)
        self.num_envs = n = num_envs
        self.styles = dict(styles or self.spec.styles)
        self.spawn_min_distance = (
            self.spec.spawn_min_distance if spawn_min_distance is None else int(spawn_min_distance)
        )
        self.set_params(styles=self.styles)  # validates
        zone = GUARD_ZONE if self.role is Role.GUARD else None
        self._rules = compiled_rules(self.bank, [npc_constants(self.role, zone)], self.role is Role.GUARD)
        # Observations go into two buffers used in turn: allocating ~3 KB per env each step costs more in page
        # faults than the whole step. A returned array stays valid through the next step (SB3 reads the previous
        # observation after stepping), and is overwritten by the one after.
        self._buffers = [np.zeros((n, OBS_SIZE), np.float32) for _ in range(2)]
        self._turn = 0
        self.base_seed = np.zeros(n, np.uint64)
        self.episode = np.zeros(n, np.uint64)
        self.tally = Tally.zeros(n)
        treasures = self._rules.arena_treasures.shape[1]
        self._state = vector_kernels.new_state(n, 1, treasures, vars(self.tally))

    @property
    def style(self) -> np.ndarray:
        """Each env's player style (index into STYLES)."""
        return self._state.style

    # ------------------------------------------------------------------------------------------ episodes

    def set_params(self, **params: Any) -> None:
        """The single env's curriculum hook, for all envs."""
        for name, value in checked_params(self.bank, params).items():
            setattr(self, name, value)

    def reset(self, seeds: Sequence[int] | np.ndarray) -> np.ndarray:
        """Start every env's first episode; env i's episodes are those of `NpcEnv.reset(seed=seeds[i])`."""
        seeds = np.asarray(seeds, dtype=np.uint64)
        if seeds.shape != (self.num_envs,):
            raise ValueError(f"seeds: expected {self.num_envs} of them, got shape {seeds.shape}")
        self.base_seed[:] = seeds
        self.episode[:] = 0
        out = self._next_buffer()
        self._start(np.arange(self.num_envs), out)
        return out

    def _start(self, rows: np.ndarray, out: np.ndarray) -> None:
        """Begin a new episode in envs `rows`, run them to their NPC's first decision and observe them into
        their rows of `out`."""
        self.tally.decisions[rows] = 0
        parallel = vector_kernels.parallel_for(len(rows))
        start = vector_kernels.start_envs if parallel else vector_kernels.start_envs_serial
        cumulative = style_distribution(self.styles)
        start(
            self._rules,
            self._state,
            rows,
            self.base_seed,
            self.episode,
            cumulative,
            self.spawn_min_distance,
            out,
        )

    # ------------------------------------------------------------------------------------------ stepping

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """(obs, reward, terminated, truncated, info). info holds, for the envs that finished: `done` (mask),
        `final_obs`, `success` and `role_metric` of the finished episodes (NaN elsewhere)."""
        actions = np.asarray(actions, dtype=np.int64)
        if actions.shape != (self.num_envs,) or actions.min() < 0 or actions.max() >= N_ACTIONS:
            raise ValueError(f"actions: expected {self.num_envs} values in 0..{N_ACTIONS - 1}")
        before = self.tally.copy()
        obs = self._next_buffer()
        parallel = vector_kernels.parallel_for(self.num_envs)
        step = vector_kernels.step_envs if parallel else vector_kernels.step_envs_serial
        step(self._rules, self._state, actions.reshape(-1, 1), obs)
        self.tally.decisions += 1
        t = self.tally
        terminated = self.spec.terminated(t)
        truncated = self.spec.truncated(t) & ~terminated
        reward = self.spec.reward(before, t)
        done = terminated | truncated
        info: dict[str, Any] = {"done": done}
        if done.any():
            info["final_obs"] = obs[done].copy()
            info["success"] = self.spec.success(t)[done]
            info["role_metric"] = self.spec.role_metric(t)[done]
            info["style"] = self.style[done].copy()
            self.episode[done] += np.uint64(1)
            self._start(np.flatnonzero(done), obs)
        return obs, reward, terminated, truncated, info

    def _next_buffer(self) -> np.ndarray:
        self._turn ^= 1
        return self._buffers[self._turn]


class NpcVecEnv(VecEnv):
    """SB3's VecEnv over a BatchedNpcEnv: `NpcVecEnv("hunter", 64)` trains like any VecEnv. `seed(s)` gives
    env i the episodes of `NpcEnv.reset(seed=s + i)`. Finished envs reset themselves; their last observation is
    in `infos[i]["terminal_observation"]`, with `is_success`, `role_metric` and the player `style`."""

    def __init__(self, role: Role | str, num_envs: int, **env_kwargs: Any) -> None:
        self.core = BatchedNpcEnv(role, num_envs, **env_kwargs)
        self.render_mode = None
        low, high = observation_bounds()
        super().__init__(num_envs, spaces.Box(low, high, (OBS_SIZE,), np.float32), spaces.Discrete(N_ACTIONS))
        self._actions = np.zeros(num_envs, np.int64)

    def reset(self) -> np.ndarray:
        seeds = [np.random.randint(0, 2**31) if s is None else s for s in self._seeds]
        obs = self.core.reset(np.asarray(seeds, np.uint64))
        self._reset_seeds()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, np.int64).reshape(self.num_envs)

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.core.step(self._actions)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for j, i in enumerate(np.flatnonzero(info["done"])):
            infos[i] = {
                "terminal_observation": info["final_obs"][j],
                "TimeLimit.truncated": bool(truncated[i]),
                "is_success": bool(info["success"][j]),
                "role_metric": float(info["role_metric"][j]),
                "style": STYLES[int(info["style"][j])],
            }
        return obs, reward, terminated | truncated, infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "render_mode":
            return [None] * len(list(self._get_indices(indices)))
        value = getattr(self.core, attr_name)
        return [value] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError("NpcVecEnv shares one state for all envs; use env_method('set_params', ...)")

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs):
        """Only `set_params` (the curriculum hook), and only for all envs at once."""
        if method_name != "set_params" or indices is not None:
            raise AttributeError(
                f"NpcVecEnv supports env_method('set_params', ...) on all envs, not {method_name!r}"
            )
        self.core.set_params(*method_args, **method_kwargs)
        return [None] * self.num_envs

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))
