"""kill -9 during saves: 25 kills of a process that saves in a loop. After each kill the save reads back as a
whole run (never a part of one), and the next save leaves no temp file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from engine.app.saves import read_save, write_save

KILLS = 25

_SAVER = """
import sys
from pathlib import Path
from engine.app.saves import write_save
from engine.formats import read_level
from engine.sim import Action, World

world = World(read_level(sys.argv[2]), seed=4)  # the engine alone: no torch to import 25 times
path = Path(sys.argv[1])
print("ready", flush=True)
while True:  # every save is a different run state, so a torn one would not read back
    world.step(Action(world.tick % 5))
    write_save(path, world)
"""


def test_kill_9_never_loses_a_save_and_the_next_save_cleans_up(tmp_path: Path) -> None:
    from engine.formats import write_level
    from procgen.levels import generate_dungeon

    level = tmp_path / "level" / "dungeon.json"
    level.parent.mkdir()
    write_level(generate_dungeon(4), level)
    path = tmp_path / "save.json"
    rng = np.random.default_rng(2026)
    ticks = []
    for _ in range(KILLS):
        saver = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(path), str(level)],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        assert saver.stdout is not None and saver.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.05, 0.4)))  # somewhere inside a write, or between two
        os.kill(saver.pid, signal.SIGKILL)
        saver.wait()
        world = read_save(path)  # raises if the kill left a torn or empty save
        ticks.append(world.tick)
    assert len(set(ticks)) > 1  # the saver was really saving when it was killed
    orphans = list(tmp_path.glob(".save.json.*.tmp"))
    write_save(path, world)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["level", "save.json"], orphans
