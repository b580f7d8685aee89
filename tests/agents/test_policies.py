"""The shipped NPC policies: cards, ONNX parity with the torch policy, quality on unseen levels, and the game
running them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy

from agents.observation import OBS_SIZE, observation_bounds
from agents.policies import OnnxPolicy, policy_card, policy_path
from agents.policies.onnx_policy import TRAINED_ROLES, PolicyFileError
from agents.train.ppo_narrator import Args as NarratorArgs
from agents.train.ppo_npc import Args as NpcArgs
from agents.vector import BatchedNpcEnv
from engine.sim.policy import Role
from procgen.core.weights import load_weights


@pytest.mark.parametrize("role", TRAINED_ROLES)
def test_each_role_ships_a_policy_with_a_full_card(role: Role) -> None:
    card = policy_card(role)
    for field in (
        "command",
        "seed",
        "steps",
        "data",
        "results_on_test_levels",
        "date",
        "onnx_parity",
        "observation",
    ):
        assert field in card, field
    assert card["role"] == role.value and card["steps"] >= 1_000_000
    assert card["observation"]["size"] == OBS_SIZE
    assert policy_path(role).stat().st_size < 2_000_000  # small
    assert card["onnx_parity"]["identical_fraction"] == 1.0


@pytest.mark.parametrize("role", TRAINED_ROLES)
def test_onnx_matches_the_torch_policy_on_10k_observations(role: Role) -> None:
    tensors, card = load_weights(policy_path(role).with_suffix(""))  # checks the card's sha256 of the tensors
    low, high = observation_bounds()
    net = card["config"]["net"]
    policy = ActorCriticPolicy(
        spaces.Box(low, high, (OBS_SIZE,), np.float32),
        spaces.Discrete(5),
        lambda _: 0.0,
        net_arch={"pi": net, "vf": net},
    )
    policy.load_state_dict(tensors)
    policy.eval()
    onnx = OnnxPolicy(policy_path(role))
    env = BatchedNpcEnv(role, 256, num_levels=32, start_level=2_000_000)
    obs = env.reset(np.arange(256))
    rng = np.random.default_rng(0)
    seen, same = 0, 0
    for _ in range(
        40
    ):  # 10,240 observations from play (mostly greedy, some random moves to widen the states)
        with torch.no_grad():
            ours = policy.get_distribution(torch.from_numpy(obs)).distribution.logits.argmax(1).numpy()
        theirs = onnx.logits(obs).argmax(1)
        same += int((ours == theirs).sum())
        seen += len(obs)
        actions = np.where(rng.random(256) < 0.2, rng.integers(0, 5, 256), ours)
        obs, *_ = env.step(actions)
    assert seen >= 10_000 and same == seen


# What docs/agents_eval.md publishes against the strongest scripted baseline (agents/baselines.py), over 600
# episodes and every training seed: "beats" where every seed's paired 95% CI lies above 0, "loses" where every
# one lies below, "does not beat" otherwise.
PUBLISHED_VERDICT = {
    # On the report's own 600 episodes every hunter seed is below the baseline ("loses to"); on these other 600
    # each is within noise, so what is published as holding is "does not beat".
    "hunter": "does not beat",
    "hunter_memory4": "does not beat",
    "guard": "does not beat",
    "guard_memory4": "does not beat",
    "companion": "loses",
    "companion_memory4": "loses",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED_VERDICT))
def test_trained_policies_against_the_strongest_scripted_baseline(name: str) -> None:
    """The same verdict on as many other unseen episodes (600 at seed 123, not the report's seed 0), seed by
    seed over every training run of the policy, as the report decides it."""
    from agents.evaluate import onnx_actor, run_episodes, strongest_actor, trained_policy_paths
    from agents.policies.onnx_policy import memory_variants

    role = Role(name.split("_memory")[0])
    paths = trained_policy_paths(role) if name == role.value else memory_variants(role)[name]
    episodes = 600
    strong = run_episodes(role, strongest_actor(role), episodes, seed=123)["success"].astype(float)
    intervals = []
    for path in paths:
        diff = run_episodes(role, onnx_actor(path), episodes, seed=123)["success"].astype(float) - strong
        half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff))
        intervals.append((diff.mean() - half, diff.mean() + half))
    verdict = (
        "beats"
        if all(low > 0 for low, _ in intervals)
        else "loses"
        if all(high < 0 for _, high in intervals)
        else "does not beat"
    )
    assert len(paths) >= 3 and verdict == PUBLISHED_VERDICT[name], intervals


def test_a_broken_policy_file_is_named(tmp_path) -> None:
    bad = tmp_path / "hunter.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(Exception, match=r"hunter\.onnx"):
        OnnxPolicy(bad)
    with pytest.raises(PolicyFileError, match="no such policy file"):
        OnnxPolicy(tmp_path / "missing.onnx")


def test_policy_card_is_json_with_the_observation_layout() -> None:
    card = json.loads(policy_path(Role.HUNTER).with_suffix(".json").read_text())
    names = [row[1] for row in card["observation"]["layout"]]
    assert "player_visible" in names and "toward_key_up" in names


def test_the_game_runs_its_npcs_on_the_trained_policies() -> None:
    from demo_game.content import new_world
    from engine.sim import Outcome
    from engine.sim.player_bot import PlayerBot

    wins, handovers, roles = 0, 0, set()
    for seed in range(6):
        world, bot = new_world(seed), PlayerBot()
        for npc in world.npcs:
            roles.add(npc.role)
            expected = OnnxPolicy if npc.role in TRAINED_ROLES else object
            assert isinstance(world._policies[npc.id], expected)
        while world.outcome is Outcome.RUNNING and world.tick < 8 * 180:
            handovers += sum(type(e).__name__ == "KeyHandedOver" for e in world.step(bot.act(world)))
        wins += world.outcome is Outcome.WON
    assert {Role.HUNTER, Role.GUARD, Role.COMPANION} <= roles
    assert wins >= 5  # the companion never walls the player in; hunters and guards do not make it unwinnable
    assert handovers >= 1  # companions fetch keys in the real dungeons too


_RUN_ONLY_ARGS = {"seed", "run_dir", "publish_as", "policy_out", "threads", "device"}
"""settings that say where or how fast a run went, not what it trained"""


def _card(onnx_path) -> dict:
    return json.loads(onnx_path.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "name",
    ["hunter", "guard", "companion", "narrator", "hunter_memory4", "guard_memory4", "companion_memory4"],
)
def test_each_headline_policy_ships_three_training_seeds_of_one_command(name: str) -> None:
    """The shipped seed-1 run and its siblings (agents/policies/seeds/): at least three runs, each file the one
    its card hashes, trained with the same settings at different seeds, each published where its card says."""
    from agents.policies.onnx_policy import POLICY_DIR, sibling_seeds

    shipped = POLICY_DIR / f"{name}.onnx"
    runs = [shipped, *sibling_seeds(name)]
    assert len(runs) >= 3, runs
    cards = [_card(p) for p in runs]
    assert [c["seed"] for c in cards] == sorted({c["seed"] for c in cards}) and cards[0]["seed"] == 1
    # A setting a card lacks is the trainer's default: the run predates the option (hunter seed 2 and --memory).
    defaults = asdict(NarratorArgs() if name == "narrator" else NpcArgs())
    settings = [{k: v for k, v in (defaults | c["args"]).items() if k not in _RUN_ONLY_ARGS} for c in cards]
    assert all(s == settings[0] for s in settings), "sibling seeds must train what the shipped run trained"
    for path, card in zip(runs, cards, strict=True):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == card["onnx_sha256"], path
        assert card["publish_as"] == str(path.with_suffix("").relative_to(POLICY_DIR.parents[1])), path
        if name != "narrator":
            assert OnnxPolicy(path).frames == card["config"].get("memory", 1)
