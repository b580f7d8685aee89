"""The narrator's env: it passes the checks, is deterministic, its simulated players differ as their types
say, its narrators matter, and the shipped policy acts the same through ONNX as in torch."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from agents.envs import NARRATOR_ENV_ID, register_envs
from agents.envs.narrator_env import TEST_START_LEVEL, NarratorEnv
from agents.narrator.baselines import RandomNarrator, RuleBasedNarrator, SilentNarrator
from agents.narrator.evaluate import play, summarise
from agents.narrator.players import HELD_OUT_TYPES, TRAINING_TYPES
from agents.narrator.policy import NARRATOR_POLICY, OnnxNarrator
from agents.narrator.session import INTERVENTIONS, OBS_SIZE, OBSERVATION
from agents.train.ppo_narrator import Agent
from engine.sim.interventions import Intervention
from procgen.core.weights import load_weights


def test_the_registered_env_passes_gymnasium_and_sb3_checks() -> None:
    register_envs()
    env = gym.make(NARRATOR_ENV_ID, num_levels=4, max_seconds=60)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=True)
    assert env.observation_space.shape == (OBS_SIZE,) == (len(OBSERVATION),)
    assert env.action_space.n == len(INTERVENTIONS) == 11


def test_same_seed_and_actions_give_the_same_run() -> None:
    actions = np.random.default_rng(0).integers(0, 11, 60)
    traces = []
    for _ in range(2):
        env = NarratorEnv(num_levels=8)
        obs, info = env.reset(seed=5)
        trace = [obs.tobytes(), info["player_type"], info["level"]]
        for a in actions:
            obs, reward, terminated, truncated, info = env.step(int(a))
            trace += [obs.tobytes(), reward, info["outcome"], env.run.world.state_hash()]
            if terminated or truncated:
                break
        traces.append(trace)
    assert traces[0] == traces[1]
    assert len(traces[0]) > 20


def test_bad_arguments_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="player_types"):
        NarratorEnv(player_types=["nobody"])
    with pytest.raises(ValueError, match="num_levels"):
        NarratorEnv(num_levels=0)
    with pytest.raises(ValueError, match="max_seconds"):
        NarratorEnv(max_seconds=10**6)


def test_player_types_play_as_their_parameters_say() -> None:
    """Unnarrated runs on the same 12 dungeons: the speedrunner finishes fastest and takes no treasure
    detours, the completionist collects the most treasure, the novice is slowest and wins least."""
    env = NarratorEnv()
    stats: dict[str, dict[str, float]] = {}
    for name in ("speedrunner", "completionist", "novice"):
        secs, won, treasure = [], [], []
        for k in range(12):
            _, info = env.reset(seed=k, options={"player_type": name, "level": 100 + k})
            done = False
            while not done:
                _, _, terminated, truncated, info = env.step(0)
                done = terminated or truncated
            secs.append(info["seconds"])
            won.append(info["outcome"] == "won")
            treasure.append(env.run.world.player.treasure)
        stats[name] = {"seconds": np.mean(secs), "won": np.mean(won), "treasure": np.mean(treasure)}
    assert stats["speedrunner"]["seconds"] < stats["completionist"]["seconds"] < stats["novice"]["seconds"]
    assert stats["completionist"]["treasure"] > stats["speedrunner"]["treasure"]
    assert stats["novice"]["won"] < stats["speedrunner"]["won"]


def test_a_narrator_that_never_stops_talking_drives_players_away() -> None:
    silent = summarise(play(lambda: SilentNarrator().act, episodes=10))
    chatter = summarise(play(lambda: RandomNarrator(1).act, episodes=10))
    assert chatter["quit"].mean > silent["quit"].mean + 0.2
    assert chatter["interventions_per_minute"].mean > 20


def test_the_rule_based_narrator_heals_a_hurt_player_and_guides_a_stalled_one() -> None:
    at = {name: i for i, name in enumerate(OBSERVATION)}
    calm = np.zeros(OBS_SIZE, np.float32)
    calm[at["health"]], calm[at["since_line"]] = 1.0, 1.0
    narrator = RuleBasedNarrator()
    assert narrator.choose(calm) is Intervention.SILENT
    hurt = calm.copy()
    hurt[at["health"]] = 0.25
    assert narrator.choose(hurt) is Intervention.POTION
    stalled = calm.copy()
    stalled[at["stalled"]] = 0.3
    assert narrator.choose(stalled) is Intervention.HINT
    stalled[at["since_line"]] = 0.1  # it spoke two seconds ago: it waits
    assert narrator.choose(stalled) is Intervention.SILENT


def test_the_shipped_policy_acts_the_same_through_onnx_as_in_torch() -> None:
    """The ONNX file's logits and greedy action match the torch actor on every observation of three held-out
    runs, played as the game plays it (sampled from the policy, so the runs meet varied moments)."""
    tensors, card = load_weights(NARRATOR_POLICY.with_suffix(""))
    agent = Agent(hidden=card["config"]["hidden"])
    agent.load_state_dict(tensors)
    env = NarratorEnv(player_types=list(HELD_OUT_TYPES), start_level=TEST_START_LEVEL)
    seen, acted = 0, set()
    for k in range(3):
        narrator = OnnxNarrator(seed=k)
        obs, _ = env.reset(seed=k)
        done = False
        while not done:
            with torch.no_grad():
                theirs = agent.actor(torch.as_tensor(obs).unsqueeze(0)).numpy()[0]
            ours = narrator.logits(obs)[0]
            assert ours.argmax() == theirs.argmax() and np.abs(ours - theirs).max() < 1e-4
            seen += 1
            action = narrator.act(obs)
            acted.add(action)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    assert seen > 20 and len(acted) > 2  # it does more than stay silent
    assert card["observation"] == list(OBSERVATION) and card["data"]["training_types"] == list(TRAINING_TYPES)
    assert card["onnx_parity"]["identical_fraction"] == 1.0


def test_the_sampled_narrator_is_reproducible_by_seed() -> None:
    obs = NarratorEnv().reset(seed=1)[0]
    runs = [[OnnxNarrator(seed=s).act(obs) for _ in range(50)] for s in (3, 3, 4)]
    assert runs[0] == runs[1] != runs[2]
    assert OnnxNarrator(greedy=True).act(obs) == int(OnnxNarrator().logits(obs)[0].argmax())


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_narrated_run_speaks_in_the_chosen_language(language: str) -> None:
    env = NarratorEnv(language=language)
    env.reset(seed=3)
    rule = RuleBasedNarrator()
    obs, done = env.run.observe(), False
    while not done:
        obs, _, terminated, truncated, _ = env.step(rule.act(obs))
        done = terminated or truncated
    lines = [text for _, _, text in env.lines]
    assert len(lines) >= 2 and all("#" not in text for text in lines)
    cjk = [any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in lines]
    assert all(cjk) if language == "zh" else not any(cjk)
