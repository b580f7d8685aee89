"""The strongest scripted NPC baselines (agents.baselines): what each one's docstring says it does, on training
levels (the test levels are the report's)."""

from __future__ import annotations

import numpy as np

from agents.baselines import AmbushHunter
from agents.envs.npc_env import HunterEnv


def _play(hunter: AmbushHunter, styles: dict[str, float], episodes: int) -> tuple[np.ndarray, list[bool]]:
    env = HunterEnv(num_levels=200, start_level=0, styles=styles)
    success, flagged = [], []
    for i in range(episodes):
        env.reset(seed=21) if i == 0 else env.reset()
        done, info = False, {}
        while not done:
            assert env.world is not None
            _, _, terminated, truncated, info = env.step(int(hunter.act(env.world.observe(env.agent))))
            done = terminated or truncated
        success.append(info["success"])
        flagged.append(hunter.evader)
    return np.array(success), flagged


def test_the_hunter_tells_an_evader_by_how_they_move_and_corners_some() -> None:
    """Evaders step away from an enemy they see within four steps, so a hunter that waits on the exit or for
    them to step beside it never catches one (0 of 150 on these levels before it watched for it). A runner's
    path to the exit takes them away from the hunter too, now and then, so some are taken for evaders, but
    fewer."""
    success, evaders_flagged = _play(AmbushHunter(), {"evader": 1.0}, 100)
    _, runners_flagged = _play(AmbushHunter(), {"runner": 1.0}, 100)
    assert success.mean() > 0.05, success.mean()
    # a detector that flags everyone alike fails this; the shipped one flags about 0.4 of evaders, 0.2 of runners
    assert np.mean(evaders_flagged) > np.mean(runners_flagged) + 0.1, (evaders_flagged, runners_flagged)


def test_the_companion_brings_the_key_back_from_beyond_toward_players_reach() -> None:
    """With a waiter (who stays put until handed a key) the companion must deliver. `toward_player` leads only
    to a player within 14 path steps: a companion that then stood still held the key until the episode ran out;
    walking back along its trail, then to the edge of the map it has seen, it comes back."""
    from agents.baselines import KeyFetchCompanion, _MapMemory
    from agents.envs.npc_env import CompanionEnv
    from engine.sim.policy import Action

    class NoExploring(_MapMemory):
        def toward_unseen(self, start: tuple[int, int]) -> Action | None:
            return None

    class StandsStill(KeyFetchCompanion):
        def _reset(self) -> None:
            super()._reset()
            self.map = NoExploring()

        def _retrace(self, here: tuple[int, int]) -> Action | None:
            return None

    def play(companion: KeyFetchCompanion, episodes: int = 120) -> tuple[float, int]:
        env = CompanionEnv(num_levels=200, start_level=0, styles={"waiter": 1})
        wins, stuck = 0, 0
        for i in range(episodes):
            env.reset(seed=5) if i == 0 else env.reset()
            done, info, away = False, {}, 0
            while not done:
                assert env.world is not None
                o = env.world.observe(env.agent)
                away += o.keys_carried > 0 and o.toward_player is None
                _, _, terminated, truncated, info = env.step(int(companion.act(o)))
                done = terminated or truncated
            wins += info["success"]
            stuck += away > 0
        return wins / episodes, stuck

    brings_back, away = play(KeyFetchCompanion())
    stands, _ = play(StandsStill())
    assert away > 0  # the situation occurs on these levels, so the test can tell the two apart
    assert brings_back >= stands + 0.1, (brings_back, stands)
