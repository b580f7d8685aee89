"""Headless autoplay: the scripted player bot plays a seeded run, with the narrator watching; writes a recording, a
JSON summary and the narrator's decision log."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from demo_game.recording import Recording
from engine.atomic import atomic_write_bytes, atomic_write_json

MAX_SECONDS = 600
FRAMES_PER_TICK = 4  # render at 4x the sim rate (32 FPS of game time), as the interactive game would
GIF_EVERY = FRAMES_PER_TICK  # at most one GIF frame per tick (8 FPS); demo_game.recording thins longer runs
END_HOLD_TICKS = 8  # one more second of frames after the outcome, to show it


def use_headless_sdl() -> None:
    """Point SDL at its dummy video and audio drivers (must happen before pygame.display.init)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def run_autoplay(
    seed: int,
    seconds: float,
    out_dir: str | Path,
    size: tuple[int, int] = (1280, 720),
    language: str = "en",
    narrator: bool = True,
) -> dict[str, Any]:
    """Play `seed` for at most `seconds` of game time with the narrator (unless `narrator` is False) speaking
    `language`. Writes out_dir/demo.webp (demo_game.recording; .gif without WebP support), out_dir/summary.json and out_dir/narrator_log.json."""
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds: expected 0 < seconds <= {MAX_SECONDS}, got {seconds}")
    use_headless_sdl()
    import pygame
    from tqdm import tqdm

    from demo_game.content import new_world, npc_policies, seed_atlas
    from demo_game.messages import message_for
    from demo_game.narration import GameNarrator, Settings, narrator_policy
    from engine.render.pygame2d import Renderer
    from engine.sim.player_bot import PlayerBot
    from engine.sim.world import TICK_SECONDS, TICKS_PER_SECOND, Outcome

    out_dir = Path(out_dir)
    settings = Settings(language=language, narrator=narrator)
    pygame.init()
    try:
        screen = pygame.display.set_mode(size)
        world = new_world(seed)
        npc_problem = npc_policies()[1]
        bot = PlayerBot()
        art_start = time.perf_counter()
        atlas, art_problem = seed_atlas(seed)
        art_seconds = time.perf_counter() - art_start
        renderer = Renderer(size, atlas=atlas, text_font=settings.font)
        narration, narrator_problem = None, None
        if settings.narrator:
            policy, narrator_problem = narrator_policy(seed)
            narration = GameNarrator(world, settings.language, policy)
        # the HUD says what fell back, as the game's does
        for note in (art_problem, narrator_problem, npc_problem):
            if note:
                renderer.textbox.push(note)
        lines: list[str] = []
        recording = Recording(size, TICKS_PER_SECOND * FRAMES_PER_TICK / GIF_EVERY)
        event_counts: dict[str, int] = {}
        frames, render_seconds, fps = 0, 0.0, 0.0
        wall_start = time.perf_counter()
        max_ticks = int(seconds * TICKS_PER_SECOND)
        hold = END_HOLD_TICKS
        for tick in tqdm(range(max_ticks), desc=f"autoplay seed {seed}", unit="tick", leave=False):
            if world.outcome is Outcome.RUNNING:
                events = world.step(bot.act(world))
                for event in events:
                    event_counts[type(event).__name__] = event_counts.get(type(event).__name__, 0) + 1
                    if narration is None and (text := message_for(event)) is not None:
                        renderer.textbox.push(text)
                for line in narration.on_tick(events) if narration is not None else []:
                    renderer.textbox.push(line)
                    lines.append(line)
            else:
                hold -= 1
            for k in range(FRAMES_PER_TICK):
                start = time.perf_counter()
                renderer.draw(
                    screen, world, k / FRAMES_PER_TICK, (tick + k / FRAMES_PER_TICK) * TICK_SECONDS, fps
                )
                render_seconds += time.perf_counter() - start
                frames += 1
                fps = frames / render_seconds
                if (tick * FRAMES_PER_TICK + k) % GIF_EVERY == 0:
                    recording.offer(lambda: pygame.image.tobytes(screen, "RGB"))
            if hold <= 0:
                break
    finally:
        pygame.quit()

    recording_path = out_dir / f"demo{recording.suffix}"
    atomic_write_bytes(recording_path, recording.encode())
    if narration is not None:
        narration.save_log(out_dir / "narrator_log.json")
    p = world.player
    summary = {
        "seed": seed,
        "outcome": world.outcome.value,
        "ticks": world.tick,
        "game_seconds": round(world.tick * TICK_SECONDS, 3),
        "frames": frames,
        "fps": round(fps, 1),
        "resolution": list(size),
        "wall_seconds": round(time.perf_counter() - wall_start, 2),
        "health": p.health,
        "keys": p.keys,
        "treasure": p.treasure,
        "events": dict(sorted(event_counts.items())),
        "recording": str(recording_path),
        "recording_frames": len(recording.frames),
        "recording_frame_ms": recording.frame_ms,
        "tileset": "generated" if atlas.variants else "stock",
        "cast": "generated" if atlas.cast else "stock",
        "art_problems": art_problem,
        "npc_policies": "trained" if npc_problem is None else "scripted",
        "npc_problems": npc_problem,
        "art_seconds": round(art_seconds, 2),
        "narrator": None
        if narration is None
        else {
            "language": settings.language,
            "policy": getattr(narration.policy, "name", "unknown"),
            "problems": narrator_problem,
            "decisions": len(narration.log),
            "interventions": len(narration.interventions()),
            "lines": lines,
            "log": str(out_dir / "narrator_log.json"),
        },
    }
    atomic_write_json(out_dir / "summary.json", summary, indent=2)
    return summary
