"""Procedural content for ludoforge: levels, dungeons, textures and sprites. Never imports pygame."""
