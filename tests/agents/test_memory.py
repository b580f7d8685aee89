"""Policies with memory (agents.memory): one stacked input for training, evaluation and the game, episodes that
start with an empty history, and a trained variant that plays in the World and ships beside the policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.envs.npc_env import HunterEnv
from agents.evaluate import onnx_actor, run_episodes
from agents.memory import MemoryVecEnv, ObservationHistory
from agents.observation import OBS_SIZE
from agents.policies.onnx_policy import OnnxPolicy, PolicyFileError
from agents.train.ppo_npc import main as ppo_main
from agents.vector import NpcVecEnv
from demo_game.publish import REPO_ROOT, plan
from engine.errors import InputError
from engine.sim.policy import Role


def test_history_is_the_last_frames_oldest_first_with_zeros_before_the_episode() -> None:
    history = ObservationHistory(2, 3)
    a, b, c, d = (np.full((2, OBS_SIZE), v, np.float32) for v in (1, 2, 3, 4))
    first = history.push(a).reshape(2, 3, OBS_SIZE)
    assert (first[:, :2] == 0).all() and (first[:, 2] == 1).all()
    history.push(b)
    third = history.push(c).reshape(2, 3, OBS_SIZE)
    assert [float(third[0, k, 0]) for k in range(3)] == [1.0, 2.0, 3.0]
    peek = history.peek(np.array([1]), d[:1]).reshape(1, 3, OBS_SIZE)
    assert [float(peek[0, k, 0]) for k in range(3)] == [2.0, 3.0, 4.0]
    history.clear(np.array([True, False]))
    after = history.push(d).reshape(2, 3, OBS_SIZE)
    assert [float(after[0, k, 0]) for k in range(3)] == [0.0, 0.0, 4.0]  # a new episode forgets
    assert [float(after[1, k, 0]) for k in range(3)] == [2.0, 3.0, 4.0]  # its neighbour does not
    with pytest.raises(ValueError, match="frames"):
        ObservationHistory(1, 0)


def test_the_memory_vecenv_stacks_each_episode_on_its_own() -> None:
    """Against the unwrapped VecEnv's own observations on the same seeds: every stacked input is the env's last
    frames of this episode, a terminal observation closes its own episode, and a reset starts from zeros."""
    frames, n = 3, 8
    plain, memory = NpcVecEnv(Role.HUNTER, n), MemoryVecEnv(NpcVecEnv(Role.HUNTER, n), frames)
    plain.seed(5)
    memory.seed(5)
    seen = [[o.copy()] for o in plain.reset()]
    stacked = memory.reset()
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(150):
        for i in range(n):
            window = ([np.zeros(OBS_SIZE, np.float32)] * frames + seen[i])[-frames:]
            np.testing.assert_array_equal(stacked[i], np.concatenate(window))
        actions = rng.integers(0, 5, n)
        obs, _, dones, infos = plain.step(actions)
        stacked, _, stacked_dones, stacked_infos = memory.step(actions)
        assert (dones == stacked_dones).all()
        for i in range(n):
            if dones[i]:
                window = ([np.zeros(OBS_SIZE, np.float32)] * frames + seen[i])[-(frames - 1) :]
                expected = np.concatenate([*window, infos[i]["terminal_observation"].copy()])
                np.testing.assert_array_equal(stacked_infos[i]["terminal_observation"], expected)
                seen[i], finished = [obs[i].copy()], finished + 1
            else:
                seen[i].append(obs[i].copy())
    assert finished > 0


@pytest.fixture(scope="module")
def memory_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs")
    ppo_main(["--role", "hunter", "--memory", "3", "--seed", "2", "--dry-run", "--run-dir", str(run)])
    return run / "hunter_memory3_seed2"  # a seed other than the shipped one gets its own folder


def test_a_memory_variant_trains_exports_and_ships_beside_the_policy_as_a_sibling_seed(
    memory_run: Path,
) -> None:
    card = json.loads((memory_run / "hunter_memory3.json").read_text())
    assert card["config"]["obs_size"] == 3 * OBS_SIZE and card["observation"]["frames"] == 3
    assert card["onnx_parity"]["identical_fraction"] == 1.0  # the ONNX file acts as torch on stacked inputs
    # seed 2 of a variant is a sibling seed of that variant, never the game's policy, and takes no curve
    assert card["publish_as"] == "agents/policies/seeds/hunter_memory3_seed2" and "publish_extras" not in card
    destinations = {str(step.dest.relative_to(REPO_ROOT)) for step in plan(memory_run)}
    assert "agents/policies/seeds/hunter_memory3_seed2.onnx" in destinations
    assert OnnxPolicy(memory_run / "hunter_memory3.onnx").frames == 3


def test_a_memory_policy_plays_the_world_and_forgets_between_episodes(memory_run: Path, monkeypatch) -> None:
    """Every input the evaluation's actor gives the policy is the current episode's own frames: at each
    episode's first decision, everything before the current observation is zeros."""
    import agents.evaluate

    inputs: list[np.ndarray] = []

    class Recording(OnnxPolicy):
        def logits(self, observations: np.ndarray) -> np.ndarray:
            inputs.append(np.array(observations))
            return super().logits(observations)

    monkeypatch.setattr(agents.evaluate, "OnnxPolicy", Recording)
    path = memory_run / "hunter_memory3.onnx"
    env = HunterEnv()
    act = onnx_actor(path)
    first_inputs = []
    for seed in (3, 4, 5):
        obs, _ = env.reset(seed=seed)
        done, step = False, 0
        while not done:
            action = act(env, obs)
            if step == 0:
                first_inputs.append(inputs[-1].reshape(3, OBS_SIZE))
            obs, _, terminated, truncated, _ = env.step(action)
            done, step = terminated or truncated, step + 1
    assert len(first_inputs) == 3 and all((frames[:-1] == 0).all() for frames in first_inputs)
    assert any((frames[-1] != 0).any() for frames in first_inputs)
    # The game's policy object keeps its NPC's history and drops it when a new World starts at tick 0.
    policy = OnnxPolicy(path)
    for seed in (3, 3):
        env.reset(seed=seed)
        assert env.world is not None
        policy.act(env.world.observe(env.agent))
        assert (policy._history.buffer[0, :-1] == 0).all()  # a first decision: nothing remembered
    plays = run_episodes(Role.HUNTER, onnx_actor(path), 4, seed=11)
    assert set(plays) >= {"success", "return", "style"} and len(plays["success"]) == 4


def test_bad_frame_counts_and_inputs_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="memory"):
        ppo_main(["--role", "hunter", "--memory", "0", "--dry-run", "--run-dir", str(tmp_path)])
    from torch import nn

    from agents.policies.export import write_onnx

    path = write_onnx(nn.Linear(OBS_SIZE + 1, 5), OBS_SIZE + 1, tmp_path / "odd.onnx")
    with pytest.raises(PolicyFileError, match="frames"):
        OnnxPolicy(path)
