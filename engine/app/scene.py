"""Scenes and the main loop: scenes are classes switched by `game.show(scene)`; the sim runs on a fixed
timestep accumulator and rendering interpolates between ticks."""

from __future__ import annotations

import pygame

MAX_FRAME_SECONDS = 0.25  # after a stall, catch up at most this much sim time instead of spiralling


class Scene:
    """Override what you need. `fixed_dt` is the length of one `on_fixed_update` step in seconds."""

    fixed_dt: float = 1.0 / 60.0
    game: Game

    def on_enter(self) -> None: ...

    def on_event(self, event: pygame.event.Event) -> None: ...

    def on_fixed_update(self, dt: float) -> None: ...

    def on_draw(self, surface: pygame.Surface, alpha: float) -> None: ...


class Game:
    def __init__(
        self, size: tuple[int, int] = (1280, 720), title: str = "ludoforge", fps_cap: int = 60
    ) -> None:
        pygame.init()
        self.screen = pygame.display.set_mode(size)
        pygame.display.set_caption(title)
        self.clock = pygame.time.Clock()
        self.fps_cap = fps_cap
        self.scene: Scene | None = None
        self.running = True

    def show(self, scene: Scene) -> None:
        scene.game = self
        self.scene = scene
        scene.on_enter()

    def quit(self) -> None:
        self.running = False

    @property
    def fps(self) -> float:
        return self.clock.get_fps()

    def run(self, first: Scene) -> None:
        self.show(first)
        accumulator = 0.0
        while self.running and self.scene is not None:
            accumulator += min(self.clock.tick(self.fps_cap) / 1000.0, MAX_FRAME_SECONDS)
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    self.running = False
                else:
                    self.scene.on_event(event)
            scene = self.scene
            while accumulator >= scene.fixed_dt and scene is self.scene:
                scene.on_fixed_update(scene.fixed_dt)
                accumulator -= scene.fixed_dt
            if scene is not self.scene:
                accumulator = 0.0  # a new scene starts its own clock
                continue
            scene.on_draw(self.screen, accumulator / scene.fixed_dt)
            pygame.display.flip()
        pygame.quit()
