"""The narrator's interventions change the World: every one has an effect the player can feel, or says it
had nothing to change."""

from __future__ import annotations

import numpy as np
import pytest

from engine.formats.vglc import parse_ascii
from engine.level import Legend, Level, Semantic
from engine.sim import Action, HitBlocked, NarratorIntervened, NpcSummoned, Outcome, PickupTaken, World
from engine.sim.grid import bfs_distances, line_of_sight
from engine.sim.interventions import (
    HINT_TICKS,
    MAX_SUMMONED,
    REVEAL_TICKS,
    WARN_RADIUS,
    WAVE_DISTANCE,
    Intervention,
    intervene,
)
from engine.sim.objective import path_to_objective
from engine.sim.player_bot import PlayerBot
from engine.sim.world import SIGHT_RADIUS, Pickup
from procgen.levels import generate_dungeon

CORRIDOR = [
    "WWWWWWWWWWWWWWWWWW",
    "WS......^.......XW",
    "WWWWWWWWWWWWWWWWWW",
]


def level_from(rows: list[str]) -> Level:
    legend = Legend.default()
    return Level(tiles=parse_ascii("\n".join(rows), legend), legend=legend).validate()


def applied(events) -> bool:
    (record,) = [e for e in events if isinstance(e, NarratorIntervened)]
    return record.applied


def test_silent_changes_nothing() -> None:
    world = World(generate_dungeon(2), seed=2)
    before = world.state_hash()
    assert not applied(intervene(world, "silent")) and world.state_hash() == before


def test_hint_shows_the_way_for_a_while() -> None:
    world = World(generate_dungeon(4), seed=4)
    assert world.guide_path() == []
    assert applied(intervene(world, Intervention.HINT))
    way = world.guide_path()
    assert way == path_to_objective(world) and len(way) > 5
    assert abs(way[0][0] - world.player.x) + abs(way[0][1] - world.player.y) == 1
    for _ in range(HINT_TICKS):
        world.step(Action.NOOP)
    assert world.guide_path() == [] and not world.guide_shown


def test_a_potion_ahead_heals_and_a_second_is_refused_while_one_waits() -> None:
    world = World(level_from(CORRIDOR))
    world.player.health = 2
    assert applied(intervene(world, "potion"))
    assert not applied(intervene(world, "potion"))
    (cell,) = world.pickups
    assert world.pickups[cell] is Pickup.POTION and cell == (4, 1)  # three steps along the way
    taken = []
    for _ in range(3):
        taken += [e for e in world.step(Action.RIGHT) if isinstance(e, PickupTaken)]
    assert [t.kind for t in taken] == ["potion"] and world.player.health == 5 and not world.pickups


def test_the_lantern_shows_the_way_for_the_rest_of_the_run() -> None:
    world = World(level_from(CORRIDOR))
    assert applied(intervene(world, "helper_item"))
    for _ in range(3):
        world.step(Action.RIGHT)
    assert world.player.lantern and not applied(intervene(world, "helper_item"))
    for _ in range(HINT_TICKS * 2):
        world.step(Action.NOOP)
    assert world.guide_path()[-1] == (16, 1)


def test_encouragement_is_a_shield_against_the_next_hit() -> None:
    world = World(level_from(CORRIDOR))
    assert applied(intervene(world, "encourage")) and not applied(intervene(world, "encourage"))
    events = []
    for _ in range(7):
        events += world.step(Action.RIGHT)
    assert world.player.x == 8  # on the hazard
    assert [type(e) for e in events if isinstance(e, HitBlocked)] == [HitBlocked]
    assert world.player.health == world.player.max_health and world.player.shield == 0


def test_warn_and_foreshadow_point_out_enemies_for_a_while() -> None:
    warned = foreshadowed = 0
    for seed in range(10):
        world = World(generate_dungeon(seed), seed=seed)
        p = world.player
        near = [n for n in world.living_npcs() if max(abs(n.x - p.x), abs(n.y - p.y)) <= WARN_RADIUS]
        assert applied(intervene(world, "warn")) == bool(near)
        assert all(n.revealed_until == world.tick + REVEAL_TICKS for n in near)
        ahead = intervene(world, "foreshadow")
        revealed = [n for n in world.living_npcs() if n.revealed_until > world.tick]
        assert applied(ahead) == (len(revealed) > len(near))
        assert not applied(intervene(world, "warn"))  # the same enemies are not pointed out twice
        warned += bool(near)
        foreshadowed += applied(ahead)
    assert warned >= 1 and foreshadowed >= 5


def test_lore_points_out_the_nearest_treasure_until_taken() -> None:
    world = World(level_from(["WWWWWWWW", "WS.$..$W", "WWWWWXWW"]))
    assert applied(intervene(world, "lore")) and world.marked == {(3, 1)}
    assert applied(intervene(world, "lore")) and world.marked == {(3, 1), (6, 1)}
    assert not applied(intervene(world, "lore"))
    world.step(Action.RIGHT)
    world.step(Action.RIGHT)
    assert world.marked == {(6, 1)}


def test_a_wave_enters_out_of_sight_and_hunts_up_to_the_cap() -> None:
    world = World(generate_dungeon(5), seed=5)
    p = world.player
    before = len(world.npcs)
    events = intervene(world, "enemy_wave")
    summoned = [e for e in events if isinstance(e, NpcSummoned)]
    assert applied(events) and len(summoned) == 2
    dist = bfs_distances(world.walkable() & (world.terrain != Semantic.HAZARD.code), [(p.x, p.y)])
    for e in summoned:
        npc = world.npcs[e.npc_id - 1]
        assert npc.role.value == "hunter" and npc.alerted and npc.kind is Semantic.ENEMY
        assert WAVE_DISTANCE[0] <= dist[npc.y, npc.x] <= WAVE_DISTANCE[1]
        assert not line_of_sight(world.sight_blockers(), p.x, p.y, npc.x, npc.y)
    for _ in range(10):
        intervene(world, "enemy_wave")
    assert len(world.npcs) - before == MAX_SUMMONED
    closest = min(dist[world.npcs[e.npc_id - 1].y, world.npcs[e.npc_id - 1].x] for e in summoned)
    for _ in range(12):
        world.step(Action.NOOP)
    now = bfs_distances(world.walkable(), [(p.x, p.y)])
    assert min(now[world.npcs[e.npc_id - 1].y, world.npcs[e.npc_id - 1].x] for e in summoned) < closest


def test_difficulty_changes_enemy_sight_and_speed_within_bounds() -> None:
    world = World(generate_dungeon(1), seed=1)
    enemy = next(n for n in world.npcs if n.kind is Semantic.ENEMY)
    sights, periods = [], []
    for step in ["harder", "harder", "harder"]:
        intervene(world, step)
    assert not applied(intervene(world, "harder")) and world.difficulty == 2
    for _ in range(4):
        sights.append(world.sight_radius(enemy))
        periods.append(world.move_period(enemy))
        intervene(world, "easier")
    assert not applied(intervene(world, "easier")) and world.difficulty == -2
    sights.append(world.sight_radius(enemy))
    periods.append(world.move_period(enemy))
    assert sights == [SIGHT_RADIUS + 4, SIGHT_RADIUS + 2, SIGHT_RADIUS, SIGHT_RADIUS - 2, SIGHT_RADIUS - 4]
    assert periods == [1, 2, 2, 3, 4]


def test_interventions_are_deterministic_and_survive_a_snapshot() -> None:
    plan = np.random.default_rng(0).choice(list(Intervention), size=40)
    hashes = []
    for _ in range(2):
        world, bot = World(generate_dungeon(8), seed=8), PlayerBot()
        for t in range(400):
            if t % 10 == 0:
                intervene(world, plan[t // 10])
            world.step(bot.act(world))
        hashes.append(world.state_hash())
        copy = World.from_snapshot(world.snapshot())
        assert copy.state_hash() == world.state_hash()
        assert copy.difficulty == world.difficulty and copy.pickups == world.pickups
    assert hashes[0] == hashes[1]


@pytest.mark.parametrize("choice", list(Intervention))
def test_nothing_changes_once_the_run_is_over(choice: Intervention) -> None:
    world = World(level_from(["WWWW", "WSXW", "WWWW"]))
    world.step(Action.RIGHT)
    assert world.outcome is Outcome.WON
    assert not applied(intervene(world, choice))
