"""The shipped level GANs against DESIGN.md's quality goals, on 1,000 samples each (KL as a ratio to the corpus's
split-half reference, duplicates at five seeds), plus determinism, conditioning and the demo game's dungeons."""

from __future__ import annotations

import numpy as np
import pytest

from engine.level import Semantic
from procgen.levels.dungeon import DungeonSettings, door_slots, generate_dungeon
from procgen.levels.evaluate import KL_GOAL_RATIO, playable_as_generated, window_groups
from procgen.levels.generator import LevelGenerator
from procgen.levels.solver import is_playable, solve
from procgen.metrics.levels import broken_structures, diversity, duplicates, split_half_kl

N = 1000


@pytest.fixture(scope="module", params=["dungeon", "platformer"])
def sampled(request):
    gen = LevelGenerator.pretrained(request.param, device="cpu")
    codes, report = gen.sample_codes(N, seed=2026)
    return gen, codes, report


@pytest.mark.slow
def test_every_sample_is_playable_after_repair(sampled) -> None:
    gen, codes, report = sampled
    room = gen.genre.name == "topdown"
    assert all(is_playable(c, gen.genre, room=room) for c in codes)
    assert report.raw_playable.mean() >= 0.5  # finished, before repair: repair is the safety net


def test_raw_argmax_playability_is_measured_before_finishing() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    _, report = gen.sample_codes(200, seed=4, repair=False)
    _, doors = gen.conditions(200, np.random.default_rng(4))
    raw = playable_as_generated(report.raw, doors, gen)
    assert not (raw & ~report.raw_playable).any()  # finishing never breaks a room that was playable raw
    assert raw.mean() < report.raw_playable.mean()  # and it is not the same number
    wrong_doors = np.roll(doors, 3, axis=2)
    assert playable_as_generated(report.raw, wrong_doors, gen).mean() < raw.mean()


@pytest.mark.slow
def test_repair_edits_at_most_five_percent_of_tiles(sampled) -> None:
    _, codes, report = sampled
    assert report.edits.sum() / (N * codes[0].size) <= 0.05


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dungeon", "platformer"])
def test_under_one_percent_duplicates_at_each_of_five_seeds(name) -> None:
    # DESIGN.md: exact copies within a sample of 1,000; seeds 0..4 fixed in advance, each must pass on its own
    gen = LevelGenerator.pretrained(name, device="cpu")
    found = {seed: duplicates(gen.sample_codes(N, seed=seed, repair=False)[0]) for seed in range(5)}
    assert all(d < 0.01 for d in found.values()), found


def test_the_mode_redraw_is_deterministic_and_keeps_a_given_latent() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    a, _ = gen.sample_codes(N, seed=1, repair=False)
    b, _ = gen.sample_codes(N, seed=1, repair=False)
    plain, _ = gen.sample_codes(N, seed=1, repair=False, z=gen.latents(N, 1))
    assert np.array_equal(a, b)
    assert gen.is_mode(a).sum() < gen.is_mode(plain).sum()
    kept = ~gen.is_mode(plain)
    assert np.array_equal(a[kept], plain[kept])  # only the modes were drawn again


@pytest.mark.slow
def test_diversity_within_20_percent_of_the_training_set(sampled) -> None:
    gen, codes, _ = sampled
    ours, train = diversity(codes), diversity(gen.corpus.originals)
    assert abs(ours - train) <= 0.2 * train, (ours, train)


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3, 4])
def test_tile_pattern_kl_within_the_corpus_split_half_reference(sampled, k) -> None:
    """KL(P_A ‖ Q_G) / KL(P_A ‖ P_B) ≤ KL_GOAL_RATIO, like with like (docs/levels.md). 2×2 is the pattern loss's
    own statistic, so 3×3 and 4×4 are the test; 2×2 checks that the loss did its job."""
    gen, codes, _ = sampled
    # compared as the training examples are kept (a platformer's start and exit stripped): Corpus.as_examples
    kl = split_half_kl(
        gen.corpus.originals,
        k,
        gen.genre.flips,
        gen.corpus.as_examples(codes),
        groups=window_groups(gen.corpus),
    )
    assert kl.ratio.mean() <= KL_GOAL_RATIO, (kl.generated.mean(), kl.reference.mean())


@pytest.mark.slow
def test_the_kl_ratio_fails_tiles_drawn_without_their_neighbours() -> None:
    # the measure can fail: i.i.d. tiles with the corpus's own frequencies, framed like a room, are far off
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    codes, freq = np.unique(gen.corpus.examples, return_counts=True)
    noise = np.random.default_rng(0).choice(codes, size=(N, *gen.corpus.shape), p=freq / freq.sum())
    noise[:, [0, -1], :] = noise[:, :, [0, -1]] = Semantic.WALL.code
    kl = split_half_kl(gen.corpus.originals, 3, gen.genre.flips, noise.astype(np.uint8))
    assert kl.ratio.mean() > 2 * KL_GOAL_RATIO


def test_under_one_percent_broken_structures(sampled) -> None:
    gen, codes, _ = sampled
    assert broken_structures(codes, gen.genre.name).mean() < 0.01


def test_same_seed_same_levels_other_seed_other_levels() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    a = gen.sample(8, seed=11)
    b = gen.sample(8, seed=11)
    c = gen.sample(8, seed=12)
    assert all(x == y for x, y in zip(a, b, strict=True))
    assert any((x.tiles != y.tiles).any() for x, y in zip(a, c, strict=True))


def test_rooms_have_exactly_the_doors_asked_for() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    rooms = gen.sample(50, seed=3, conditions={"doors": {"north": [7], "east": [5]}})
    for room in rooms:
        slots = door_slots(room.semantic_grid())
        assert slots[(0, -1)] == [(7, 0)] and slots[(1, 0)] == [(15, 5)]
        assert not slots[(0, 1)] and not slots[(-1, 0)]
        assert is_playable(room, room=True)


def test_density_condition_moves_the_enemy_count() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    few = gen.sample(200, seed=5, conditions={"density": {"enemies": 0}}, repair=False)
    many = gen.sample(200, seed=5, conditions={"density": {"enemies": 3}}, repair=False)
    mean = lambda levels: np.mean([lv.count(Semantic.ENEMY) for lv in levels])  # noqa: E731
    assert mean(many) > mean(few) + 1.0


@pytest.mark.slow
def test_gan_dungeons_are_playable_deterministic_and_use_generated_rooms() -> None:
    gen = LevelGenerator.pretrained("dungeon", device="cpu")
    settings = DungeonSettings(rooms=6, branches=2, locked_doors=2)
    for seed in range(40):
        level = generate_dungeon(seed, settings, generator=gen)
        assert solve(level).playable, seed
        assert level.meta.generator == "procgen.dungeon+gan"
    assert generate_dungeon(7, settings, generator=gen) == generate_dungeon(7, settings, generator=gen)
    authored = {r.tiles.tobytes() for r in gen.corpus.levels}
    level = generate_dungeon(9, settings, generator=gen)
    rooms = [
        level.tiles[1 + y * 15 : 12 + y * 15, 1 + x * 20 : 17 + x * 20] for y in range(3) for x in range(3)
    ]
    assert not any(r.tobytes() in authored for r in rooms)
