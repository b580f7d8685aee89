"""NPC roles in the World: companions carry keys and may cross hazards, guards keep their zone, the tick splits
into halves an RL env can observe between, and old snapshots still load."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import LevelValidationError
from engine.formats.vglc import parse_ascii
from engine.level import Legend, Level, Semantic, Spawn
from engine.sim import (
    Action,
    DamageTaken,
    GuardPolicy,
    KeyHandedOver,
    KeyPicked,
    Policy,
    Role,
    World,
)
from engine.sim.world import Npc
from procgen.levels import generate_dungeon


def level_with(rows: list[str], spawns: tuple[Spawn, ...] = ()) -> Level:
    legend = Legend.default()
    return Level(tiles=parse_ascii("\n".join(rows), legend), legend=legend, spawns=spawns).validate()


class Scripted:
    """A policy replaying fixed moves (then staying)."""

    def __init__(self, moves: list[Action]) -> None:
        self.moves = list(moves)

    def act(self, observation) -> Action:
        return self.moves.pop(0) if self.moves else Action.NOOP


def with_policy(moves: list[Action]):
    def factory(npc: Npc) -> Policy:
        return Scripted(moves)

    return factory


def test_companion_picks_up_a_key_and_hands_it_to_the_player() -> None:
    companion = Spawn(Semantic.NPC, 5, 1, {"role": "companion"})
    level = level_with(["WWWWWWWW", "WS..k..W", "WWWWWWWW"], (companion,))
    world = World(level, policies=with_policy([Action.LEFT] * 3))
    npc = world.npcs[0]
    assert npc.role is Role.COMPANION and npc.move_period == 1
    events = [e for _ in range(4) for e in world.step(Action.NOOP)]
    picked = [e for e in events if isinstance(e, KeyPicked)]
    handed = [e for e in events if isinstance(e, KeyHandedOver)]
    assert picked and picked[0].by == npc.id  # the companion, not the player, took it
    assert handed and handed[0].count == 1 and world.player.keys == 1 and npc.keys == 0


def test_companion_crosses_hazards_and_gets_hurt_other_npcs_never_step_on_them() -> None:
    spawns = (
        Spawn(Semantic.NPC, 5, 1, {"role": "companion"}),
        Spawn(Semantic.NPC, 5, 3, {"role": "villager"}),
    )
    level = level_with(["WWWWWWWW", "WS.^..WW", "WWWWWWWW", "W..^..WW", "WWWWWWWW"], spawns)
    world = World(level, policies=with_policy([Action.LEFT] * 6))
    events = [e for _ in range(8) for e in world.step(Action.NOOP)]
    companion, villager = world.npcs
    hurt = [e for e in events if isinstance(e, DamageTaken) and e.target == companion.id]
    assert hurt and hurt[0].source == "hazard"
    assert villager.x > 3  # the villager stopped at the hazard


def test_an_unknown_role_names_the_spawn_field() -> None:
    level = level_with(["WWWWW", "WS..W", "WWWWW"], (Spawn(Semantic.ENEMY, 3, 1, {"role": "companion"}),))
    with pytest.raises(LevelValidationError, match=r"spawns\[0\]\.properties\.role"):
        World(level)


def test_scripted_guard_charges_intruders_and_walks_back_to_its_post() -> None:
    post = Spawn(Semantic.ENEMY, 8, 3, {"role": "guard", "zone_radius": 2})
    rows = ["WWWWWWWWWWWWWWW"] + ["W" + "." * 13 + "W"] * 5 + ["WWWWWWWWWWWWWWW"]
    rows[3] = "WS" + rows[3][2:]
    world = World(level_with(rows, (post,)))
    guard = world.npcs[0]
    assert isinstance(world._policies[guard.id], GuardPolicy)
    guard.x, guard.y = 12, 1  # pushed out of its zone
    for _ in range(16):
        world.step(Action.NOOP)  # the player waits far outside the zone
    assert max(abs(guard.x - 8), abs(guard.y - 3)) <= 1
    for _ in range(5):
        world.step(Action.RIGHT)  # the player walks into the zone
    for _ in range(8):
        world.step(Action.NOOP)
    assert world.player.health < world.player.max_health  # intercepted inside the zone


def test_two_halves_make_one_step() -> None:
    a, b = World(generate_dungeon(4), seed=4), World(generate_dungeon(4), seed=4)
    for act in np.random.default_rng(0).integers(0, len(Action), 300):
        a.step(Action(int(act)))
        events = b.begin_tick(Action(int(act)))
        b.end_tick(events)
    assert a.state_hash() == b.state_hash()


def test_a_version_1_snapshot_still_loads() -> None:
    world = World(generate_dungeon(2), seed=2)
    for _ in range(30):
        world.step(Action.RIGHT)
    old = world.snapshot()
    old["version"] = 1
    for npc in old["npcs"]:
        for field in ("role", "max_health", "home_x", "home_y", "zone_radius", "keys"):
            del npc[field]
    again = World.from_snapshot(old)
    assert [(n.x, n.y) for n in again.npcs] == [(n.home_x, n.home_y) for n in again.npcs]
    assert {n.role for n in again.npcs} <= {Role.HUNTER, Role.VILLAGER}


def test_a_friend_blocks_once_then_swaps_places() -> None:
    companion = Spawn(Semantic.NPC, 2, 1, {"role": "companion"})
    world = World(level_with(["WWWWWW", "WS..XW", "WWWWWW"], (companion,)), policies=with_policy([]))
    world.step(Action.RIGHT)
    assert (world.player.x, world.npcs[0].x) == (1, 2)  # blocked
    world.step(Action.RIGHT)
    assert (world.player.x, world.npcs[0].x) == (2, 1)  # swapped
    world.step(Action.NOOP)
    world.step(Action.LEFT)
    assert world.player.x == 2  # a new bump after a pause blocks again
