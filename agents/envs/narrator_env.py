"""The narrator as a Gymnasium env: a simulated player plays a GAN dungeon on the World, and the policy is the
drama manager deciding, every two seconds, whether and how to intervene."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np

from agents.narrator.pacing import HELP, target_tension
from agents.narrator.player_model import PlayerModel
from agents.narrator.players import ALL_TYPES, TRAINING_TYPES, PlayerType, SimulatedPlayer
from agents.narrator.session import DECISION_TICKS, INTERVENTIONS, OBS_SIZE, NarratedRun
from engine.level import Level
from engine.sim.interventions import Intervention
from engine.sim.world import TICKS_PER_SECOND, Outcome, World
from procgen.levels.dungeon import DungeonSettings, cast_roles, generate_dungeon

TEST_START_LEVEL = 1_000_000
"""test dungeons are seeds from here up; training draws from start_level .. start_level + num_levels - 1"""
MAX_SECONDS = 180
DEFAULT_SETTINGS = DungeonSettings(rooms=8, branches=2, locked_doors=2)
"""longer than the game's first floor, so that getting lost, and bored, can happen"""
PROGRESS_REWARD = 2.0
WIN_REWARD = 3.0
DEATH_PENALTY = 2.0
QUIT_PENALTY = 3.0
PACING_WEIGHT = 0.3
SPAM_LINES = 4
"""a line when this many were already said in the last minute is spam"""
SPAM_PENALTY = 0.2
UNNEEDED_PENALTY = 0.1
OUTCOMES = ("won", "died", "quit", "timeout")


@lru_cache(maxsize=2048)
def dungeon(seed: int, settings: DungeonSettings | None = None) -> Level:
    """The seed's dungeon from the shipped room GAN, with the game's cast of roles (cached per process)."""
    return cast_roles(generate_dungeon(seed, settings, generator=_room_generator()), seed)


@lru_cache(maxsize=1)
def _room_generator():
    from procgen.levels.generator import LevelGenerator

    return LevelGenerator.pretrained("dungeon")


class NarratorEnv(gym.Env[np.ndarray, np.int64]):
    """
    ## Description
    A drama manager for one dungeon run. A simulated player (agents.narrator.players), drawn each episode
    from `player_types` with its numbers jittered, plays a GAN dungeon with the game's cast (NPCs on their
    scripted policies). Every two seconds of game time the narrator chooses an intervention, which acts on
    the World (engine.sim.interventions) and, with `language` set, is worded as a line.

    ## Action space
    `Discrete(11)`: 0 silent, 1 hint, 2 foreshadow, 3 lore, 4 encourage, 5 warn, 6 helper_item,
    7 enemy_wave, 8 potion, 9 harder, 10 easier (`agents.narrator.session.INTERVENTIONS`).

    ## Observation space
    `Box(-1, 1, (46,), float32)`: the beats of the last two seconds, the player's state, progress, tension
    and its target, what waits in the dungeon, the talk history, the last choice and the player model's belief;
    `agents.narrator.session.OBSERVATION` names every entry.

    ## Rewards
    Engagement, as the player's staying and progressing: +2 x progress toward the exit (0 to 1 over the run),
    +3 for winning, -2 for dying, -3 when the player quits. Pacing: -0.3 x the mean distance between tension
    and the target curve over the two seconds. Spam: -0.2 for a line when four were said in the last minute.
    Interventions nobody needed: -0.1 for one that changed nothing, or for help to a player doing fine.

    ## Termination and truncation
    Terminated when the player wins, dies or quits; truncated after `max_seconds` of game time.

    ## Info
    `outcome` (won, died, quit, timeout, or running), `player_type`, `level`, `seconds`, `interventions`,
    `is_success` (won), `belief` (the player model's posterior), `flow` (the fraction of ticks the player spent
    in flow: neither bored nor frustrated past half their threshold).

    ## Arguments
    `player_types` (names from agents.narrator.players; default the five training types), `num_levels` and
    `start_level` (dungeon seeds), `max_seconds`, `jitter` (spread of each player's numbers), `language`
    (None, "en" or "zh"), `settings` (DungeonSettings for the dungeons), `player_model` (False: the
    observation's belief stays uniform). `reset(options=...)` takes `player_type`, `level`, `settings` and
    `belief` (the player model's prior for this run, from an earlier floor) and `player` (a PlayerType to play
    as it is, unjittered: the same player on a later floor).
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        player_types: Sequence[str] | None = None,
        num_levels: int = 500,
        start_level: int = 0,
        max_seconds: int = MAX_SECONDS,
        jitter: float = 0.1,
        language: str | None = None,
        settings: DungeonSettings | None = None,
        player_model: bool = True,
    ) -> None:
        names = list(player_types) if player_types is not None else list(TRAINING_TYPES)
        unknown = [n for n in names if n not in ALL_TYPES]
        if unknown or not names:
            raise ValueError(f"player_types: expected names from {sorted(ALL_TYPES)}, got {names}")
        if not 1 <= num_levels <= 100_000:
            raise ValueError(f"num_levels: expected 1..100000, got {num_levels}")
        if not 10 <= max_seconds <= 3600:
            raise ValueError(f"max_seconds: expected 10..3600, got {max_seconds}")
        self.types: list[PlayerType] = [ALL_TYPES[n] for n in names]
        self.num_levels, self.start_level = num_levels, start_level
        self.max_ticks = max_seconds * TICKS_PER_SECOND
        self.jitter, self.language = jitter, language
        self.settings = settings or DEFAULT_SETTINGS
        self.model = PlayerModel.load() if player_model else None
        self.action_space = gym.spaces.Discrete(len(INTERVENTIONS))
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (OBS_SIZE,), np.float32)
        self.run: NarratedRun | None = None
        self.player: SimulatedPlayer | None = None
        self.lines: list[tuple[int, str, str]] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        options = options or {}
        level_seed = int(options.get("level", self.start_level + int(rng.integers(self.num_levels))))
        kind = self.types[int(rng.integers(len(self.types)))]
        if "player_type" in options:
            kind = ALL_TYPES[options["player_type"]]
        world_seed = int(rng.integers(2**31))
        settings = options.get("settings", self.settings)
        world = World(dungeon(level_seed, settings), seed=world_seed)
        model = None
        if self.model is not None:
            model = PlayerModel(self.model.means, self.model.stds)
            if "belief" in options:  # what an earlier floor of the session taught the model
                model.log_posterior = np.log(np.clip(np.asarray(options["belief"], float), 1e-9, None))
        self.run = NarratedRun(world, self.max_ticks, self.language, seed=world_seed, model=model)
        if "player" in options:  # the same player again (a later floor of a session)
            kind = options["player"]
        elif self.jitter:
            kind = kind.jittered(rng, self.jitter)
        self.player = SimulatedPlayer(kind, world_seed)
        self.flow_ticks = 0
        self.level_seed = level_seed
        self.lines = []
        self.run.tick([])
        return self.run.observe(), self._info("running")

    def step(self, action):
        run, player = self.run, self.player
        assert run is not None and player is not None, "call reset() first"
        world = run.world
        spam = action != 0 and len(run.lines) >= SPAM_LINES
        turn = run.act(int(action))
        if turn.line is not None:
            self.lines.append((world.tick, turn.choice.value, turn.line))
        progress_before = run.progress.best
        off_pace = 0.0
        events = turn.events
        ticks = 0
        said: Intervention | None = turn.choice
        while ticks < DECISION_TICKS:
            events = events + world.step(player.act(world))
            ticks += 1
            _, progressed = run.tick(events)
            off_pace += abs(run.tension.value - target_tension(run.progress.best))
            player.feel(
                world,
                events,
                tension=run.tension.value,
                stalled=run.stalled,
                progressed=progressed,
                said=said,
                needed=turn.needed,
            )
            events, said = [], None
            self.flow_ticks += player.in_flow()
            if world.outcome is not Outcome.RUNNING or player.quit or world.tick >= self.max_ticks:
                break
        reward = PROGRESS_REWARD * (run.progress.best - progress_before) - PACING_WEIGHT * off_pace / ticks
        if turn.choice is not Intervention.SILENT:
            if spam:
                reward -= SPAM_PENALTY
            if not turn.applied or (turn.choice in HELP and not turn.needed):
                reward -= UNNEEDED_PENALTY
        outcome = "running"
        if world.outcome is Outcome.WON:
            outcome, reward = "won", reward + WIN_REWARD
        elif world.outcome is Outcome.DIED:
            outcome, reward = "died", reward - DEATH_PENALTY
        elif player.quit:
            outcome, reward = "quit", reward - QUIT_PENALTY
        elif world.tick >= self.max_ticks:
            outcome = "timeout"
        terminated = outcome in ("won", "died", "quit")
        return run.observe(), float(reward), terminated, outcome == "timeout", self._info(outcome)

    def _info(self, outcome: str) -> dict[str, Any]:
        assert self.run is not None and self.player is not None
        return {
            "outcome": outcome,
            "player_type": self.player.type.name,
            "level": self.level_seed,
            "seconds": self.run.world.tick / TICKS_PER_SECOND,
            "interventions": self.run.interventions,
            "is_success": outcome == "won",
            "belief": self.run.belief(),
            "flow": self.flow_ticks / max(self.run.world.tick, 1),
        }


__all__ = ["OUTCOMES", "TEST_START_LEVEL", "NarratorEnv", "dungeon"]
