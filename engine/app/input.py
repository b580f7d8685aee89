"""Keyboard to sim actions: WASD or arrows move, E interacts. Taps between ticks are never lost."""

from __future__ import annotations

import pygame

from engine.sim.policy import Action

MOVE_KEYS: dict[int, Action] = {
    pygame.K_w: Action.UP,
    pygame.K_UP: Action.UP,
    pygame.K_s: Action.DOWN,
    pygame.K_DOWN: Action.DOWN,
    pygame.K_a: Action.LEFT,
    pygame.K_LEFT: Action.LEFT,
    pygame.K_d: Action.RIGHT,
    pygame.K_RIGHT: Action.RIGHT,
}
INTERACT_KEYS = (pygame.K_e,)


class ActionInput:
    """Turns key events into one Action per sim tick: a key pressed since the last tick wins, else a held one."""

    def __init__(self) -> None:
        self._queued: Action | None = None
        self._held: list[Action] = []

    def on_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key in MOVE_KEYS:
                action = MOVE_KEYS[event.key]
                self._queued = action
                self._held.append(action)
            elif event.key in INTERACT_KEYS:
                self._queued = Action.INTERACT
        elif event.type == pygame.KEYUP and event.key in MOVE_KEYS:
            action = MOVE_KEYS[event.key]
            if action in self._held:
                self._held.remove(action)

    def next_action(self) -> Action:
        action = self._queued or (self._held[-1] if self._held else Action.NOOP)
        self._queued = None
        return action
