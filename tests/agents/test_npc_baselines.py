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
