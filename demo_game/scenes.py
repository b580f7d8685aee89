"""The demo's scenes: title (seed field, new game, continue, narrator settings), play, pause, game over and
victory, and the narrator's log."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import numpy as np
import pygame

from demo_game.content import MAX_SEED, new_world, npc_policies, seed_atlas
from demo_game.messages import message_for
from demo_game.narration import (
    LANGUAGE_NAMES,
    ZH_FONT,
    GameNarrator,
    Settings,
    log_path,
    narrator_policy,
    player_model,
    settings_path,
)
from engine.app.input import ActionInput
from engine.app.saves import default_save_path, read_save, write_save
from engine.app.scene import Scene
from engine.errors import SaveError
from engine.render.pygame2d import Renderer
from engine.sim.world import TICK_SECONDS, Outcome, World

TITLE = (250, 214, 120)
TEXT = (230, 226, 214)
DIM = (120, 116, 110)
WARN = (240, 120, 100)
BACKGROUND = (14, 12, 22)


def _centred(surface: pygame.Surface, font: pygame.font.Font, text: str, y: int, colour=TEXT) -> None:
    img = font.render(text, True, colour)
    surface.blit(img, ((surface.get_width() - img.get_width()) // 2, y))


class MenuScene(Scene):
    """Shared look of the text-only screens."""

    def on_enter(self) -> None:
        self.big = pygame.font.Font(None, 96)
        self.font = pygame.font.Font(None, 40)


class TitleScene(MenuScene):
    def __init__(self, save_path: Path | None = None, message: str = "") -> None:
        self.save_path = save_path or default_save_path()
        self.seed_text = str(random.randrange(100000))
        self.message = message
        try:
            self.settings = Settings.load(settings_path(self.save_path))
        except SaveError as e:
            self.settings, self.message = Settings(), f"Settings reset: {e}"

    def on_enter(self) -> None:
        super().on_enter()
        self.label_font = pygame.font.Font(str(ZH_FONT), 34)  # the language's own name may be Chinese

    def _change(self, settings: Settings) -> None:
        self.settings = settings
        try:
            settings.save(settings_path(self.save_path))
        except OSError as e:
            self.message = f"Could not save the settings: {e}"

    def on_event(self, event: pygame.event.Event) -> None:
        if event.type != pygame.KEYDOWN:
            return
        if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            seed = int(self.seed_text or "0")
            self._loading(f"Generating seed {seed}: dungeon rooms, tileset, cast ...")
            self.game.show(PlayScene(new_world(seed), self.save_path, self.settings))
        elif event.key == pygame.K_BACKSPACE:
            self.seed_text = self.seed_text[:-1]
        elif event.key == pygame.K_c:
            try:
                world = read_save(self.save_path, npc_policies()[0])
                self.game.show(PlayScene(world, self.save_path, self.settings))
            except SaveError as e:
                self.message = f"Cannot continue: {e}"
        elif event.key == pygame.K_ESCAPE:
            self.game.quit()
        elif event.key == pygame.K_l:
            other = "zh" if self.settings.language == "en" else "en"
            self._change(Settings(language=other, narrator=self.settings.narrator))
        elif event.key == pygame.K_n:
            self._change(Settings(language=self.settings.language, narrator=not self.settings.narrator))
        elif event.unicode.isdigit() and int(self.seed_text + event.unicode) <= MAX_SEED:
            self.seed_text = (self.seed_text + event.unicode).lstrip("0") or "0"

    def _loading(self, text: str) -> None:
        """Show a progress line at once: generation takes a moment and the window should say why."""
        surface = self.game.screen
        surface.fill(BACKGROUND)
        _centred(surface, self.big, "ludoforge", 120, TITLE)
        _centred(surface, self.font, text, 320)
        pygame.display.flip()

    def on_draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(BACKGROUND)
        _centred(surface, self.big, "ludoforge", 120, TITLE)
        _centred(surface, self.font, f"Seed: {self.seed_text}_", 280)
        _centred(surface, self.font, "Type a seed, Enter: new game", 350)
        has_save = self.save_path.exists()
        _centred(surface, self.font, "C: continue saved run", 400, TEXT if has_save else DIM)
        _centred(surface, self.font, "Esc: quit", 450)
        narrator = "on" if self.settings.narrator else "off"
        language = LANGUAGE_NAMES[self.settings.language]
        _centred(surface, self.label_font, f"N: narrator {narrator}    L: language {language}", 505)
        _centred(surface, self.font, "In game: WASD/arrows move, E interact, Esc pause", 560, DIM)
        if self.message:
            small = pygame.font.Font(None, 28)
            _centred(surface, small, self.message[:110], 620, WARN)


class PlayScene(Scene):
    fixed_dt = TICK_SECONDS

    def __init__(
        self,
        world: World,
        save_path: Path,
        settings: Settings | None = None,
        belief: np.ndarray | None = None,
    ) -> None:
        """`belief`: what the player model learnt on earlier floors (None: a first floor)."""
        self.world = world
        self.save_path = save_path
        self.settings = settings or Settings()
        self.input = ActionInput()
        self.renderer: Renderer | None = None
        self.time_s = world.tick * TICK_SECONDS
        self.narrator: GameNarrator | None = None
        self.narrator_problem: str | None = None
        if self.settings.narrator:
            policy, self.narrator_problem = narrator_policy(world.seed)
            self.narrator = GameNarrator(world, self.settings.language, policy, player_model(belief))

    def on_enter(self) -> None:
        if self.renderer is None:
            atlas, problem = seed_atlas(self.world.seed)
            self.renderer = Renderer(self.game.screen.get_size(), atlas=atlas, text_font=self.settings.font)
            for note in (problem, self.narrator_problem, npc_policies()[1]):
                if note:
                    self.renderer.textbox.push(note)
        self.input = ActionInput()  # forget keys held while paused

    def on_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.game.show(PauseScene(self))
        else:
            self.input.on_event(event)

    def on_fixed_update(self, dt: float) -> None:
        assert self.renderer is not None
        events = self.world.step(self.input.next_action())
        if self.narrator is not None:
            for line in self.narrator.on_tick(events):
                self.renderer.textbox.push(line)
        else:  # without the narrator, the box tells what happened in plain words
            for event in events:
                if (text := message_for(event)) is not None:
                    self.renderer.textbox.push(text)
        self.time_s += dt
        if self.world.outcome is not Outcome.RUNNING:
            if self.narrator is not None:
                # the file is a convenience: the end screen lists the log even when it cannot be written
                with contextlib.suppress(OSError):
                    self.narrator.save_log(log_path(self.save_path))
            self.game.show(EndScene(self.world, self.save_path, self.narrator, self.settings))

    def on_draw(self, surface: pygame.Surface, alpha: float) -> None:
        assert self.renderer is not None
        self.renderer.draw(surface, self.world, alpha, self.time_s + alpha * TICK_SECONDS, self.game.fps)


class PauseScene(MenuScene):
    def __init__(self, play: PlayScene) -> None:
        self.play = play
        self.message = ""

    def on_event(self, event: pygame.event.Event) -> None:
        if event.type != pygame.KEYDOWN:
            return
        if event.key == pygame.K_ESCAPE:
            self.game.show(self.play)
        elif event.key == pygame.K_s:
            try:
                write_save(self.play.save_path, self.play.world)
            except OSError as e:
                self.message = f"Could not save: {e}"
                return
            self.game.show(TitleScene(self.play.save_path, message=f"Saved to {self.play.save_path}"))
        elif event.key == pygame.K_q:
            self.game.show(TitleScene(self.play.save_path))

    def on_draw(self, surface: pygame.Surface, alpha: float) -> None:
        self.play.on_draw(surface, 0.0)
        shade = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 160))
        surface.blit(shade, (0, 0))
        _centred(surface, self.big, "Paused", 200, TITLE)
        _centred(surface, self.font, "Esc: resume    S: save and quit    Q: quit without saving", 340)
        if self.message:
            _centred(surface, self.font, self.message, 420, WARN)


class EndScene(MenuScene):
    """Victory or game over, with the run's numbers; L shows the narrator's log."""

    def __init__(
        self,
        world: World,
        save_path: Path,
        narrator: GameNarrator | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.world = world
        self.save_path = save_path
        self.narrator = narrator
        self.settings = settings or Settings()

    def next_floor(self) -> PlayScene:
        """The next floor: a new seed, its dungeon built to what the narrator's player model learnt (the
        default floor without a narrator), the model's belief carried over."""
        seed = (self.world.seed + 1) % (MAX_SEED + 1)
        if self.narrator is None:
            return PlayScene(new_world(seed), self.save_path, self.settings)
        settings = self.narrator.next_floor_settings()
        world = new_world(seed, settings)
        return PlayScene(world, self.save_path, self.settings, belief=self.narrator.belief())

    def on_event(self, event: pygame.event.Event) -> None:
        won = self.world.outcome is Outcome.WON
        if event.type == pygame.KEYDOWN and event.key == pygame.K_l and self.narrator is not None:
            self.game.show(NarratorLogScene(self))
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_f and won:
            self.game.show(self.next_floor())
        elif event.type == pygame.KEYDOWN and event.key in (
            pygame.K_RETURN,
            pygame.K_KP_ENTER,
            pygame.K_ESCAPE,
        ):
            self.game.show(TitleScene(self.save_path))

    def on_draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(BACKGROUND)
        won = self.world.outcome is Outcome.WON
        _centred(surface, self.big, "Victory!" if won else "Game over", 160, TITLE if won else WARN)
        p = self.world.player
        stats = f"seed {self.world.seed}   {self.world.tick * TICK_SECONDS:.0f} s   treasure {p.treasure}"
        _centred(surface, self.font, stats, 320)
        if self.narrator is not None:
            said = len(self.narrator.interventions())
            _centred(surface, self.font, f"The narrator intervened {said} times.  L: its log", 380)
        if won:
            _centred(surface, self.font, "F: next floor, built for how you play", 440)
        _centred(surface, self.font, "Enter: back to the title", 500, DIM)


class NarratorLogScene(MenuScene):
    """The narrator's decisions of the run just ended, newest last; arrows scroll, Esc goes back."""

    ROWS = 14

    def __init__(self, end: EndScene) -> None:
        assert end.narrator is not None
        self.end = end
        self.entries = end.narrator.interventions()
        self.top = max(0, len(self.entries) - self.ROWS)

    def on_enter(self) -> None:
        super().on_enter()
        self.small = pygame.font.Font(str(ZH_FONT), 22)

    def on_event(self, event: pygame.event.Event) -> None:
        if event.type != pygame.KEYDOWN:
            return
        if event.key in (pygame.K_ESCAPE, pygame.K_RETURN, pygame.K_KP_ENTER):
            self.game.show(self.end)
        elif event.key in (pygame.K_UP, pygame.K_w):
            self.top = max(0, self.top - 1)
        elif event.key in (pygame.K_DOWN, pygame.K_s):
            self.top = min(max(0, len(self.entries) - self.ROWS), self.top + 1)

    def on_draw(self, surface: pygame.Surface, alpha: float) -> None:
        surface.fill(BACKGROUND)
        _centred(surface, self.font, "The narrator's decisions", 30, TITLE)
        if not self.entries:
            _centred(surface, self.font, "It stayed silent the whole run.", 200, DIM)
        for row, entry in enumerate(self.entries[self.top : self.top + self.ROWS]):
            mark = "" if entry["applied"] else "  (changed nothing)"
            head = f"{entry['seconds']:6.1f} s  {entry['choice']}{mark}  [{', '.join(entry['beats'])}]"
            y = 90 + row * 42
            surface.blit(self.small.render(head, True, TEXT if entry["applied"] else DIM), (40, y))
            line = (entry["line"] or "")[:110]
            surface.blit(self.small.render(line, True, DIM), (60, y + 20))
        _centred(surface, self.font, "Up/Down: scroll    Esc: back", surface.get_height() - 50, DIM)
