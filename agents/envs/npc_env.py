"""One NPC in one arena, as a Gymnasium env on the game's own `engine.sim.World`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from agents.envs.arenas import GUARD_ZONE, ArenaBank, arena_bank
from agents.envs.players import STYLES, PlayerView, player_actions, player_noise
from agents.envs.roles import ROLES, RoleSpec, Tally, checked_params, draw_episodes
from agents.observation import OBS_SIZE, encode, observation_bounds
from engine.level import Semantic
from engine.sim import PLAYER_ID, Action, DamageTaken, Death, Event, KeyHandedOver, Outcome, Role, World
from engine.sim.policy import MOVES

N_ACTIONS = 5  # NOOP, UP, DOWN, LEFT, RIGHT: an NPC has nothing to interact with
PlayerPolicy = Callable[[World], Action]

_DOC = """
    ## Description
    {what}

    The arena is one 16x11 room from the level GAN (or the authored corpus), dressed for the role. The other
    party is a scripted player drawn each episode from a population of styles ({styles}); pass `player=` a
    callable `(World) -> Action` to play against something else, such as a trained player policy.

    ## Action space
    `Discrete(5)`: 0 stay, 1 up, 2 down, 3 left, 4 right. The NPC acts every {period} tick(s); one env step is
    one of its decisions, and the ticks between (the player moving alone) run inside the step.

    ## Observation space
    `Box(-2, 2, ({obs},), float32)`: a 9x9 egocentric window of one-hot tile channels, then a feature vector;
    `agents.observation` documents every entry. It is built from the same `NpcObservation` the game hands a
    policy, at the same moment of the tick.

    ## Rewards
    {rewards}

    ## Termination and truncation
    {ends} Truncated after {steps} decisions.

    ## Info
    `success`, `role_metric` ({metric}), `style` (the player's), `arena` (its level seed), `is_success`.

    ## Arguments
    `level_source` ("gan" or "corpus"), `num_levels` and `start_level` (the Procgen-style split: seeds
    start_level .. start_level + num_levels - 1), `styles` (weights by style name), `spawn_min_distance`,
    `player`, `render_mode="rgb_array"`.
"""


class NpcEnv(gym.Env[np.ndarray, np.int64]):
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 8}  # noqa: RUF012
    role: Role = Role.HUNTER

    def __init__(
        self,
        level_source: str = "gan",
        num_levels: int = 200,
        start_level: int = 0,
        styles: Mapping[str, float] | None = None,
        spawn_min_distance: int | None = None,
        player: PlayerPolicy | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode: expected None or 'rgb_array', got {render_mode!r}")
        self.spec_role: RoleSpec = ROLES[self.role]
        self.bank: ArenaBank = arena_bank(level_source, self.role, start_level, num_levels)
        self.level_source, self.start_level, self.num_levels = level_source, start_level, num_levels
        self.styles = dict(styles or self.spec_role.styles)
        self.spawn_min_distance = (
            self.spec_role.spawn_min_distance if spawn_min_distance is None else int(spawn_min_distance)
        )
        self.set_params(styles=self.styles)  # validates
        self.player_policy = player
        self.render_mode = render_mode
        low, high = observation_bounds()
        self.observation_space = gym.spaces.Box(low, high, (OBS_SIZE,), np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self._base_seed: int | None = None
        self._episode = -1
        self._renderer = None
        self.world: World | None = None

    # ------------------------------------------------------------------------------------------ curriculum

    def set_params(self, **params: Any) -> None:
        """Curriculum hook (called through `env_method`): `styles` and/or `spawn_min_distance`, from the next
        episode on."""
        for name, value in checked_params(self.bank, params).items():
            setattr(self, name, value)

    # ------------------------------------------------------------------------------------------ episodes

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._base_seed, self._episode = int(seed), 0
        else:
            if self._base_seed is None:
                self._base_seed = int(self.np_random.integers(2**62))
            self._episode += 1
        draw = draw_episodes(
            self.bank,
            np.array([self._base_seed], np.uint64),
            np.array([self._episode], np.uint64),
            self.styles,
            self.spawn_min_distance,
        )
        self.arena_index = int(draw.arena[0])
        self.arena = self.bank.arenas[self.arena_index]
        self.style = int(draw.style[0])
        self.world = World(self.arena.level(int(draw.spawn[0]), GUARD_ZONE), seed=int(draw.seed[0]))
        self.agent = self.world.npcs[0]
        self.tally = Tally.zeros(1)
        self._events: list[Event] = []
        self._counted = 0
        self._advance()
        return self._observe(), self._info()

    def step(self, action: int | np.integer):
        assert self.world is not None, "call reset() first"
        before = self.tally.copy()
        act = Action(int(action))
        if act not in (Action.NOOP, *MOVES):
            raise ValueError(f"action: expected 0..{N_ACTIONS - 1}, got {int(action)}")
        self.world.end_tick(self._events, {self.agent.id: act})
        self._count()
        self.tally.decisions += 1
        self._advance()
        t = self.tally
        terminated, truncated = bool(self.spec_role.terminated(t)[0]), False
        if not terminated:
            truncated = bool(self.spec_role.truncated(t)[0])
        reward = float(self.spec_role.reward(before, t)[0])
        return self._observe(), reward, terminated, truncated, self._info()

    def _advance(self) -> None:
        """Run ticks until the NPC is due to act (stopping between the tick's halves) or the episode ends."""
        world = self.world
        assert world is not None
        while True:
            action = self._player_action()
            self._count_block(action)
            self._events, self._counted = world.begin_tick(action), 0
            self.tally.ticks += 1
            self._count()
            if world.outcome is not Outcome.RUNNING or not self.agent.alive:
                break
            if world.npc_due(self.agent):
                world.update_sight(self.agent, self._events)
                break
            world.end_tick(self._events)
            self._count()
            if world.outcome is not Outcome.RUNNING or not self.agent.alive:
                break
        self._update_now()

    def _player_action(self) -> Action:
        world = self.world
        assert world is not None
        if self.player_policy is not None:
            return Action(self.player_policy(world))
        return Action(int(player_actions(self.bank, self._player_view())[0]))

    def _table(self) -> int:
        """The bank's table for this arena in its current door state."""
        arena, world = self.arena, self.world
        assert world is not None
        door_open = arena.locked >= 0 and world.terrain.reshape(-1)[arena.locked] != Semantic.LOCKED_DOOR.code
        return int(self.bank.base[self.arena_index] + door_open)

    def _player_view(self) -> PlayerView:
        world, arena, agent = self.world, self.arena, self.agent
        assert world is not None
        w = arena.width
        table = self._table()
        door_open = table != self.bank.base[self.arena_index]
        keys = [y * w + x for (x, y), kind in world.items.items() if kind is Semantic.KEY]
        treasures = np.full((1, max(len(arena.treasures), 1)), -1, np.int64)
        for i, cell in enumerate(arena.treasures):
            if (cell % w, cell // w) in world.items:
                treasures[0, i] = cell
        p = world.player
        return PlayerView(
            table=np.array([table]),
            style=np.array([self.style]),
            player=np.array([p.y * w + p.x]),
            keys=np.array([p.keys]),
            exit=np.array([arena.exit]),
            key=np.array([keys[0] if keys else -1]),
            locked=np.array([-1 if door_open else arena.locked]),
            treasures=treasures,
            agent=np.array([agent.y * w + agent.x]),
            agent_enemy=np.array([agent.alive and agent.kind is Semantic.ENEMY]),
            agent_seen=np.array([agent.alive and agent.sees_player]),
            noise=player_noise(np.array([world.seed], np.uint64), np.array([world.tick + 1])),
        )

    # ------------------------------------------------------------------------------------------ scoring

    def _count_block(self, action: Action) -> None:
        world, agent = self.world, self.agent
        assert world is not None
        if action in MOVES and agent.alive and agent.kind is Semantic.NPC and world.player.bumped != agent.id:
            dx, dy = action.delta
            if (world.player.x + dx, world.player.y + dy) == (agent.x, agent.y):
                self.tally.blocked += 1  # a first bump: the move fails (a second one would swap places)

    def _count(self) -> None:
        """Tally this tick's events not yet counted (the list grows across the tick's two halves)."""
        world, agent, t = self.world, self.agent, self.tally
        assert world is not None
        for e in self._events[self._counted :]:
            match e:
                case DamageTaken(target=target, source="enemy") if target == PLAYER_ID:
                    t.hits += 1
                    hx, hy = agent.home_x, agent.home_y
                    if max(abs(world.player.x - hx), abs(world.player.y - hy)) <= agent.zone_radius:
                        t.zone_hits += 1
                case DamageTaken(target=target, source="hazard") if target == agent.id:
                    t.agent_hazard += 1
                case KeyHandedOver(count=count):
                    t.handed += count
                case Death(entity=entity) if entity == agent.id:
                    t.agent_dead[:] = True
                case _:
                    pass
        self._counted = len(self._events)
        t.won[:] = world.outcome is Outcome.WON
        t.player_dead[:] = world.outcome is Outcome.DIED

    def _update_now(self) -> None:
        world, agent = self.world, self.agent
        assert world is not None
        self.tally.outside_zone[:] = (
            self.role is Role.GUARD
            and max(abs(agent.x - agent.home_x), abs(agent.y - agent.home_y)) > agent.zone_radius
        )
        self.tally.far[:] = abs(agent.x - world.player.x) + abs(agent.y - world.player.y) > 4
        player = world.player.y * self.arena.width + world.player.x
        self.tally.to_exit[:] = self.bank.walk[self._table(), self.arena.exit, player]

    def _observe(self) -> np.ndarray:
        assert self.world is not None
        return encode(self.world.observe(self.agent))

    def _info(self) -> dict[str, Any]:
        t = self.tally
        success = bool(self.spec_role.success(t)[0])
        return {
            "success": success,
            "is_success": success,
            "role_metric": float(self.spec_role.role_metric(t)[0]),
            "style": STYLES[self.style],
            "arena": self.arena.seed,
        }

    # ------------------------------------------------------------------------------------------ render

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array" or self.world is None:
            return None
        import os

        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        import pygame

        from engine.render.pygame2d.renderer import Renderer

        tile = 24
        size = (self.world.width * tile, self.world.height * tile)
        if self._renderer is None:
            pygame.init()
            self._renderer = Renderer(size, tile_px=tile)
            self._surface = pygame.Surface(size)
        self._renderer.draw(self._surface, self.world, alpha=1.0, time_s=self.world.tick / 8)
        return np.transpose(pygame.surfarray.array3d(self._surface), (1, 0, 2)).copy()

    def close(self) -> None:
        self._renderer = None


class HunterEnv(NpcEnv):
    __doc__ = _DOC.format(
        what="A hunter (an enemy at half the player's speed) must catch the player, who is crossing the room "
        "from one door to the exit. Catching means landing a hit; the player hits back when adjacent.",
        styles=", ".join(ROLES[Role.HUNTER].styles),
        period=2,
        obs=OBS_SIZE,
        rewards="+1 for the catch; -1 if the player reaches the exit; -1 if the hunter dies; -0.01 per "
        "decision.",
        ends="Terminates on the catch, the player's exit or death, or the hunter's death.",
        steps=ROLES[Role.HUNTER].max_decisions,
        metric="steps the player still had to go to the exit at the end",
    )
    role = Role.HUNTER


class GuardEnv(NpcEnv):
    __doc__ = _DOC.format(
        what="A guard keeps a 7x7 zone around its post, which lies on the player's route: it must intercept "
        "(hit) the player inside the zone and otherwise stay in it. The guard moves at half the player's "
        "speed.",
        styles=", ".join(ROLES[Role.GUARD].styles),
        period=2,
        obs=OBS_SIZE,
        rewards="+1 per hit on the player inside the zone; -0.02 per decision spent outside the zone; -1 if "
        "the guard dies.",
        ends="Terminates when the player exits or dies, or the guard dies.",
        steps=ROLES[Role.GUARD].max_decisions,
        metric="intercepts per episode",
    )
    role = Role.GUARD


class CompanionEnv(NpcEnv):
    __doc__ = _DOC.format(
        what="A companion (a friendly NPC at the player's speed) helps the player out: the exit lies behind a "
        "locked door and the key is somewhere in the room. A companion picks a key up by walking onto it and "
        "hands it over when it stands next to the player. It may cross hazards but takes damage there, and "
        "it blocks the player's way when it stands in it.",
        styles=", ".join(ROLES[Role.COMPANION].styles),
        period=1,
        obs=OBS_SIZE,
        rewards="+0.5 per key handed over; +1 when the player exits; -0.05 per player move it blocks; -0.3 per "
        "hazard hit; -1 if it dies; -0.01 per decision more than 4 steps from the player; -0.005 per decision.",
        ends="Terminates when the player exits or dies, or the companion dies.",
        steps=ROLES[Role.COMPANION].max_decisions,
        metric="player moves blocked per episode",
    )
    role = Role.COMPANION


ENV_CLASSES: dict[Role, type[NpcEnv]] = {
    Role.HUNTER: HunterEnv,
    Role.GUARD: GuardEnv,
    Role.COMPANION: CompanionEnv,
}
