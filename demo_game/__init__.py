"""The playable demo: a roguelite dungeon crawl wiring procgen content and NPC policies into engine.app."""
