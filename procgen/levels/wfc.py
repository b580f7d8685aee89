"""WaveFunctionCollapse, overlapping model (Gumin 2016), compact numpy version: the non-neural baseline.

Patterns are the N×N windows of the training examples, weighted by how often they occur. The output is a grid
of pattern positions; neighbouring positions must agree where their windows overlap. Each step collapses the
position with the least entropy to one pattern (drawn by weight) and propagates the constraint; a contradiction
restarts the level. N = 2 keeps the pattern table small enough to precompute every pairwise agreement.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from engine.errors import LudoforgeError

MAX_ATTEMPTS = 20
DIRECTIONS = ((0, 1), (1, 0), (0, -1), (-1, 0))  # (dy, dx)


class WFCError(LudoforgeError, RuntimeError):
    """Every attempt ran into a contradiction."""


class OverlappingWFC:
    def __init__(self, examples: np.ndarray, n: int = 2) -> None:
        windows = np.lib.stride_tricks.sliding_window_view(examples, (n, n), axis=(1, 2)).reshape(-1, n, n)
        self.patterns, counts = np.unique(windows, axis=0, return_counts=True)
        self.weights = counts.astype(np.float64)
        self.n = n
        p = self.patterns
        # agree[d][a, b]: pattern b may sit one step in direction d from pattern a.
        self.agree = []
        for dy, dx in DIRECTIONS:
            a = p[:, max(dy, 0) : n + min(dy, 0), max(dx, 0) : n + min(dx, 0)]
            b = p[:, max(-dy, 0) : n + min(-dy, 0), max(-dx, 0) : n + min(-dx, 0)]
            self.agree.append((a.reshape(len(p), 1, -1) == b.reshape(1, len(p), -1)).all(-1))

    def generate(self, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        """One (height, width) grid of semantic codes."""
        for _ in range(MAX_ATTEMPTS):
            out = self._attempt(height - self.n + 1, width - self.n + 1, rng)
            if out is not None:
                return self._render(out, height, width)
        raise WFCError(f"no {width}x{height} level without contradiction in {MAX_ATTEMPTS} attempts")

    def _attempt(self, gh: int, gw: int, rng: np.random.Generator) -> np.ndarray | None:
        wave = np.ones((gh, gw, len(self.patterns)), dtype=bool)
        log_w = np.log(self.weights)
        while True:
            counts = wave.sum(-1)
            if (counts == 0).any():
                return None
            if (counts == 1).all():
                return wave.argmax(-1)
            # Shannon entropy of each undecided position, with a little noise to break ties.
            w = wave * self.weights
            total = w.sum(-1)
            entropy = np.log(total) - (w * log_w).sum(-1) / total
            entropy[counts == 1] = np.inf
            entropy += rng.random(entropy.shape) * 1e-6
            y, x = np.unravel_index(int(np.argmin(entropy)), entropy.shape)
            options = np.nonzero(wave[y, x])[0]
            probs = self.weights[options] / self.weights[options].sum()
            wave[y, x] = False
            wave[y, x, rng.choice(options, p=probs)] = True
            if not self._propagate(wave, y, x):
                return None

    def _propagate(self, wave: np.ndarray, y: int, x: int) -> bool:
        gh, gw, _ = wave.shape
        stack = deque([(y, x)])
        while stack:
            cy, cx = stack.pop()
            here = wave[cy, cx]
            for d, (dy, dx) in enumerate(DIRECTIONS):
                ny, nx = cy + dy, cx + dx
                if not (0 <= ny < gh and 0 <= nx < gw):
                    continue
                allowed = self.agree[d][here].any(0)
                new = wave[ny, nx] & allowed
                if not new.any():
                    return False
                if (new != wave[ny, nx]).any():
                    wave[ny, nx] = new
                    stack.append((ny, nx))
        return True

    def _render(self, chosen: np.ndarray, height: int, width: int) -> np.ndarray:
        out = np.zeros((height, width), dtype=np.uint8)
        gh, gw = chosen.shape
        for y in range(gh):
            for x in range(gw):
                out[y : y + self.n, x : x + self.n] = self.patterns[chosen[y, x]]
        return out
