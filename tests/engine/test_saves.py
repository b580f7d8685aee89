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
