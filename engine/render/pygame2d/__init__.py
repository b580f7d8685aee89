"""The pygame 2-D renderer: tile atlas, camera, sprites, HUD and text box. It only reads World state."""

from engine.render.pygame2d.atlas import Animation, TileAtlas
from engine.render.pygame2d.camera import Camera
from engine.render.pygame2d.hud import Hud, HudInfo, TextBox
from engine.render.pygame2d.renderer import Renderer

__all__ = ["Animation", "Camera", "Hud", "HudInfo", "Renderer", "TextBox", "TileAtlas"]
