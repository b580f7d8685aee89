"""Level quality measures, each exactly as DESIGN.md defines it. Inputs are (N, H, W) semantic-code grids.

playability lives in `procgen.levels.solver`; everything else is here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.level import Semantic
from engine.sim.grid import WALKABLE_LUT
from procgen.levels.solver import PLATFORMER_SUPPORT_LUT

KL_EPSILON = 1e-7
SPLITS = 20
"""random splits averaged for the split-half KL reference"""
_DOOR, _WALL, _LOCKED = Semantic.DOOR.code, Semantic.WALL.code, Semantic.LOCKED_DOOR.code
_LADDER = Semantic.LADDER.code
_FRAME = np.zeros(256, dtype=bool)
_FRAME[[_WALL, _DOOR, _LOCKED]] = True


def duplicates(sems: np.ndarray) -> float:
    """Fraction of samples that exactly copy an earlier sample."""
    n = len(sems)
    unique = len({s.tobytes() for s in np.ascontiguousarray(sems)})
    return (n - unique) / n if n else 0.0


def _flat_one_hot(sems: np.ndarray) -> np.ndarray:
    codes = np.unique(sems)
    lut = np.zeros(256, dtype=np.int64)
    lut[codes] = np.arange(len(codes))
    idx = lut[sems.reshape(len(sems), -1)]
    out = np.zeros((len(sems), idx.shape[1] * len(codes)), dtype=np.float32)
    rows = np.arange(len(sems))[:, None]
    out[rows, np.arange(idx.shape[1])[None, :] * len(codes) + idx] = 1.0
    return out


def hamming_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) fraction of tiles that differ, via one matrix product of one-hot encodings."""
    both = np.concatenate([a, b])
    hot = _flat_one_hot(both)
    tiles = a.shape[1] * a.shape[2]
    same = hot[: len(a)] @ hot[len(a) :].T
    return 1.0 - same / tiles


def diversity(sems: np.ndarray) -> float:
    """Mean pairwise Hamming distance, as a fraction of tiles, over all pairs."""
    n = len(sems)
    if n < 2:
        return 0.0
    d = hamming_matrix(sems, sems)
    return float(d[np.triu_indices(n, 1)].mean())


def novelty(sems: np.ndarray, train: np.ndarray) -> tuple[float, float]:
    """(mean Hamming distance to the nearest training level, fraction that exactly copy a training level)."""
    nearest = np.concatenate(
        [hamming_matrix(chunk, train).min(1) for chunk in np.array_split(sems, 8) if len(chunk)]
    )
    return float(nearest.mean()), float((nearest < 0.5 / (sems.shape[1] * sems.shape[2])).mean())


def pattern_counts(sems: np.ndarray, k: int) -> Counter:
    """Every k×k window of every level, counted; keys are the window's bytes (row-major)."""
    h, w = sems.shape[1:]
    if k > h or k > w:
        return Counter()
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(sems, np.uint8), (k, k), axis=(1, 2))
    flat = np.ascontiguousarray(windows.reshape(-1, k * k))
    patterns, counts = np.unique(flat, axis=0, return_counts=True)
    return Counter({row.tobytes(): int(c) for row, c in zip(patterns, counts, strict=True)})


def tile_pattern_kl(train: np.ndarray, generated: np.ndarray, k: int) -> float:
    """KL(P_train ‖ Q_gen) over k×k tile patterns, both smoothed with ε = 1e-7 over the union of patterns.

    `train` is the training examples as the model saw them (the originals plus their allowed flips, which is
    `Corpus.examples`); `split_half_kl` builds its two halves the same way, so both sides of a comparison mean
    the same thing by P."""
    p, q = pattern_counts(train, k), pattern_counts(generated, k)
    keys = list(p.keys() | q.keys())
    pv = np.array([p.get(x, 0) for x in keys], dtype=np.float64) + KL_EPSILON
    qv = np.array([q.get(x, 0) for x in keys], dtype=np.float64) + KL_EPSILON
    pv, qv = pv / pv.sum(), qv / qv.sum()
    return float(np.sum(pv * np.log(pv / qv)))


def with_flips(sems: np.ndarray, flips: tuple[bool, bool]) -> np.ndarray:
    """(N, H, W) levels followed by their (horizontal, vertical) flips, in `build_corpus`'s order."""
    flip_x, flip_y = flips
    out = [sems]
    if flip_x:
        out.append(sems[:, :, ::-1])
    if flip_y:
        out.append(sems[:, ::-1, :])
    if flip_x and flip_y:
        out.append(sems[:, ::-1, ::-1])
    return np.ascontiguousarray(np.concatenate(out))


@dataclass(frozen=True)
class SplitHalfKL:
    """Per random split of the training levels into halves A and B: the corpus's own reference KL(P_A ‖ P_B),
    and, when generated levels were given, KL(P_A ‖ Q_G) for as many generated levels as B holds."""

    reference: np.ndarray
    generated: np.ndarray | None = None

    @property
    def ratio(self) -> np.ndarray:
        """KL(P_A ‖ Q_G) / KL(P_A ‖ P_B), split by split (the same A in both)."""
        assert self.generated is not None
        return self.generated / self.reference


def split_half_kl(
    originals: np.ndarray,
    k: int,
    flips: tuple[bool, bool] = (False, False),
    generated: np.ndarray | None = None,
    splits: int = SPLITS,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> SplitHalfKL:
    """The corpus's split-half reference for `tile_pattern_kl`, and the generator judged like with like.

    Each split puts a random half of the training levels (`originals`, before augmentation) in A and the rest in
    B; both get the corpus's `flips`, as the full training set does. `groups` (one label per level) keeps
    levels that share tiles together, for example windows cut from one stretch of a bigger level, so B is never
    half-copied from A. With `generated`, B is replaced by as many generated levels (the same flips applied),
    drawn without replacement per split (with, when there are fewer): the same P, the same sample size, the
    same treatment.
    """
    originals = np.asarray(originals, np.uint8)
    labels = np.arange(len(originals)) if groups is None else np.asarray(groups)
    units = np.unique(labels)
    if len(units) < 2:
        raise ValueError(f"split_half_kl: need at least 2 groups of levels, got {len(units)}")
    rng, pick_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    reference, judged = [], []  # the splits come from `rng` alone, so every caller's reference is the same
    for _ in range(splits):
        half = rng.permutation(units)[: len(units) // 2]
        in_a = np.isin(labels, half)
        a, b = with_flips(originals[in_a], flips), with_flips(originals[~in_a], flips)
        reference.append(tile_pattern_kl(a, b, k))
        if generated is not None:
            size = int((~in_a).sum())
            pick = pick_rng.choice(len(generated), size, replace=len(generated) < size)
            judged.append(tile_pattern_kl(a, with_flips(np.asarray(generated, np.uint8)[pick], flips), k))
    return SplitHalfKL(np.array(reference), np.array(judged) if generated is not None else None)


def unframed_doors(sems: np.ndarray) -> np.ndarray:
    """(N, H, W) True on door tiles without their frame: wall, door or the map edge on both sides along one
    axis, and open ground or the map edge on both sides along the other."""
    sems = np.asarray(sems)
    h, w = sems.shape[1:]
    pad_frame = np.pad(sems, ((0, 0), (1, 1), (1, 1)), constant_values=_WALL)
    frame = _FRAME[pad_frame]
    pad_open = np.pad(sems, ((0, 0), (1, 1), (1, 1)), constant_values=Semantic.FLOOR.code)
    open_ = WALKABLE_LUT[pad_open]
    up, down = (slice(None), slice(0, h), slice(1, w + 1)), (slice(None), slice(2, h + 2), slice(1, w + 1))
    left, right = (slice(None), slice(1, h + 1), slice(0, w)), (slice(None), slice(1, h + 1), slice(2, w + 2))
    framed_x = frame[left] & frame[right] & (open_[up] | open_[down])
    framed_y = frame[up] & frame[down] & (open_[left] | open_[right])
    return (sems == _DOOR) & ~(framed_x | framed_y)


def broken_structures(sems: np.ndarray, genre: str = "topdown") -> np.ndarray:
    """Per level, True when a multi-tile structure is incomplete.

    top-down: a door without its frame (wall, door or the map edge on both sides along one axis, and open ground
    or the map edge on both sides along the other), or a room border with a gap (a border tile that is not wall,
    door or void), since the frame of a room is a structure too;
    platformer: a ladder whose lowest tile hangs in the air (nothing that can hold it beneath).
    """
    sems = np.asarray(sems)
    if genre == "platformer":
        below = np.concatenate([sems[:, 1:, :], np.full_like(sems[:, :1, :], Semantic.SOLID.code)], 1)
        return ((sems == _LADDER) & ~PLATFORMER_SUPPORT_LUT[below]).any((1, 2))
    h, w = sems.shape[1:]
    bad_door = unframed_doors(sems)
    ring = np.zeros((h, w), dtype=bool)
    ring[[0, -1], :] = True
    ring[:, [0, -1]] = True
    border_ok = _FRAME[sems] | (sems == Semantic.VOID.code)
    gap = ring[None] & ~border_ok
    return bad_door.any((1, 2)) | gap.any((1, 2))
