"""A camera that keeps the followed point (the player) exactly at the centre of the view."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Camera:
    view_w: int
    view_h: int
    x: float = 0.0  # world pixel at the view's top-left
    y: float = 0.0

    def follow(self, px: float, py: float) -> None:
        """Centre the view on world pixel (px, py). No clamping: beyond the level is void, drawn dark."""
        self.x = px - self.view_w / 2
        self.y = py - self.view_h / 2

    def to_screen(self, wx: float, wy: float) -> tuple[int, int]:
        return round(wx - self.x), round(wy - self.y)
