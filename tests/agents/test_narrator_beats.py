"""Story beats read from the World: each fires once per occurrence, in story order, on real and built levels."""

from __future__ import annotations

import itertools

import numpy as np

from agents.narrator.beats import LOST_TICKS, BeatTracker
from agents.narrator.text import BEATS
from engine.formats.vglc import parse_ascii
from engine.level import Legend, Level
from engine.sim import Action, DoorOpened, Outcome, World
from engine.sim.player_bot import PlayerBot
from procgen.levels import generate_dungeon


def level_from(rows: list[str]) -> Level:
    legend = Legend.default()
    return Level(tiles=parse_ascii("\n".join(rows), legend), legend=legend).validate()


def play(world: World, actions, ticks: int) -> list[tuple[int, str, list]]:
    """(tick, beat, events of that tick) for every beat while `actions(world)` plays."""
    tracker, out = BeatTracker(), []
    while world.outcome is Outcome.RUNNING and world.tick < ticks:
        events = world.step(actions(world))
        out += [(world.tick, beat, events) for beat in tracker.update(world, events)]
    return out


def test_a_purposeful_player_hits_the_story_in_order() -> None:
    """The scripted bot on 20 GAN dungeons: intro first, one first key before any door opens, near the exit
    before victory, victory last; never lost."""
    counts = dict.fromkeys(BEATS, 0)
    for seed in range(20):
        world, bot = World(generate_dungeon(seed), seed=seed), PlayerBot()
        beats = play(world, bot.act, 8 * 180)
        names = [b for _, b, _ in beats]
        assert names[0] == "intro" and names.count("intro") == 1
        assert names.count("first_key") == 1
        first_key_tick = next(t for t, b, _ in beats if b == "first_key")
        assert all(t >= first_key_tick for t, _, ev in beats for e in ev if isinstance(e, DoorOpened))
        if world.outcome is Outcome.WON:
            assert names[-1] == "victory" and names.count("near_exit") == 1
            assert names.index("near_exit") < names.index("victory")
        assert "lost" not in names and "locked_door" not in names  # it fetches keys before doors
        for name in names:
            counts[name] += 1
    assert counts["victory"] >= 18 and counts["treasure"] > 0 and counts["ambush"] > 0


def test_a_wandering_player_is_lost_again_only_after_progress() -> None:
    """Random steps in a dungeon: 'lost' fires after LOST_TICKS without getting closer to the objective, and
    fires again only after the player has made progress (a new best distance) and then stalled again."""
    world = World(generate_dungeon(3), seed=3)
    rng = np.random.default_rng(0)
    tracker = BeatTracker()
    lost_at, progressed = [], False
    while world.outcome is Outcome.RUNNING and world.tick < 8 * 240:
        best = tracker.best_distance
        events = world.step(Action(int(rng.integers(0, 5))))
        beats = tracker.update(world, events)
        progressed |= best is not None and tracker.best_distance is not None and tracker.best_distance < best
        if "lost" in beats:
            assert tracker.since_progress == LOST_TICKS
            assert not lost_at or progressed
            lost_at.append(world.tick)
            progressed = False
    assert len(lost_at) >= 2 and lost_at[0] >= LOST_TICKS


def test_locked_door_without_a_key_low_health_and_death() -> None:
    """Walking into a locked door with no key is met once; pacing on a hazard takes the player down through
    low health to death."""
    world = World(level_from(["WWWWWWWW", "W^S.LX.W", "WWWWkWWW"]))
    moves = itertools.chain(
        [Action.RIGHT, Action.RIGHT, Action.LEFT], itertools.cycle([Action.LEFT, Action.RIGHT])
    )
    beats = play(world, lambda w: next(moves), 400)
    names = [b for _, b, _ in beats]
    assert names.count("locked_door") == 1
    assert names.index("low_health") < names.index("death") == len(names) - 1
    assert world.outcome is Outcome.DIED
