"""The player model tells personas apart from their play, and turns its belief into the next dungeon."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.envs.narrator_env import TEST_START_LEVEL, NarratorEnv, dungeon
from agents.narrator.player_model import TARGETS, TYPES, PlayerModel, next_dungeon
from engine.level import Semantic
from procgen.levels.dungeon import DungeonSettings


def belief_for(kind: str) -> np.ndarray:
    return np.eye(len(TYPES))[TYPES.index(kind)]


@pytest.mark.slow
def test_the_model_recognises_distinct_players_on_unseen_dungeons() -> None:
    """Unnarrated runs on test dungeons: the most likely persona at the end of the run is the true one for
    most speedrunners and novices, the two most different personas."""
    env = NarratorEnv(player_types=list(TYPES), start_level=TEST_START_LEVEL)
    for kind, at_least in (("speedrunner", 6), ("novice", 5)):
        right = 0
        for k in range(8):
            obs, info = env.reset(seed=k, options={"player_type": kind, "level": TEST_START_LEVEL + 50 + k})
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(0)
                done = terminated or truncated
            right += TYPES[int(np.argmax(info["belief"]))] == kind
            assert obs[-len(TYPES) :] == pytest.approx(info["belief"], abs=1e-6)  # the narrator sees it
        assert right >= at_least, f"{kind}: {right} of 8"


def test_the_next_dungeon_follows_the_belief() -> None:
    novice, runner = next_dungeon(belief_for("novice")), next_dungeon(belief_for("speedrunner"))
    assert novice.rooms == TARGETS["novice"]["rooms"] < runner.rooms == TARGETS["speedrunner"]["rooms"]
    assert dict(novice.room_density)["enemies"] < dict(runner.room_density)["enemies"]
    uniform = next_dungeon(np.full(len(TYPES), 0.2))
    assert novice.rooms <= uniform.rooms <= runner.rooms
    enemies = []
    for settings in (novice, runner):
        levels = [dungeon(seed, settings) for seed in range(6)]
        enemies.append(
            np.mean([len(lv.positions_of(Semantic.ENEMY)) + len(lv.spawns) for lv in levels]) / settings.rooms
        )
    assert enemies[0] < enemies[1]  # the room GAN took the conditions


def test_bad_room_conditions_and_model_files_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"room_density\.enemies"):
        DungeonSettings(room_density=(("enemies", 40.0),)).validate()
    with pytest.raises(ValueError, match="room_density"):
        DungeonSettings(room_density=(("dragons", 1.0),)).validate()
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({"types": list(TYPES), "features": ["x"], "means": [], "stds": []}))
    with pytest.raises(ValueError, match=r"model\.json"):
        PlayerModel.load(bad)
