"""The NPC envs' rules over N envs at once, and an SB3 `VecEnv` adapter.

`BatchedNpcEnv` mirrors `engine.sim.World` for what an arena holds (the player, one NPC, treasure, at most one
key and one locked door) and steps every env with whole-array operations. Distances and line of sight come
from the arena tables (`agents.envs.arenas`) rather than searches. The scripted players, the episode draw and
the rewards are the single env's own functions (`agents.envs.players`, `agents.envs.roles`); the World's
rules are the part written twice, and tests/agents/test_vector.py holds the two to the same observations,
rewards and dones over long random rollouts.

Two backends run these rules. `numpy` (this module) steps all envs with whole-array operations and reads as
the reference; `numba` (the default, `agents.vector_kernels`) runs the same rules per env as compiled scalar
code over all envs in parallel, several times faster. The equivalence test holds both to the single env.

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
from agents.envs.arenas import GUARD_ZONE, UNREACHED, ArenaBank, arena_bank
from agents.envs.npc_env import N_ACTIONS
from agents.envs.players import STYLES, PlayerView, player_actions, player_noise
from agents.envs.roles import ROLES, Tally, checked_params, draw_episodes
from agents.observation import (
    FEATURE_INDEX,
    HOME_SCALE,
    OBS_SIZE,
    ONE_HOT,
    PLAYER_CHANNEL,
    SIGHT_SCALE,
    WINDOW,
    WINDOW_SIZE,
    observation_bounds,
)
from engine.level import Semantic
from engine.sim.grid import STEPS
from engine.sim.policy import GUARD_ZONE_RADIUS, OBS_RADIUS, Role
from engine.sim.world import (
    CHASE_RADIUS,
    COMPANION_MOVE_PERIOD,
    ENEMY_HEALTH,
    ENEMY_MOVE_PERIOD,
    INVULNERABLE_TICKS,
    NPC_HEALTH,
    PLAYER_MAX_HEALTH,
    SIGHT_RADIUS,
)

MAX_ENVS = 65_536
BACKENDS = ("numba", "numpy")
_HAZARD, _EXIT, _LOCKED = Semantic.HAZARD.code, Semantic.EXIT.code, Semantic.LOCKED_DOOR.code
_KEY, _TREASURE, _VOID = Semantic.KEY.code, Semantic.TREASURE.code, Semantic.VOID.code
# the backends share one state, so one set of codes
_RUNNING, _WON, _DIED = vector_kernels.RUNNING, vector_kernels.WON, vector_kernels.DIED
# each code's one-hot row as one 32-byte item: a window encodes with a single flat take
_ONE_HOT_ROWS = np.ascontiguousarray(ONE_HOT).view(np.dtype((np.void, ONE_HOT.shape[1] * 4))).reshape(-1)
_STEP_OF_ACTION = vector_kernels.STEP_OF_ACTION
# (dx, dy) by STEPS index + 1; index 0 is "no step"
_DX = np.array([0, *(dx for dx, _ in STEPS)], dtype=np.int64)
_DY = np.array([0, *(dy for _, dy in STEPS)], dtype=np.int64)


class BatchedNpcEnv:
    """N envs of one role, stepped together; finished envs reset themselves (the observation returned for them
    is the new episode's first, and the last one of the old episode is in `final_obs`)."""

    def __init__(
        self,
        role: Role | str,
        num_envs: int,
        level_source: str = "gan",
        num_levels: int = 200,
        start_level: int = 0,
        styles: Mapping[str, float] | None = None,
        spawn_min_distance: int | None = None,
        backend: str = "numba",
    ) -> None:
        if not 1 <= num_envs <= MAX_ENVS:
            raise ValueError(f"num_envs: expected 1..{MAX_ENVS}, got {num_envs}")
        if backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self.role = Role(role)
        self.spec = ROLES[self.role]
        self.bank: ArenaBank = arena_bank(level_source, self.role, start_level, num_levels)
        self.num_envs = n = num_envs
        self.styles = dict(styles or self.spec.styles)
        self.spawn_min_distance = (
            self.spec.spawn_min_distance if spawn_min_distance is None else int(spawn_min_distance)
        )
        self.set_params(styles=self.styles)  # validates
        self.companion = self.role is Role.COMPANION
        self.period = COMPANION_MOVE_PERIOD if self.companion else ENEMY_MOVE_PERIOD
        self.max_health = NPC_HEALTH if self.companion else ENEMY_HEALTH
        self.zone_radius = GUARD_ZONE if self.role is Role.GUARD else GUARD_ZONE_RADIUS
        b = self.bank
        self._arena_exit = np.array([a.exit for a in b.arenas], np.int64)
        self._arena_start = np.array([a.start for a in b.arenas], np.int64)
        self._arena_key = np.array([a.key for a in b.arenas], np.int64)
        self._arena_locked = np.array([a.locked for a in b.arenas], np.int64)
        most = max(1, max(len(a.treasures) for a in b.arenas))
        self._arena_treasures = np.full((len(b.arenas), most), -1, np.int64)
        for i, a in enumerate(b.arenas):
            self._arena_treasures[i, : len(a.treasures)] = a.treasures
        # Each cell's window as indices into the terrain row, row-major (dy outer, dx inner) as World.observe
        # slices it; off-level cells point at an extra VOID column.
        cells = b.height * b.width
        dy, dx = np.divmod(np.arange(WINDOW * WINDOW), WINDOW)
        x, y = np.arange(cells) % b.width, np.arange(cells) // b.width
        wx, wy = x[:, None] + dx - OBS_RADIUS, y[:, None] + dy - OBS_RADIUS
        inside = (wx >= 0) & (wx < b.width) & (wy >= 0) & (wy < b.height)
        self._window_cells = np.where(inside, wy * b.width + wx, cells).astype(np.int32)
        self._terrain_ext = np.concatenate([b.terrain, np.full((len(b.terrain), 1), _VOID, np.uint8)], axis=1)
        # Observations go into two buffers used in turn: allocating ~3 KB per env each step costs more in page
        # faults than the whole step. A returned array stays valid through the next step (SB3 reads the previous
        # observation after stepping), and is overwritten by the one after.
        self._buffers = [np.zeros((n, OBS_SIZE), np.float32) for _ in range(2)]
        self._turn = 0
        self.base_seed = np.zeros(n, np.uint64)
        self.episode = np.zeros(n, np.uint64)
        self._rows = np.arange(n)
        self._alloc(n)
        self._rules = vector_kernels.Rules(
            terrain=b.terrain,
            terrain_ext=self._terrain_ext,
            window_cells=self._window_cells,
            walk=b.walk,
            safe=b.safe,
            walk_step=b.walk_step,
            safe_step=b.safe_step,
            sight=b.sight,
            safe_cell=b.safe_cell,
            walk_cell=b.walk_cell,
            base=b.base,
            arena_start=self._arena_start,
            arena_exit=self._arena_exit,
            arena_key=self._arena_key,
            arena_locked=self._arena_locked,
            arena_treasures=self._arena_treasures,
            x=np.arange(b.cells) % b.width,
            y=np.arange(b.cells) // b.width,
            neighbour=b.neighbours(np.arange(b.cells)),
            companion=self.companion,
            guard=self.role is Role.GUARD,
            period=self.period,
            max_health=self.max_health,
            zone_radius=self.zone_radius,
        )
        # the kernels write these very arrays: both backends share one state
        self._state = vector_kernels.State(
            **{
                name: getattr(self.tally if name in vector_kernels.TALLIED else self, name)
                for name in vector_kernels.State._fields
            }
        )

    def _alloc(self, n: int) -> None:
        z = np.zeros
        self.arena, self.table, self.style = z(n, np.int64), z(n, np.int64), z(n, np.int64)
        self.seed, self.tick, self.outcome = z(n, np.uint64), z(n, np.int64), z(n, np.int64)
        self.player, self.health, self.keys = z(n, np.int64), z(n, np.int64), z(n, np.int64)
        self.invulnerable, self.bumped = z(n, np.int64), z(n, bool)
        self.agent, self.agent_health, self.cooldown = z(n, np.int64), z(n, np.int64), z(n, np.int64)
        self.alive, self.alerted, self.sees = z(n, bool), z(n, bool), z(n, bool)
        self.carried, self.home = z(n, np.int64), z(n, np.int64)
        self.key = z(n, np.int64)
        self.treasures = z((n, self._arena_treasures.shape[1]), np.int64)
        self.tally = Tally.zeros(n)

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
        self._start(np.ones(self.num_envs, bool), out)
        return out

    def _start(self, m: np.ndarray, out: np.ndarray) -> None:
        """Begin a new episode in the envs of mask `m`, run them to their NPC's first decision and observe them
        into their rows of `out`."""
        rows = np.flatnonzero(m)  # a few envs at a time: index by rows, not by a mask over all
        draw = draw_episodes(
            self.bank, self.base_seed[rows], self.episode[rows], self.styles, self.spawn_min_distance
        )
        if self.backend == "numba":
            self.tally.decisions[rows] = 0
            vector_kernels.start_envs(
                self._rules, self._state, rows, draw.arena, draw.style, draw.seed, draw.spawn, out
            )
            return
        self.tally.reset(rows)
        a = draw.arena
        self.arena[rows], self.table[rows], self.style[rows], self.seed[rows] = (
            a,
            self.bank.base[a],
            draw.style,
            draw.seed,
        )
        self.tick[rows] = 0
        self.outcome[rows] = _RUNNING
        self.bumped[rows] = False
        self.player[rows], self.health[rows], self.keys[rows], self.invulnerable[rows] = (
            self._arena_start[a],
            PLAYER_MAX_HEALTH,
            0,
            0,
        )
        self.agent[rows], self.agent_health[rows], self.cooldown[rows] = draw.spawn, self.max_health, 0
        self.alive[rows], self.alerted[rows], self.sees[rows], self.carried[rows] = True, False, False, 0
        self.home[rows] = draw.spawn
        self.key[rows] = self._arena_key[a]
        self.treasures[rows] = self._arena_treasures[a]
        self._advance(m)
        out[rows] = self._observe(np.empty((len(rows), OBS_SIZE), np.float32), m)

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
        if self.backend == "numba":
            vector_kernels.step_envs(self._rules, self._state, actions, obs)
        else:
            everyone = np.ones(self.num_envs, bool)
            self._end_tick(everyone, actions)
            self._advance(everyone)
            self._observe(obs)
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
            self._start(done, obs)
        return obs, reward, terminated, truncated, info

    def _advance(self, m: np.ndarray) -> None:
        """Run the envs of `m` to their NPC's next decision (between a tick's halves) or their episode's end,
        as NpcEnv._advance does: begin a tick; stop if it ended the episode; stop if the NPC is due (after its
        sight update); else finish the tick and go again."""
        active = m.copy()
        while active.any():
            self._begin_tick(active)
            over = (self.outcome != _RUNNING) | ~self.alive
            due = active & ~over & (self.cooldown == 0)
            self._update_sight(due)
            active &= ~over & ~due
            self._end_tick(active, None)
            active &= (self.outcome == _RUNNING) & self.alive
        self.tally.outside_zone[m] = (self.role is Role.GUARD) & (
            self._chebyshev(self.agent, self.home) > self.zone_radius
        )[m]
        self.tally.far[m] = (self._manhattan(self.agent, self.player) > 4)[m]
        exit_ = self._arena_exit[self.arena]
        flat = (self.table * self.bank.cells + exit_) * self.bank.cells + self.player
        self.tally.to_exit[m] = self.bank.walk.ravel().take(flat)[m]

    def _step_target(self, cells: np.ndarray, step: np.ndarray, moving: np.ndarray) -> np.ndarray:
        """The cell one STEPS[step] away from each cell where `moving`, -1 off the level or not moving."""
        w, h = self.bank.width, self.bank.height
        x, y = cells % w + _DX.take(step + 1), cells // w + _DY.take(step + 1)
        inside = moving & (x >= 0) & (x < w) & (y >= 0) & (y < h)
        return np.where(inside, y * w + x, -1)

    def _xy(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return cells % self.bank.width, cells // self.bank.width

    def _chebyshev(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        (ax, ay), (bx, by) = self._xy(a), self._xy(b)
        return np.maximum(np.abs(ax - bx), np.abs(ay - by))

    def _manhattan(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        (ax, ay), (bx, by) = self._xy(a), self._xy(b)
        return np.abs(ax - bx) + np.abs(ay - by)

    def _player_view(self, rows: np.ndarray | slice) -> PlayerView:
        return PlayerView(
            table=self.table[rows],
            style=self.style[rows],
            player=self.player[rows],
            keys=self.keys[rows],
            exit=self._arena_exit[self.arena[rows]],
            key=self.key[rows],
            locked=self._closed_door(rows),
            treasures=self.treasures[rows],
            agent=self.agent[rows],
            agent_enemy=self.alive[rows] & (not self.companion),
            agent_seen=self.alive[rows] & self.sees[rows],
            noise=player_noise(self.seed[rows], self.tick[rows] + 1),
        )

    def _closed_door(self, rows: np.ndarray | slice) -> np.ndarray:
        """The arena's locked door while it is still closed (its table is the arena's first), else -1."""
        arena = self.arena[rows]
        closed = self.table[rows] == self.bank.base[arena]
        return np.where(closed, self._arena_locked[arena], -1)

    def _player_actions(self, m: np.ndarray) -> np.ndarray:
        """The scripted players' actions; only the envs of `m` are decided when they are few (new episodes)."""
        if m.sum() * 2 > self.num_envs:
            return player_actions(self.bank, self._player_view(slice(None)))
        rows = np.flatnonzero(m)
        action = np.zeros(self.num_envs, np.int64)
        action[rows] = player_actions(self.bank, self._player_view(rows))
        return action

    def _begin_tick(self, m: np.ndarray) -> None:
        """The player's turn, in the envs of `m` (World._player_turn, for the moves a scripted player makes)."""
        b, t = self.bank, self.tally
        action = self._player_actions(m)
        self.tick += m
        t.ticks += m
        step = _STEP_OF_ACTION[action]
        moving = m & (step >= 0)
        target = self._step_target(self.player, step, moving)
        moving &= target >= 0
        into_agent = moving & self.alive & (target == self.agent)
        bumped_before = self.bumped.copy()
        self.bumped &= ~m
        if self.companion:
            # World._player_turn: a first bump into the companion fails; a second in a row swaps places.
            swap = into_agent & bumped_before
            blocked = into_agent & ~bumped_before
            t.blocked += blocked
            self.bumped |= blocked
            np.copyto(self.agent, self.player, where=swap)
            np.copyto(self.player, target, where=swap)
        else:
            self._hurt_agent(into_agent)
            swap = np.zeros_like(into_agent)
        moving &= ~into_agent
        safe_target = np.maximum(target, 0)
        tile = _at(b.terrain, self.table, safe_target)
        opening = moving & (tile == _LOCKED) & (self.keys > 0)
        self.keys -= opening
        self.table += opening
        walking = moving & (tile != _LOCKED) & _at(b.walk_cell, self.table, safe_target)
        np.copyto(self.player, target, where=walking)
        walking |= swap  # a swap enters the cell like a step
        got_key = walking & (self.key == self.player)
        self.keys += got_key
        np.copyto(self.key, -1, where=got_key)
        np.copyto(self.treasures, -1, where=walking[:, None] & (self.treasures == self.player[:, None]))
        self._hurt_player(walking & (tile == _HAZARD))
        won = walking & (tile == _EXIT) & (self.outcome == _RUNNING)
        np.copyto(self.outcome, _WON, where=won)
        t.won[:] = self.outcome == _WON
        t.player_dead[:] = self.outcome == _DIED

    def _hurt_player(self, m: np.ndarray) -> np.ndarray:
        hurt = m & (self.invulnerable == 0)
        self.health -= hurt
        np.copyto(self.invulnerable, INVULNERABLE_TICKS, where=hurt)
        np.copyto(self.outcome, _DIED, where=hurt & (self.health == 0))
        return hurt

    def _hurt_agent(self, m: np.ndarray) -> None:
        self.agent_health -= m
        self.alerted |= m
        died = m & (self.agent_health == 0)
        self.alive &= ~died
        self.tally.agent_dead |= died

    def _update_sight(self, m: np.ndarray) -> None:
        """World.update_sight for the envs of `m`."""
        near = self._chebyshev(self.agent, self.player) <= SIGHT_RADIUS
        sees = near & _at(self.bank.sight, self.table, self.agent, self.player)
        gone = self._player_distance() == UNREACHED
        # seen: alerted; unseen and out of reach: gives up; otherwise unchanged
        np.copyto(self.alerted, sees | (self.alerted & ~gone), where=m)
        np.copyto(self.sees, sees, where=m)

    def _player_distance(self) -> np.ndarray:
        """The World's BFS distance from the player to the NPC, cut at CHASE_RADIUS (UNREACHED beyond)."""
        d = _at(self.bank.safe, self.table, self.player, self.agent).astype(np.int64)
        return np.where(d <= CHASE_RADIUS, d, UNREACHED)

    def _end_tick(self, m: np.ndarray, actions: np.ndarray | None) -> None:
        """The NPC's turn (with its sight update) and the grace period, in the envs of `m`."""
        b, t = self.bank, self.tally
        turn = m & (self.outcome == _RUNNING) & self.alive
        self._update_sight(turn)
        waiting = turn & (self.cooldown > 0)
        self.cooldown -= waiting
        acting = turn & ~waiting
        np.copyto(self.cooldown, self.period - 1, where=acting)
        if actions is not None:
            step = _STEP_OF_ACTION[actions]
            moving = acting & (step >= 0)
            target = self._step_target(self.agent, step, moving)
            at_player = moving & (target == self.player)
            if not self.companion:
                hit = self._hurt_player(at_player)
                t.hits += hit
                t.zone_hits += hit & (self._chebyshev(self.player, self.home) <= self.zone_radius)
            passable = b.walk_cell if self.companion else b.safe_cell
            safe_target = np.maximum(target, 0)
            walking = moving & ~at_player & (target >= 0) & _at(passable, self.table, safe_target)
            np.copyto(self.agent, target, where=walking)
            if self.companion:
                picked = walking & (self.key == self.agent)
                self.carried += picked
                np.copyto(self.key, -1, where=picked)
                burnt = walking & (_at(b.terrain, self.table, safe_target) == _HAZARD)
                t.agent_hazard += burnt
                self._hurt_agent(burnt)
        if self.companion:
            give = acting & self.alive & (self.carried > 0) & (self._manhattan(self.agent, self.player) == 1)
            given = self.carried * give
            self.keys += given
            t.handed += given
            self.carried -= given
        t.won[:] = self.outcome == _WON
        t.player_dead[:] = self.outcome == _DIED
        self.invulnerable -= m & (self.invulnerable > 0)

    # ------------------------------------------------------------------------------------------ observing

    def _next_buffer(self) -> np.ndarray:
        self._turn ^= 1
        return self._buffers[self._turn]

    def _observe(self, out: np.ndarray, m: np.ndarray | None = None) -> np.ndarray:
        """encode(World.observe(npc)) for every env (or those of `m`), written into `out`."""
        rows = self._rows if m is None else np.flatnonzero(m)
        n, b, w = len(rows), self.bank, self.bank.width
        table, agent, player = self.table[rows], self.agent[rows], self.player[rows]
        # the window's terrain codes in one gather (off-level cells read the VOID column), then the items
        codes = _at(self._terrain_ext, table[:, None], self._window_cells[agent])
        items = np.concatenate([self.key[rows, None], self.treasures[rows]], axis=1)
        slots = self._slot(items, agent)
        r, c = np.nonzero((items >= 0) & (slots >= 0))
        codes[r, slots[r, c]] = np.where(c == 0, _KEY, _TREASURE)
        window = out[:, :WINDOW_SIZE].reshape(n, WINDOW * WINDOW, -1)
        window[...] = _ONE_HOT_ROWS.take(codes).view(np.float32).reshape(window.shape)
        out[:, WINDOW_SIZE:] = 0.0
        sees = self.sees[rows]
        player_slot = self._slot(player[:, None], agent)[:, 0]
        drawn = np.flatnonzero(sees & (player_slot >= 0))
        window[drawn, player_slot[drawn], PLAYER_CHANNEL] = 1.0
        f = FEATURE_INDEX
        ax, ay, px, py = agent % w, agent // w, player % w, player // w
        dx, dy = px - ax, py - ay
        out[:, f["player_visible"]] = sees
        out[:, f["player_dx"]] = np.where(sees, dx / SIGHT_SCALE, 0.0)
        out[:, f["player_dy"]] = np.where(sees, dy / SIGHT_SCALE, 0.0)
        near = _at(b.safe, table, player, agent) <= CHASE_RADIUS
        key, home = self.key[rows], self.home[rows]
        for name, source, valid in (
            ("toward_player", player, (self.alerted[rows] | self.companion) & near),
            ("toward_key", key, key >= 0),
            ("toward_home", home, np.ones(n, bool)),
        ):
            k = _at(b.safe_step, table, np.maximum(source, 0), agent).astype(np.int64)
            pick = np.flatnonzero(valid & (k >= 0))
            out[pick, f[f"{name}_up"] + k[pick]] = 1.0
        hx, hy = home % w - ax, home // w - ay
        out[:, f["home_dx"]] = np.clip(hx / HOME_SCALE, -2.0, 2.0)
        out[:, f["home_dy"]] = np.clip(hy / HOME_SCALE, -2.0, 2.0)
        out[:, f["at_home"]] = (hx == 0) & (hy == 0)
        out[:, f["player_in_zone"]] = sees & (
            np.maximum(np.abs(dx - hx), np.abs(dy - hy)) <= self.zone_radius
        )
        out[:, f["health"]] = self.agent_health[rows] / self.max_health
        out[:, f["keys_carried"]] = self.carried[rows] > 0
        out[:, f["player_has_key"]] = self.keys[rows] > 0
        out[:, f["alerted"]] = self.alerted[rows]
        out[:, f["friendly"]] = float(self.companion)
        return out

    def _slot(self, cells: np.ndarray, agent: np.ndarray) -> np.ndarray:
        """(N, K) each cell's index in the agent's window, -1 outside it."""
        w = self.bank.width
        dx = cells % w - (agent % w)[:, None]
        dy = cells // w - (agent // w)[:, None]
        inside = (np.abs(dx) <= OBS_RADIUS) & (np.abs(dy) <= OBS_RADIUS)
        return np.where(inside, (dy + OBS_RADIUS) * WINDOW + dx + OBS_RADIUS, -1)


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


def _at(table: np.ndarray, *index: np.ndarray) -> np.ndarray:
    """`table[i, j(, k)]` for integer index arrays, as one flat `take`: several times faster than numpy's
    multi-array fancy indexing, which is most of a batched step."""
    flat = index[0].astype(np.int64)
    for size, i in zip(table.shape[1:], index[1:], strict=True):
        flat = flat * size + i
    return table.ravel().take(flat)
