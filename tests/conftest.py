"""Shared test set-up: SDL's dummy drivers, so rendering tests run with no display."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
