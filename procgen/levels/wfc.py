"""WaveFunctionCollapse, overlapping model (Gumin 2016): the non-neural baseline, one level at a time
(`OverlappingWFC`) or a whole batch of door-constrained rooms at once (`BatchedRoomWFC`).

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


WALL_CODE, DOOR_CODE = 1, 2  # engine.level.Semantic's WALL and DOOR (kept numeric: no engine import needed)
MAX_STEPS_PER_ATTEMPT = 10_000


class BatchedRoomWFC(OverlappingWFC):
    """The same overlapping model, run on a batch of rooms at once under the GAN's own door conditions.

    The wave is one boolean array (batch, gh, gw, patterns). Each room's frame is a constraint before the first
    step: its border tiles must be wall, except door where the door mask says, so only patterns that agree with
    the frame may sit on it. Propagation is array operations over the whole batch: the cells that changed pass
    their remaining patterns through the agreement tables (grouped by overlap strip) to their
    neighbours, until nothing changes. Each step, every unfinished room collapses its least-entropy cell in
    parallel; a room that hits a contradiction starts again from its constrained wave. Deterministic per rng."""

    def __init__(self, examples: np.ndarray, n: int = 2) -> None:
        super().__init__(examples, n)
        # agree[d][a, b] says that a's overlap strip equals b's, so instead of a (K, K) product a cell's support
        # is read through the strips: group the patterns by the strip on their side facing back (order[d],
        # group starts[d]); a group is shown if any of its patterns is still possible; pattern a needs the group
        # need[d][a] (the last, always-empty group where no pattern has the strip it needs).
        self._order, self._starts, self._need = [], [], []
        p, n_ = self.patterns, self.n
        for dy, dx in DIRECTIONS:
            a = p[:, max(dy, 0) : n_ + min(dy, 0), max(dx, 0) : n_ + min(dx, 0)].reshape(len(p), -1)
            b = p[:, max(-dy, 0) : n_ + min(-dy, 0), max(-dx, 0) : n_ + min(-dx, 0)].reshape(len(p), -1)
            strips, ids = np.unique(np.concatenate([a, b]), axis=0, return_inverse=True)
            ids = ids.ravel()
            need, have = ids[: len(p)], ids[len(p) :]
            order = np.argsort(have, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(have[order]) != 0])
            group = np.full(len(strips), len(starts))
            group[have[order][starts]] = np.arange(len(starts))
            self._order.append(order)
            self._starts.append(starts)
            self._need.append(group[need])
        self._w = self.weights.astype(np.float64)
        self._w2 = np.stack([self._w, self._w * np.log(self._w)], 1).astype(np.float32)

    def frame_allowed(self, doors: np.ndarray) -> np.ndarray:
        """(B, gh, gw, patterns) bool: which patterns agree with each room's frame (wall, door where `doors`)."""
        b, h, w = doors.shape
        gh, gw = h - self.n + 1, w - self.n + 1
        required = np.full((b, h, w), -1, np.int16)  # -1: free
        ring = np.zeros((h, w), bool)
        ring[[0, -1], :] = True
        ring[:, [0, -1]] = True
        required[:, ring] = WALL_CODE
        required[doors.astype(bool) & ring] = DOOR_CODE
        ok = np.ones((b, gh, gw, len(self.patterns)), bool)
        for i in range(self.n):
            for j in range(self.n):
                req = required[:, i : i + gh, j : j + gw, None]
                ok &= (req == -1) | (req == self.patterns[None, None, None, :, i, j])
        return ok

    def generate_rooms(self, doors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(B, H, W) uint8 rooms, one per (H, W) door mask in `doors`: framed, doors where asked, every
        neighbouring pair of windows agreeing. Raises WFCError if a room fails MAX_ATTEMPTS times."""
        doors = np.asarray(doors)
        b, h, w = doors.shape
        start = self.frame_allowed(doors)
        everywhere = np.ones(start.shape[:3], bool)
        if not self._propagate_batch(start, everywhere)[0].all():
            raise WFCError("a door mask no pattern of the examples can frame")
        wave = start.copy()
        counts, sum_w, sum_wlogw = self._sums(wave)
        start_sums = (counts.copy(), sum_w.copy(), sum_wlogw.copy())
        attempts = np.ones(b, np.int32)
        done = counts.reshape(b, -1).max(1) == 1
        for _ in range(MAX_STEPS_PER_ATTEMPT * MAX_ATTEMPTS):
            if done.all():
                break
            live = np.nonzero(~done)[0]
            # Shannon entropy of every undecided cell of the live rooms, with a little noise to break ties.
            entropy = np.log(sum_w[live]) - sum_wlogw[live] / sum_w[live]
            entropy += rng.random(entropy.shape) * 1e-6
            entropy[counts[live] <= 1] = np.inf
            flat = entropy.reshape(len(live), -1).argmin(1)
            ys, xs = np.unravel_index(flat, entropy.shape[1:])
            options = wave[live, ys, xs] * self._w  # (L, K)
            cum = options.cumsum(1)
            pick = (cum < rng.random(len(live))[:, None] * cum[:, -1:]).sum(1)
            wave[live, ys, xs] = False
            wave[live, ys, xs, pick] = True
            changed = np.zeros(wave.shape[:3], bool)
            changed[live, ys, xs] = True
            alive, touched = self._propagate_batch(wave, changed)
            self._update_sums(wave, touched, counts, sum_w, sum_wlogw)
            failed = np.nonzero(~alive)[0]
            if len(failed):
                attempts[failed] += 1
                if (attempts > MAX_ATTEMPTS).any():
                    raise WFCError(f"no {w}x{h} room without contradiction in {MAX_ATTEMPTS} attempts")
                wave[failed] = start[failed]
                for now, then in zip((counts, sum_w, sum_wlogw), start_sums, strict=True):
                    now[failed] = then[failed]
            done[live] = counts[live].reshape(len(live), -1).max(1) == 1
        else:
            raise WFCError(f"rooms still undecided after {MAX_STEPS_PER_ATTEMPT * MAX_ATTEMPTS} steps")
        return self._render_batch(wave.argmax(-1), h, w)

    def _sums(self, wave: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per cell: how many patterns remain, and Σw and Σw·log w over them (for the entropy)."""
        flat = wave.reshape(-1, wave.shape[-1]).astype(np.float32)
        counts = flat.sum(1).reshape(wave.shape[:3])
        sums = flat @ self._w2
        return counts, sums[:, 0].reshape(wave.shape[:3]), sums[:, 1].reshape(wave.shape[:3])

    def _update_sums(
        self,
        wave: np.ndarray,
        cells: np.ndarray,
        counts: np.ndarray,
        sum_w: np.ndarray,
        sum_wlogw: np.ndarray,
    ) -> None:
        """`_sums` again, in place, for the (B, gh, gw) `cells` only: a step changes few cells of each room."""
        idx = np.nonzero(cells)
        rows = wave[idx].astype(np.float32)
        counts[idx] = rows.sum(1)
        sums = rows @ self._w2
        sum_w[idx], sum_wlogw[idx] = sums[:, 0], sums[:, 1]

    def _propagate_batch(self, wave: np.ndarray, changed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Propagate from the `changed` cells (B, gh, gw) to a fixpoint, in place. Returns (B,) False for the
        rooms that hit a contradiction (their cells stop propagating), and the (B, gh, gw) cells it touched."""
        b, gh, gw, _ = wave.shape
        alive = np.ones(b, bool)
        touched = changed.copy()
        while changed.any():
            # A changed cell q constrains its neighbour p = q - (dy, dx): p keeps pattern a only if q still shows
            # the strip a needs, i.e. holds some b that may sit one step in direction d from a. (Within a pass
            # q's strips are read once; a q that shrinks meanwhile is changed again, and the next pass sees it.)
            rb, qy, qx = np.nonzero(changed)
            held = wave[rb, qy, qx].view(np.uint8)  # (R, K)
            none = np.zeros((len(rb), 1), np.uint8)
            nxt = np.zeros_like(changed)
            for d, (dy, dx) in enumerate(DIRECTIONS):
                py, px = qy - dy, qx - dx
                inside = (py >= 0) & (py < gh) & (px >= 0) & (px < gw)
                r, y, x = rb[inside], py[inside], px[inside]
                shown = np.concatenate(
                    [np.maximum.reduceat(held[inside][:, self._order[d]], self._starts[d], 1), none[inside]],
                    1,
                )
                old = wave[r, y, x]
                new = old & shown[:, self._need[d]].view(bool)
                moved = (new != old).any(1)
                wave[r[moved], y[moved], x[moved]] = new[moved]
                nxt[r[moved], y[moved], x[moved]] = True
                alive[r[~new.any(1)]] = False
            changed = nxt & alive[:, None, None]
            touched |= changed
        return alive, touched

    def _render_batch(self, chosen: np.ndarray, height: int, width: int) -> np.ndarray:
        """(B, H, W) tiles from (B, gh, gw) pattern indices: each tile from the window that starts nearest it."""
        gh, gw = chosen.shape[1:]
        y, x = np.mgrid[0:height, 0:width]
        py, px = np.minimum(y, gh - 1), np.minimum(x, gw - 1)
        return self.patterns[chosen[:, py, px], y - py, x - px].astype(np.uint8)
