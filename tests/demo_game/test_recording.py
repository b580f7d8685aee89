"""The headless recording holds a bounded number of frames whatever the run's length, spread evenly over it and
played in real time; a 300-s run's peak memory stays within 1.5x of a 30-s run's."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from demo_game.recording import Recording


def test_a_long_run_keeps_at_most_max_frames_evenly_spaced_in_real_time() -> None:
    screen = (64, 36)
    grabbed = []

    def frame(i: int) -> bytes:  # a flat frame whose colour says which one it is
        grabbed.append(i)
        return bytes([i // 256, i % 256, 0]) * (64 * 36)

    recording = Recording(screen, offered_per_second=8, size=(32, 18), max_frames=10)
    for i in range(1000):
        recording.offer(lambda i=i: frame(i))
    kept = [r * 256 + g for r, g, _ in (f.getpixel((0, 0)) for f in recording.frames)]
    assert len(kept) < 10 and recording.stride >= 100
    assert all(b - a == recording.stride for a, b in itertools.pairwise(kept))  # evenly spaced over the run
    assert kept[0] == 0 and 1000 - kept[-1] <= recording.stride
    assert recording.frame_ms == round(1000 * recording.stride / 8)  # still plays in real time
    assert len(grabbed) < 100  # of 1,000 offered: grabbed only for frames the stride keeps at the time
    animation = Image.open(io.BytesIO(recording.encode()))
    assert animation.n_frames == len(recording.frames) and animation.size == (32, 18)


def test_the_crop_is_the_screen_centre_at_twice_a_whole_screen_shrink() -> None:
    recording = Recording((1280, 720), offered_per_second=8, size=(480, 270), zoom=2.0)
    assert recording.box == (320, 180, 960, 540)


_LONG_RUN = """
import json, sys, resource
import demo_game.content as content
from demo_game.autoplay import run_autoplay
from engine.sim.player_bot import PlayerBot
from engine.sim import Action

made = content.new_world
def tough_world(seed, settings=None):  # a player who neither wins nor dies, so the run lasts its length
    world = made(seed, settings)
    world.player.invulnerable = 10**9  # (its health stays 8: the HUD draws a heart per point)
    return world
content.new_world = tough_world
PlayerBot.act = lambda self, world: Action.NOOP
summary = run_autoplay(7, float(sys.argv[1]), sys.argv[2], narrator=False)
summary["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(summary))
"""


@pytest.mark.slow
def test_a_300_second_run_peaks_within_1_5x_of_a_30_second_run(tmp_path: Path) -> None:
    runs = {}
    for seconds in (30, 300):
        out = subprocess.run(
            [sys.executable, "-c", _LONG_RUN, str(seconds), str(tmp_path / str(seconds))],
            capture_output=True,
            text=True,
            timeout=1200,
            check=True,
        ).stdout
        runs[seconds] = json.loads(out.strip().splitlines()[-1])
    assert runs[300]["game_seconds"] >= 299 and runs[300]["outcome"] == "running", runs[300]
    assert runs[300]["peak_rss_kb"] <= 1.5 * runs[30]["peak_rss_kb"], runs
    assert (
        Path(runs[300]["recording"]).stat().st_size
        <= 1.5 * Path(runs[30]["recording"]).stat().st_size + 2**20
    )


@pytest.mark.parametrize(
    "bad", [{"max_frames": float("nan")}, {"max_frames": 3}, {"offered_per_second": 1e-300}, {"size": (0, 0)}]
)
def test_a_recording_with_settings_it_cannot_honour_is_refused(bad: dict) -> None:
    settings = {"offered_per_second": 8.0, "size": (32, 18), "max_frames": 10} | bad
    with pytest.raises(ValueError, match="expected a size"):
        Recording((64, 36), **settings)
