"""The demo's scenes, driven by key events: new game from a typed seed, pause, save, continue, corrupt save."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from demo_game.scenes import EndScene, PauseScene, PlayScene, TitleScene
from engine.app.scene import Game
from engine.sim import Outcome


def key(scene, k: int, unicode: str = "") -> None:
    scene.on_event(pygame.event.Event(pygame.KEYDOWN, key=k, unicode=unicode, mod=0))


def bot_plays_to_the_end(game: Game, play: PlayScene, max_ticks: int = 3000):
    """The scripted bot plays `play` until the game leaves it (the run ended); returns the scene after it."""
    from engine.sim.player_bot import PlayerBot

    game.show(play)
    bot = PlayerBot()
    while game.scene is play and play.world.tick < max_ticks:
        play.input._queued = bot.act(play.world)
        play.on_fixed_update(play.fixed_dt)
    return game.scene


@pytest.fixture
def game():
    g = Game()
    yield g
    pygame.quit()


def test_new_game_pause_save_and_continue(game: Game, tmp_path: Path) -> None:
    save = tmp_path / "save.json"
    game.show(TitleScene(save))
    for _ in range(8):
        key(game.scene, pygame.K_BACKSPACE)
    for digit in "42":
        key(game.scene, getattr(pygame, f"K_{digit}"), digit)
    game.scene.on_draw(game.screen, 0.0)
    key(game.scene, pygame.K_RETURN)
    play = game.scene
    assert isinstance(play, PlayScene) and play.world.seed == 42

    key(play, pygame.K_RIGHT)
    for _ in range(6):
        play.on_fixed_update(play.fixed_dt)
    play.on_draw(game.screen, 0.5)
    assert play.world.tick == 6
    hash_at_save = play.world.state_hash()

    key(play, pygame.K_ESCAPE)
    assert isinstance(game.scene, PauseScene)
    game.scene.on_draw(game.screen, 0.0)
    key(game.scene, pygame.K_s)
    assert isinstance(game.scene, TitleScene) and save.exists() and "Saved" in game.scene.message

    key(game.scene, pygame.K_c)
    assert isinstance(game.scene, PlayScene) and game.scene.world.state_hash() == hash_at_save


def test_corrupt_save_shows_a_message_on_the_title(game: Game, tmp_path: Path) -> None:
    save = tmp_path / "save.json"
    save.write_text('{"format": "ludoforge.save", "version": 1, "world": {"ver')
    game.show(TitleScene(save))
    key(game.scene, pygame.K_c)
    assert isinstance(game.scene, TitleScene)
    assert "Cannot continue" in game.scene.message and "corrupt" in game.scene.message
    game.scene.on_draw(game.screen, 0.0)


def test_finished_run_goes_to_the_end_scene(game: Game, tmp_path: Path) -> None:
    from demo_game.content import new_world

    play = PlayScene(new_world(7), tmp_path / "save.json")
    assert isinstance(bot_plays_to_the_end(game, play), EndScene) and play.world.outcome is Outcome.WON
    game.scene.on_draw(game.screen, 0.0)
    key(game.scene, pygame.K_RETURN)
    assert isinstance(game.scene, TitleScene)


def test_narrator_settings_are_toggled_on_the_title_and_kept(game: Game, tmp_path: Path) -> None:
    from demo_game.narration import Settings, settings_path

    save = tmp_path / "save.json"
    game.show(TitleScene(save))
    assert game.scene.settings == Settings()  # English, narrator on
    key(game.scene, pygame.K_l)
    key(game.scene, pygame.K_n)
    game.scene.on_draw(game.screen, 0.0)  # the language's name is drawn in Chinese
    assert Settings.load(settings_path(save)) == Settings(language="zh", narrator=False)
    game.show(TitleScene(save))
    assert game.scene.settings == Settings(language="zh", narrator=False)
    key(game.scene, pygame.K_RETURN)
    assert isinstance(game.scene, PlayScene) and game.scene.narrator is None


def test_broken_settings_fall_back_to_the_defaults_with_a_message(game: Game, tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"language": "fr", "narrator": true}')
    game.show(TitleScene(tmp_path / "save.json"))
    assert game.scene.settings.language == "en"
    assert "settings.json" in game.scene.message and "language" in game.scene.message


def test_the_narrator_log_is_shown_after_a_run_and_saved(game: Game, tmp_path: Path) -> None:
    import json

    from demo_game.content import new_world
    from demo_game.narration import Settings
    from demo_game.scenes import NarratorLogScene

    play = PlayScene(new_world(11), tmp_path / "save.json", Settings(language="zh"))
    end = bot_plays_to_the_end(game, play)
    assert isinstance(end, EndScene) and end.narrator is not None
    log = json.loads((tmp_path / "narrator_log.json").read_text(encoding="utf-8"))
    assert log["language"] == "zh" and len(log["decisions"]) == play.world.tick // 16
    key(end, pygame.K_l)
    assert isinstance(game.scene, NarratorLogScene)
    game.scene.on_draw(game.screen, 0.0)
    key(game.scene, pygame.K_DOWN)
    key(game.scene, pygame.K_ESCAPE)
    assert game.scene is end
    # the log rounds each entry to 3 places
    assert log["belief"] and abs(sum(log["belief"].values()) - 1.0) <= 5 * 0.0005


def test_after_a_victory_the_next_floor_is_built_for_the_player(game: Game, tmp_path: Path) -> None:
    from demo_game.content import new_world

    play = PlayScene(new_world(7), tmp_path / "save.json")
    end = bot_plays_to_the_end(game, play)
    assert isinstance(end, EndScene) and play.world.outcome is Outcome.WON
    expected = end.narrator.next_floor_settings()
    belief = end.narrator.belief()
    key(end, pygame.K_f)
    floor = game.scene
    assert isinstance(floor, PlayScene) and floor.world.seed == 8
    assert floor.world.level.tiles.shape == new_world(8, expected).level.tiles.shape
    assert np.allclose(floor.narrator.belief(), belief)
