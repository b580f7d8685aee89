"""The World: deterministic by seed and actions, emits the right events, follows the game's rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.formats.vglc import parse_ascii
from engine.level import Legend, Level
from engine.sim import (
    PLAYER_ID,
    Action,
    DamageTaken,
    Death,
    DoorOpened,
    ExitReached,
    KeyPicked,
    NpcSawPlayer,
    Outcome,
    TreasureFound,
    World,
)
from engine.sim.player_bot import PlayerBot
from procgen.levels import generate_dungeon


def level_from(rows: list[str]) -> Level:
    legend = Legend.default()
    return Level(tiles=parse_ascii("\n".join(rows), legend), legend=legend).validate()


def random_actions(seed: int, n: int) -> list[Action]:
    return [Action(a) for a in np.random.default_rng(seed).integers(0, len(Action), n)]


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_same_seed_and_actions_give_same_state_hash(seed: int) -> None:
    actions = random_actions(seed, 600)
    hashes = []
    for _ in range(2):
        world = World(generate_dungeon(seed), seed=seed)
        trace = []
        for a in actions:
            world.step(a)
            trace.append(world.state_hash())
        hashes.append(trace)
    assert hashes[0] == hashes[1]
    assert len(set(hashes[0])) > 50  # the state really changes over the run


def test_different_actions_give_different_hashes() -> None:
    a, b = World(generate_dungeon(3), seed=3), World(generate_dungeon(3), seed=3)
    for x, y in zip(random_actions(1, 200), random_actions(2, 200), strict=True):
        a.step(x)
        b.step(y)
    assert a.state_hash() != b.state_hash()


def test_snapshot_restores_an_identical_continuation() -> None:
    world = World(generate_dungeon(5), seed=5)
    actions = random_actions(9, 400)
    for a in actions[:200]:
        world.step(a)
    copy = World.from_snapshot(world.snapshot())
    assert copy.state_hash() == world.state_hash()
    for a in actions[200:]:
        assert [type(e) for e in world.step(a)] == [type(e) for e in copy.step(a)]
    assert copy.state_hash() == world.state_hash()


def test_key_opens_locked_door_and_exit_wins() -> None:
    world = World(level_from(["WWWWWWW", "WSk.LXW", "WWWWWWW"]))
    events = [e for _ in range(5) for e in world.step(Action.RIGHT)]
    kinds = [type(e) for e in events]
    assert kinds == [KeyPicked, DoorOpened, ExitReached]
    assert world.outcome is Outcome.WON and world.player.keys == 0


def test_locked_door_blocks_without_key() -> None:
    world = World(level_from(["WWWWW", "WS.LX", "WWWWW"]))
    for _ in range(4):
        assert not any(isinstance(e, DoorOpened) for e in world.step(Action.RIGHT))
    assert (world.player.x, world.player.y) == (2, 1) and world.outcome is Outcome.RUNNING


def test_interact_opens_the_door_faced() -> None:
    world = World(level_from(["WWWWWW", "WSkLXW", "WWWWWW"]))
    world.step(Action.RIGHT)  # picks the key, faces right
    assert isinstance(world.step(Action.INTERACT)[0], DoorOpened)


def test_hazard_hurts_then_grace_period_then_death() -> None:
    world = World(level_from(["WWWWWWWWWWWWW", "WS^.^.^.^.^.W", "WWWWWWWWWWWWW"]))
    events = []
    for _ in range(40):
        events += world.step(Action.RIGHT if world.player.x < 11 else Action.LEFT)
    hits = [e for e in events if isinstance(e, DamageTaken) and e.target == PLAYER_ID]
    assert hits and all(e.source == "hazard" for e in hits)
    assert all(b.tick - a.tick >= 8 for a, b in itertools.pairwise(hits))  # one second of grace


def test_enemy_sees_chases_and_hurts_the_player() -> None:
    world = World(level_from(["WWWWWWWWWW", "WS......eW", "WWWWWWWWWW"]))
    events = [e for _ in range(30) for e in world.step(Action.NOOP)]
    assert any(isinstance(e, NpcSawPlayer) for e in events)
    assert any(isinstance(e, DamageTaken) and e.source == "enemy" for e in events)


def test_bumping_an_enemy_kills_it() -> None:
    world = World(level_from(["WWWWW", "WSeWW", "WWWWW"]))
    events = [e for _ in range(4) for e in world.step(Action.RIGHT)]
    assert any(isinstance(e, Death) and e.kind == "enemy" for e in events)
    assert not world.living_npcs()


def test_treasure_is_found_once() -> None:
    world = World(level_from(["WWWWW", "WS$.W", "WWWWW"]))
    events = [e for a in (Action.RIGHT, Action.RIGHT, Action.LEFT) for e in world.step(a)]
    assert [type(e) for e in events] == [TreasureFound]


def test_bot_wins_most_seeds() -> None:
    wins = 0
    for seed in range(40):
        world, bot = World(generate_dungeon(seed), seed=seed), PlayerBot()
        while world.outcome is Outcome.RUNNING and world.tick < 8 * 180:
            world.step(bot.act(world))
        wins += world.outcome is Outcome.WON
    assert wins >= 38
