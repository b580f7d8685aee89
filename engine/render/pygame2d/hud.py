"""Heads-up display (health, keys, treasure, seed, FPS) and the text box that will carry the narrator."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import pygame

TEXT = (236, 232, 220)
SHADOW = (0, 0, 0)
HEART_FULL = (220, 40, 50)
HEART_EMPTY = (70, 40, 45)
KEY_GOLD = (250, 205, 40)
SHIELD = (150, 210, 255)


@dataclass
class HudInfo:
    health: int
    max_health: int
    keys: int
    treasure: int
    seed: int
    fps: float
    shield: int = 0


def _heart(surface: pygame.Surface, x: int, y: int, size: int, colour: tuple[int, int, int]) -> None:
    r = size // 4
    pygame.draw.circle(surface, colour, (x + r, y + r), r)
    pygame.draw.circle(surface, colour, (x + 3 * r, y + r), r)
    pygame.draw.polygon(surface, colour, [(x, y + r), (x + size, y + r), (x + size // 2, y + size)])


class Hud:
    def __init__(self) -> None:
        self.font = pygame.font.Font(None, 30)

    def _text(self, surface: pygame.Surface, text: str, pos: tuple[int, int]) -> None:
        surface.blit(self.font.render(text, True, SHADOW), (pos[0] + 2, pos[1] + 2))
        surface.blit(self.font.render(text, True, TEXT), pos)

    def draw(self, surface: pygame.Surface, info: HudInfo) -> None:
        for i in range(info.max_health):
            _heart(surface, 16 + i * 30, 14, 24, HEART_FULL if i < info.health else HEART_EMPTY)
        if info.shield:  # the narrator's encouragement: a ring after the hearts
            pygame.draw.circle(surface, SHIELD, (16 + info.max_health * 30 + 12, 26), 11, 3)
        y = 48
        pygame.draw.circle(surface, KEY_GOLD, (26, y + 10), 8, 3)
        pygame.draw.rect(surface, KEY_GOLD, (33, y + 8, 16, 4))
        self._text(surface, f"x {info.keys}", (56, y))
        pygame.draw.polygon(surface, (90, 170, 255), [(110, y + 10), (120, y), (130, y + 10), (120, y + 20)])
        self._text(surface, f"x {info.treasure}", (138, y))
        label = f"seed {info.seed}   {info.fps:5.1f} FPS"
        w = self.font.size(label)[0]
        self._text(surface, label, (surface.get_width() - w - 16, 14))


class TextBox:
    """Recent messages in a panel at the bottom of the screen; each fades out after `seconds`. `font_path`
    is a font file with the glyphs the text needs (pygame's default font has no Chinese)."""

    def __init__(self, max_lines: int = 3, seconds: float = 4.0, font_path: str | None = None) -> None:
        self.font = pygame.font.Font(font_path, 28 if font_path else 32)
        self.seconds = seconds
        self.messages: deque[tuple[str, float]] = deque(maxlen=max_lines)
        self._now = 0.0

    def push(self, text: str) -> None:
        self.messages.append((text, self._now))

    def update(self, now: float) -> None:
        self._now = now
        while self.messages and now - self.messages[0][1] > self.seconds:
            self.messages.popleft()

    def wrap(self, text: str, width: int) -> list[str]:
        """Lines no wider than `width`: broken at spaces, or between any two characters in text written
        without spaces (Chinese)."""
        spaced = " " in text.strip()
        lines, line = [], ""
        for word in text.split() if spaced else list(text.strip()):
            trial = f"{line} {word}".strip() if spaced else line + word
            if self.font.size(trial)[0] > width and line:
                lines.append(line)
                line = word
            else:
                line = trial
        return [*lines, line] if line else lines

    def draw(self, surface: pygame.Surface) -> None:
        if not self.messages:
            return
        sw, sh = surface.get_size()
        lines = [ln for text, _ in self.messages for ln in self.wrap(text, sw - 120)]
        height = 20 + 34 * len(lines)
        panel = pygame.Surface((sw - 80, height), pygame.SRCALPHA)
        panel.fill((12, 10, 20, 200))
        pygame.draw.rect(panel, (200, 180, 120, 255), panel.get_rect(), 2, border_radius=8)
        surface.blit(panel, (40, sh - height - 20))
        for i, line in enumerate(lines):
            surface.blit(self.font.render(line, True, TEXT), (60, sh - height - 10 + 34 * i))
