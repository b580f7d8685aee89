"""The registered NPC envs: Gymnasium's and SB3's checkers, determinism, rendering, the level split, and the
arena tables against the engine's own searches."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from agents.envs import ENV_IDS, register_envs
from agents.envs.arenas import TEST_START_LEVEL, arena_set
from agents.envs.npc_env import ENV_CLASSES
from agents.observation import FEATURE_INDEX, OBS_SIZE
from engine.sim.grid import SIGHT_BLOCKERS, WALKABLE_LUT, bfs_distances, line_of_sight
from engine.sim.policy import Role

ROLES = list(ENV_IDS)


@pytest.mark.parametrize("env_id", list(ENV_IDS.values()))
def test_registered_envs_pass_gymnasium_and_sb3_checks(env_id: str) -> None:
    register_envs()
    env = gym.make(env_id, num_levels=12)
    gym_check_env(env.unwrapped, skip_render_check=False)
    sb3_check_env(env.unwrapped, warn=True)
    assert env.observation_space.shape == (OBS_SIZE,)


def test_register_envs_is_idempotent_and_lists_the_roles_and_the_narrator() -> None:
    assert (
        register_envs()
        == register_envs()
        == [
            "ludoforge/Hunter-v0",
            "ludoforge/Guard-v0",
            "ludoforge/Companion-v0",
            "ludoforge/Narrator-v0",
        ]
    )


@pytest.mark.parametrize("role", ROLES)
def test_same_seed_same_episode(role: Role) -> None:
    def rollout() -> tuple[list[np.ndarray], list[float], list[str]]:
        env = ENV_CLASSES[role](num_levels=12)
        rng = np.random.default_rng(3)
        obs, _ = env.reset(seed=11)
        observations, rewards, hashes = [obs], [], []
        for _ in range(150):
            obs, reward, terminated, truncated, _ = env.step(int(rng.integers(5)))
            observations.append(obs)
            rewards.append(reward)
            assert env.world is not None
            hashes.append(env.world.state_hash())
            if terminated or truncated:
                obs, _ = env.reset()
        return observations, rewards, hashes

    a, b = rollout(), rollout()
    assert all(np.array_equal(x, y) for x, y in zip(a[0], b[0], strict=True))
    assert a[1] == b[1] and a[2] == b[2]
    assert len(set(a[2])) > 20  # the state really moves


@pytest.mark.parametrize("role", ROLES)
def test_rgb_array_shows_the_arena(role: Role) -> None:
    env = ENV_CLASSES[role](num_levels=4, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame is not None and frame.dtype == np.uint8
    assert frame.shape == (11 * 24, 16 * 24, 3)
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 20  # tiles and characters, not a blank frame


def test_train_and_test_levels_never_share_a_seed() -> None:
    train = {a.seed for a in arena_set("gan", Role.HUNTER, 0, 40)}
    test = {a.seed for a in arena_set("gan", Role.HUNTER, TEST_START_LEVEL, 40)}
    assert len(train) == len(test) == 40 and not train & test
    env = ENV_CLASSES[Role.HUNTER](num_levels=40, start_level=TEST_START_LEVEL)
    seen = set()
    for i in range(60):
        env.reset(seed=5) if i == 0 else env.reset()
        seen.add(env.arena.seed)
    assert seen <= test and len(seen) > 20


@pytest.mark.parametrize("role", ROLES)
def test_arena_tables_are_the_engines_searches(role: Role) -> None:
    for arena in arena_set("gan", role, 0, 6):
        h, w = arena.terrain.shape
        for state in range(arena.walk.shape[0]):
            grid = arena.terrain.copy()
            if state:
                grid.reshape(-1)[arena.locked] = 2  # the door, opened
            walkable = WALKABLE_LUT[grid]
            blocks = SIGHT_BLOCKERS[grid]
            for src in range(0, h * w, 5):
                for table, mask in ((arena.walk, walkable), (arena.safe, walkable & (grid != 7))):
                    d = bfs_distances(mask, [(src % w, src // w)]).reshape(-1)
                    assert np.array_equal(np.where(d < 0, 255, d), table[state, src])
                for dst in range(0, h * w, 7):
                    seen = line_of_sight(blocks, src % w, src // w, dst % w, dst // w)
                    assert arena.sight[state, src, dst] == seen


def test_every_arena_is_playable_and_dressed_for_its_role() -> None:
    for role in ROLES:
        for arena in arena_set("gan", role, 0, 40):
            assert arena.walk[-1, arena.exit, arena.start] < 255  # the exit is reachable (door opened)
            if role is Role.COMPANION:
                assert arena.walk[0, arena.exit, arena.start] == 255  # ... but only through the locked door
                assert arena.safe[0, arena.key, arena.start] < 255  # and the key is reachable safely
            if role is Role.GUARD:
                assert arena.spawn_cells.tolist() == [arena.home]


def test_companion_observation_points_at_the_key() -> None:
    env = ENV_CLASSES[Role.COMPANION](num_levels=8)
    obs, _ = env.reset(seed=2)
    toward = obs[FEATURE_INDEX["toward_key_up"] : FEATURE_INDEX["toward_key_up"] + 4]
    assert toward.sum() == 1.0


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="level_source"):
        ENV_CLASSES[Role.HUNTER](level_source="nowhere", num_levels=3)
    with pytest.raises(ValueError, match="num_levels"):
        ENV_CLASSES[Role.HUNTER](num_levels=0)
    env = ENV_CLASSES[Role.HUNTER](num_levels=3)
    with pytest.raises(ValueError, match="styles"):
        env.set_params(styles={"sprinter": 1})
    with pytest.raises(ValueError, match="render_mode"):
        ENV_CLASSES[Role.HUNTER](num_levels=3, render_mode="human")


def test_docs_describe_every_observation_entry() -> None:
    from pathlib import Path

    from agents.observation import CHANNELS, FEATURES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "agents.md").read_text()
    bases = {
        name.rsplit("_", 1)[0] if name.endswith(("_up", "_down", "_left", "_right")) else name
        for name in FEATURES
    }
    missing = [name for name in [*CHANNELS, *bases] if f"`{name}`" not in doc and f"| {name}" not in doc]
    assert not missing, missing


def test_the_other_party_can_be_any_player_policy_and_levels_can_be_the_corpus() -> None:
    from engine.sim import Action

    env = ENV_CLASSES[Role.HUNTER](level_source="corpus", num_levels=8, player=lambda world: Action.NOOP)
    env.reset(seed=4)
    assert env.world is not None and env.arena.seed < 8
    start = (env.world.player.x, env.world.player.y)
    for _ in range(10):
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            break
        assert (env.world.player.x, env.world.player.y) == start  # this player never moves
