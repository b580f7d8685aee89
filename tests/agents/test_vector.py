"""The batched VecEnv is the single env, N at a time: same observations, rewards and dones over long rollouts,
for both backends (numba, numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.envs.npc_env import ENV_CLASSES
from agents.envs.players import STYLES
from agents.vector import BACKENDS, BatchedNpcEnv, NpcVecEnv
from engine.sim.policy import SCRIPTED_POLICIES, Role

N_ENVS = 8


@pytest.mark.parametrize("role", [Role.HUNTER, Role.GUARD, Role.COMPANION])
def test_vector_env_equals_the_single_env(role: Role) -> None:
    """Actions are a mix of random and the scripted policy's (so keys get carried and players get caught)."""
    singles = [ENV_CLASSES[role](num_levels=16) for _ in range(N_ENVS)]
    backends = [BatchedNpcEnv(role, N_ENVS, num_levels=16, backend=name) for name in BACKENDS]
    seeds = np.arange(N_ENVS) + 40
    first = [batched.reset(seeds) for batched in backends]
    for i, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        o, _ = env.reset(seed=int(seed))
        assert all(np.array_equal(obs[i], o) for obs in first)
    scripted = SCRIPTED_POLICIES[role]()
    rng = np.random.default_rng(1)
    episodes, rewards_seen = 0, set()
    for _ in range(500):
        actions = rng.integers(0, 5, N_ENVS)
        for i, env in enumerate(singles):
            if rng.random() < 0.6:
                assert env.world is not None
                actions[i] = int(scripted.act(env.world.observe(env.agent)))
        steps = [batched.step(actions) for batched in backends]
        finished = 0
        for i, env in enumerate(singles):
            o, r, term, trunc, _ = env.step(int(actions[i]))
            rewards_seen.add(round(r, 3))
            for _, reward, terminated, truncated, info in steps:
                assert (r, term, trunc) == pytest.approx((reward[i], terminated[i], truncated[i]))
                if term or trunc:
                    assert np.array_equal(info["final_obs"][finished], o)
            if term or trunc:
                finished += 1
                o, _ = env.reset()
            assert all(np.array_equal(obs[i], o) for obs, *_ in steps)
        episodes += finished
    assert episodes > 20 and len(rewards_seen) >= 3  # many episodes, several kinds of reward


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


@pytest.mark.parametrize("role", [Role.HUNTER, Role.GUARD, Role.COMPANION])
def test_backends_agree_over_many_envs_and_levels(role: Role) -> None:
    """The numba kernels against the numpy reference on 256 envs over 100 levels: every player style, many
    resets, bit-identical observations, rewards, dones and episode results."""
    n = 256
    numba_env, numpy_env = (BatchedNpcEnv(role, n, num_levels=100, backend=name) for name in BACKENDS)
    seeds = np.arange(n) * 7 + 3
    assert np.array_equal(numba_env.reset(seeds), numpy_env.reset(seeds))
    rng = np.random.default_rng(2)
    styles, episodes = set(), 0
    for _ in range(300):
        actions = rng.integers(0, 5, n)
        (*fast, fast_info), (*slow, slow_info) = numba_env.step(actions), numpy_env.step(actions)
        assert all(np.array_equal(a, b) for a, b in zip(fast, slow, strict=True))
        assert fast_info.keys() == slow_info.keys()
        for key in fast_info:
            assert np.array_equal(fast_info[key], slow_info[key], equal_nan=True), key
        if "style" in fast_info:
            styles |= set(fast_info["style"].tolist())
            episodes += len(fast_info["style"])
    assert episodes > 500 and {STYLES[k] for k in styles} == set(numba_env.styles)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        BatchedNpcEnv(Role.HUNTER, 4, backend="cuda")
