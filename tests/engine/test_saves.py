"""Saves are versioned and atomic; a corrupt or foreign save is a clear SaveError, never a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine import atomic
from engine.app.saves import read_save, write_save
from engine.errors import SaveError
from engine.sim import Action, World
from procgen.levels import generate_dungeon


def world_after(ticks: int, seed: int = 4) -> World:
    world = World(generate_dungeon(seed), seed=seed)
    for i in range(ticks):
        world.step(Action((i // 5) % 5))
    return world


def test_save_and_load_continue_the_same_run(tmp_path: Path) -> None:
    world = world_after(90)
    write_save(tmp_path / "save.json", world)
    loaded = read_save(tmp_path / "save.json")
    assert loaded.state_hash() == world.state_hash()


def test_interrupted_save_leaves_previous_save_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "save.json"
    first = world_after(30)
    write_save(path, first)
    before = path.read_bytes()

    real_fdopen = os.fdopen

    class DiesMidWrite:
        """A file whose write stops halfway, as a crash or a full disk would leave it."""

        def __init__(self, f):
            self.f = f

        def write(self, data: bytes) -> int:
            self.f.write(data[: len(data) // 2])
            raise OSError("simulated crash mid-write")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: DiesMidWrite(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="simulated crash"):
        write_save(path, world_after(200))
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert read_save(path).state_hash() == first.state_hash()
    assert [p.name for p in tmp_path.iterdir()] == ["save.json"]  # no temp file left behind


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{ not json", "corrupt"),
        (json.dumps({"format": "something.else"}), "not a ludoforge save"),
        (json.dumps({"format": "ludoforge.save", "version": 99, "world": {}}), "version 99 is not supported"),
        (json.dumps({"format": "ludoforge.save", "version": 1, "world": {"version": 1}}), "corrupt"),
    ],
)
def test_bad_saves_give_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "save.json"
    path.write_text(content)
    with pytest.raises(SaveError, match=message) as err:
        read_save(path)
    assert str(path) in str(err.value)


def test_truncated_save_is_reported_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "save.json"
    write_save(path, world_after(10))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(SaveError, match="corrupt"):
        read_save(path)


def test_missing_save(tmp_path: Path) -> None:
    with pytest.raises(SaveError, match="no saved run"):
        read_save(tmp_path / "none.json")


def _edited_save(tmp_path: Path, edit) -> Path:
    path = tmp_path / "save.json"
    write_save(path, world_after(20))
    data = json.loads(path.read_text())
    edit(data["world"])
    path.write_text(json.dumps(data))
    return path


def _set_terrain_byte(world: dict, value: int) -> None:
    import base64

    raw = bytearray(base64.b64decode(world["terrain"]))
    raw[0] = value
    world["terrain"] = base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda w: w.update(tick=2.9), "world field tick: Input should be a valid integer"),
        (lambda w: w.update(tick=-5), "world field tick: Input should be greater than or equal to 0"),
        (lambda w: w.update(tick=2**40 + 1), "world field tick: Input should be less than or equal to"),
        (lambda w: w["player"].update(keys=2**31 - 1), "player.keys: expected 0..16777216"),
        (lambda w: w["npcs"][0].update(kind="wall"), "kind"),
        (lambda w: w["npcs"][0].update(role="companion"), "npcs[0].role: 'companion' is not a role of kind"),
        (lambda w: w["npcs"][0].update(health=0, alive=True), "npcs[0].health: expected an integer 1.."),
        (lambda w: w["items"].append([1, 1, "wall"]), "not a key or treasure"),
        (lambda w: w.update(terrain="!!" + w["terrain"]), "corrupt"),
        (lambda w: w["player"].update(x="35"), "world field x: Input should be a valid integer"),
        (lambda w: w["player"].update(x=500), "player.x: expected an integer 0.."),
        (lambda w: w["player"].update(health=-100), "player.health: expected an integer 0..8, got -100"),
        (lambda w: w["npcs"][0].update(y=-1), "npcs[0].y: expected an integer 0.."),
        (
            lambda w: w["npcs"][0].update(health=10**6),
            "npcs[0].health: expected an integer 1..2, got 1000000",
        ),
        (lambda w: w["npcs"][0].update(max_health=0), "npcs[0].max_health: expected an integer 1..1000"),
        (lambda w: w["items"].append([9999, 0, "key"]), "items.x: expected an integer"),
        (lambda w: _set_terrain_byte(w, 255), "terrain: cell (0, 0) holds 255, not a terrain tile code"),
        (lambda w: w.update(version=True), "world field version: Input should be a valid integer"),
        (lambda w: w.update(difficulty=40), "difficulty: expected an integer -2..2"),
    ],
)
def test_a_save_that_breaks_the_worlds_invariants_cannot_continue(tmp_path: Path, edit, message: str) -> None:
    path = _edited_save(tmp_path, edit)
    with pytest.raises(SaveError) as err:
        read_save(path)
    assert message in str(err.value) and str(path) in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "ludoforge.save", "version": 1, "world": {"tick": Infinity}}', "not a JSON number"),
        ("[" * 200_000 + "]" * 200_000, "nested deeper"),
        ('{"format": "ludoforge.save", "version": true, "world": {}}', "version True is not supported"),
    ],
)
def test_hostile_json_in_a_save_is_a_save_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "save.json"
    path.write_text(text)
    with pytest.raises(SaveError, match=message):
        read_save(path)


def test_a_save_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "save.json")
    with pytest.raises(SaveError, match="FIFO"):
        read_save(tmp_path / "save.json")


def test_the_next_save_removes_temp_files_an_earlier_killed_save_left(tmp_path: Path) -> None:
    path = tmp_path / "save.json"
    for n in range(3):
        (tmp_path / f".save.json.orphan{n}.tmp").write_bytes(b"half a save")
    write_save(path, world_after(5))
    assert [p.name for p in tmp_path.iterdir()] == ["save.json"]


def test_a_negative_seed_cannot_continue(tmp_path: Path) -> None:
    path = _edited_save(tmp_path, lambda w: w.update(seed=-5))
    with pytest.raises(SaveError, match="world field seed"):
        read_save(path)


def test_an_enemy_wave_never_takes_a_run_past_the_npc_bound() -> None:
    """Summoned enemies join the NPCs; at the World's bound a wave summons none, so the run's save stays
    readable."""
    from engine.sim.interventions import Intervention, intervene
    from engine.sim.world import MAX_NPCS

    world = world_after(5)
    while len(world.npcs) < MAX_NPCS:  # fill the run up to the bound with clones of its first NPC
        world.npcs.append(type(world.npcs[0])(**{**world.npcs[0].__dict__, "id": len(world.npcs) + 1}))
    intervene(world, Intervention.ENEMY_WAVE)
    assert len(world.npcs) == MAX_NPCS
    world.check_state()


def test_a_guard_zone_the_level_allows_is_one_the_world_allows() -> None:
    """One table (engine.level.SPAWN_INT_PROPERTIES) bounds a spawn's zone radius for the level and the World."""
    import numpy as np

    from engine.level import Level, Spawn
    from engine.level import Semantic as S

    tiles = np.array([[1, 1, 1, 1, 1], [1, 5, 0, 0, 1], [1, 0, 0, 6, 1], [1, 1, 1, 1, 1]], dtype=np.uint8)
    level = Level(tiles=tiles, spawns=(Spawn(S.ENEMY, 2, 2, {"role": "guard", "zone_radius": 6}),)).validate()
    World(level).check_state()
