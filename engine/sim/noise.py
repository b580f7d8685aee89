"""Deterministic noise: the one splitmix64 that the World, the scripted players, the episode draw and the compiled
batched env all use. numba compiles these same function objects, so they are plain uint64 arithmetic.

Arguments are uint64 numpy arrays or numba uint64 scalars. Plain numpy scalars would work but warn on the
wrap-around the hash relies on, so Python callers pass arrays (`tick_noise_int` does it for Python ints).
"""

from __future__ import annotations

import numpy as np

MASK64 = 0xFFFF_FFFF_FFFF_FFFF


def splitmix64(x):
    """Vigna's splitmix64 step: x plus the golden gamma, then the finaliser."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def tick_key(seed, tick, salt):
    """The input of one actor's noise at one tick of a run; the actor's salt is an NPC's id, or the scripted
    player's constant. Its noise is splitmix64(tick_key(...)) (numba cannot call a plain function from a
    compiled one, so callers compose the two)."""
    return (seed * np.uint64(0x100000001B3)) ^ (tick * np.uint64(0x9E3779B1)) ^ salt


def tick_noise_int(seed: int, tick: int, salt: int) -> int:
    """splitmix64(tick_key(seed, tick, salt)) for Python ints, each taken modulo 2**64."""
    u = np.array([seed & MASK64, tick & MASK64, salt & MASK64], np.uint64)
    return int(splitmix64(tick_key(u[:1], u[1:2], u[2:]))[0])
