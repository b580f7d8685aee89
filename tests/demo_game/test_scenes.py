"""The demo's scenes, driven by key events: new game from a typed seed, pause, save, continue, corrupt save."""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest

from demo_game.scenes import EndScene, PauseScene, PlayScene, TitleScene
from engine.app.scene import Game
from engine.sim import Outcome


def key(scene, k: int, unicode: str = "") -> None:
    scene.on_event(pygame.event.Event(pygame.KEYDOWN, key=k, unicode=unicode, mod=0))


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
    from engine.sim.player_bot import PlayerBot

    play = PlayScene(new_world(7), tmp_path / "save.json")
    game.show(play)
    bot = PlayerBot()
    while game.scene is play and play.world.tick < 2000:
        play.input._queued = bot.act(play.world)
        play.on_fixed_update(play.fixed_dt)
    assert isinstance(game.scene, EndScene) and play.world.outcome is Outcome.WON
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
    from engine.sim.player_bot import PlayerBot

    play = PlayScene(new_world(11), tmp_path / "save.json", Settings(language="zh"))
    game.show(play)
    bot = PlayerBot()
    while game.scene is play and play.world.tick < 3000:
        play.input._queued = bot.act(play.world)
        play.on_fixed_update(play.fixed_dt)
    end = game.scene
    assert isinstance(end, EndScene) and end.narrator is not None
    log = json.loads((tmp_path / "narrator_log.json").read_text(encoding="utf-8"))
    assert log["language"] == "zh" and len(log["decisions"]) == play.world.tick // 16
    key(end, pygame.K_l)
    assert isinstance(game.scene, NarratorLogScene)
    game.scene.on_draw(game.screen, 0.0)
    key(game.scene, pygame.K_DOWN)
    key(game.scene, pygame.K_ESCAPE)
    assert game.scene is end
