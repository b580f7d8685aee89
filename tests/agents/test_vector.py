"""The batched VecEnv is the single env, N at a time: same observations, rewards and dones over long rollouts.
(tests/agents/test_rules_equivalence.py holds its compiled rules to the World on multi-NPC levels.)"""

from __future__ import annotations

import numpy as np
import pytest

from agents.envs.npc_env import ENV_CLASSES
from agents.envs.players import STYLES
from agents.vector import BatchedNpcEnv, NpcVecEnv
from engine.sim.policy import SCRIPTED_POLICIES, Role

N_ENVS = 8


@pytest.mark.parametrize("role", [Role.HUNTER, Role.GUARD, Role.COMPANION])
def test_vector_env_equals_the_single_env(role: Role) -> None:
    """Actions are a mix of random and the scripted policy's (so keys get carried and players get caught)."""
    singles = [ENV_CLASSES[role](num_levels=16) for _ in range(N_ENVS)]
    batched = BatchedNpcEnv(role, N_ENVS, num_levels=16)
    seeds = np.arange(N_ENVS) + 40
    first = batched.reset(seeds)
    for i, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        o, _ = env.reset(seed=int(seed))
        assert np.array_equal(first[i], o)
    scripted = SCRIPTED_POLICIES[role]()
    rng = np.random.default_rng(1)
    episodes, rewards_seen, styles = 0, set(), set()
    for _ in range(500):
        actions = rng.integers(0, 5, N_ENVS)
        for i, env in enumerate(singles):
            if rng.random() < 0.6:
                assert env.world is not None
                actions[i] = int(scripted.act(env.world.observe(env.agent)))
        obs, reward, terminated, truncated, info = batched.step(actions)
        finished = 0
        for i, env in enumerate(singles):
            o, r, term, trunc, single_info = env.step(int(actions[i]))
            rewards_seen.add(round(r, 3))
            assert (r, term, trunc) == pytest.approx((reward[i], terminated[i], truncated[i]))
            if term or trunc:
                assert np.array_equal(info["final_obs"][finished], o)
                assert info["success"][finished] == single_info["success"]
                assert info["role_metric"][finished] == single_info["role_metric"]
                assert STYLES[info["style"][finished]] == single_info["style"]
                styles.add(single_info["style"])
                finished += 1
                o, _ = env.reset()
            assert np.array_equal(obs[i], o)
        episodes += finished
    assert episodes > 20 and len(rewards_seen) >= 3  # many episodes, several kinds of reward
    assert len(styles) >= 3


def test_sb3_adapter_seeds_resets_and_reports_episodes() -> None:
    env = NpcVecEnv(Role.HUNTER, 4, num_levels=8)
    env.seed(7)
    first = env.reset()
    env.seed(7)
    assert np.array_equal(first, env.reset())
    finished = []
    for _ in range(200):
        _, _, dones, infos = env.step(np.zeros(4, np.int64))
        finished += [info for info, done in zip(infos, dones, strict=True) if done]
    assert finished and all("terminal_observation" in i and "is_success" in i for i in finished)
    env.env_method("set_params", styles={"runner": 1})
    assert env.core.styles == {"runner": 1}
    with pytest.raises(AttributeError):
        env.env_method("reset")


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="num_envs"):
        BatchedNpcEnv(Role.HUNTER, 0)
    env = BatchedNpcEnv(Role.HUNTER, 4, num_levels=4)
    env.reset(np.arange(4))
    with pytest.raises(ValueError, match="actions"):
        env.step(np.full(4, 5))
