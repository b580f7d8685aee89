"""`LevelGenerator`: the trained level GAN behind one call, for game developers and for the demo game.

from procgen.levels import LevelGenerator
gen = LevelGenerator.pretrained("dungeon")
rooms = gen.sample(16, seed=7)                                   # 16 playable Levels
rooms = gen.sample(4, seed=7, conditions={"density": {"enemies": 3}, "doors": {"north": [7], "east": [5]}})
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import Field

from engine.errors import LudoforgeError
from engine.level import Legend, Level, LevelMeta, Semantic
from procgen.core.device import select_device
from procgen.core.weights import WEIGHTS_DIR, WeightsError, card_config, load_into, load_weights
from procgen.levels.corpus import SHIPPED_CORPORA, Corpus, build_corpus, shipped_corpus
from procgen.levels.gan import DENSITY_NAMES, GanConfig, Generator, density_of, door_masks, tile_scores
from procgen.levels.repair import RepairError
from procgen.levels.repair import repair as repair_level
from procgen.levels.solver import is_playable, rooms_playable
from procgen.levels.structure import finish, ground_ladders

MAX_SAMPLES = 100_000
BATCH = 1024
MAX_DENSITY = 1000.0
"""a density condition is a fraction or a count per room: anything larger than this is a mistake"""


def _finite_density(field: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field}: expected a number, got {value!r}") from None
    if not math.isfinite(number) or abs(number) > MAX_DENSITY:
        raise ValueError(f"{field}: expected a finite number within ±{MAX_DENSITY:g}, got {value!r}")
    return number


SIDES = ("north", "south", "west", "east")
REPAIR_TIME_LIMIT_S = 0.5
ARGMAX_MARGIN = 1e-3
"""a tile whose best two scores are closer than this is decided in float64 (see `LevelGenerator.raw`): float32
batches here differ by at most about 5e-5 in a score"""
MODE_REDRAWS = 8
"""how many fresh latents a sample that exactly copies a training example, or is a bare room, may be drawn again
from (see `LevelGenerator.sample_codes`)"""
"""per sample: past it a platformer repair keeps its best solution so far (or the staircase fallback)"""


@dataclass(frozen=True)
class SampleReport:
    """What happened to each sample on its way out: was it playable raw, and what did repair cost."""

    raw_playable: np.ndarray
    edits: np.ndarray
    repair_seconds: np.ndarray
    raw: np.ndarray = field(repr=False)
    """(N, H, W) the generator's argmax tiles before the genre's finishing step"""


@dataclass(frozen=True)
class SampleRequest:
    """One call's worth of samples: `LevelGenerator.sample_batch` takes several and answers each alone."""

    n: int
    seed: int = 0
    conditions: Mapping[str, Any] | None = None
    repair: bool = True


def door_mask(height: int, width: int, doors: Mapping[str, Sequence[int]]) -> np.ndarray:
    """A (H, W) door mask from {"north": [x, ...], "south": [x, ...], "west": [y, ...], "east": [y, ...]}."""
    mask = np.zeros((height, width), np.float32)
    for side, positions in doors.items():
        if side not in SIDES:
            raise ValueError(f"conditions.doors: expected sides {SIDES}, got {side!r}")
        limit = width if side in ("north", "south") else height
        for p in positions:
            if not 1 <= int(p) <= limit - 2:
                raise ValueError(f"conditions.doors.{side}: {p} is not on the border (1..{limit - 2})")
            y, x = {"north": (0, p), "south": (height - 1, p), "west": (p, 0), "east": (p, width - 1)}[side]
            mask[int(y), int(x)] = 1.0
    return mask


@dataclass(frozen=True)
class CardCorpus:
    """Where a level card says its training rooms came from: the conditions are drawn from them."""

    corpus: Annotated[str, Field(min_length=1, max_length=4096)]
    legend: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    window: tuple[Annotated[int, Field(ge=1, le=256)], Annotated[int, Field(ge=1, le=256)]] | None = None
    stride: Annotated[int, Field(ge=1, le=256)] = 2


class LevelGenerator:
    """A trained generator plus its corpus (whose conditions it samples from when none are given)."""

    def __init__(self, net: Generator, corpus: Corpus, weights_id: str = "", device: str = "auto") -> None:
        self.device = select_device(device)
        self.net = net.to(self.device).eval()
        self.cfg: GanConfig = net.cfg
        self.corpus = corpus
        self.genre = corpus.genre
        self.weights_id = weights_id
        self.weights_stem: Path | None = None
        """where the weights were loaded from (None for a generator built in memory)"""
        self._density = density_of(corpus.examples)
        self._doors = (
            door_masks(corpus.examples)
            if self.genre.name == "topdown"
            else np.zeros(corpus.examples.shape, np.float32)
        )
        self._training = {x.tobytes() for x in np.ascontiguousarray(corpus.examples)}
        self._net64: Generator | None = None

    # --------------------------------------------------------------------------------------------- loading
    @classmethod
    def pretrained(cls, name: str = "dungeon", device: str = "auto") -> LevelGenerator:
        """The shipped generator for "dungeon" (16x11 rooms) or "platformer" (16x16 segments)."""
        if name not in SHIPPED_CORPORA:
            raise ValueError(f"name: expected one of {sorted(SHIPPED_CORPORA)}, got {name!r}")
        return cls.from_weights(WEIGHTS_DIR / f"levels_{name}", device=device)

    @classmethod
    def from_weights(cls, stem: str | Path, device: str = "auto") -> LevelGenerator:
        """Weights written by `procgen.levels.train`; the card says which corpus to rebuild for conditions."""
        tensors, card = load_weights(stem)
        cfg = card_config(GanConfig, card, Path(stem).with_suffix(".json"))
        net = Generator(cfg)
        load_into(net, tensors, stem)
        card_path = Path(stem).with_suffix(".json")
        args = card.get("args", {})
        data = card.get("data", {})
        if not isinstance(args, dict) or not isinstance(data, dict):
            raise WeightsError(card_path, "args", "expected the trainer's arguments as an object")
        source = {
            "corpus": args.get("corpus", data.get("corpus", "dungeon")),
            **{k: args[k] for k in ("legend", "window", "stride") if args.get(k) is not None},
        }
        c = card_config(CardCorpus, {"args": source}, card_path, section="args")
        if c.corpus in SHIPPED_CORPORA and c.legend is None and c.window is None:
            corpus = shipped_corpus(c.corpus)
        else:
            try:
                corpus = build_corpus(SHIPPED_CORPORA.get(c.corpus, c.corpus), c.legend, c.window, c.stride)
            except LudoforgeError as exc:  # a corpus the card names, which this machine cannot build
                raise WeightsError(card_path, "args.corpus", f"cannot rebuild it: {exc}") from None
        if corpus.channels != cfg.channels:
            raise WeightsError(
                Path(stem).with_suffix(".json"), "config.channels", "does not match the corpus"
            )
        gen = cls(net, corpus, weights_id=Path(stem).name, device=device)
        gen.weights_stem = Path(stem)
        return gen

    # ------------------------------------------------------------------------------------------ conditions
    @functools.cached_property
    def density_ranges(self) -> dict[str, tuple[float, float]]:
        """Per density condition (DENSITY_NAMES), the smallest and largest value among the training examples:
        the range a condition or a search target has meaning in. (Cached: the backend asks on every request.)"""
        lo, hi = self._density.min(0), self._density.max(0)
        return {name: (float(lo[i]), float(hi[i])) for i, name in enumerate(DENSITY_NAMES)}

    def conditions(self, n: int, rng: np.random.Generator, given: Mapping[str, Any] | None = None):
        """(density (n, 4), doors (n, H, W)): the given ones, the rest drawn from the training examples."""
        given = dict(given or {})
        unknown = set(given) - {"density", "doors"}
        if unknown:
            raise ValueError(f"conditions: unknown keys {sorted(unknown)} (expected 'density', 'doors')")
        idx = rng.integers(0, len(self._density), n)
        density, doors = self._density[idx].copy(), self._doors[idx].copy()
        dens = given.get("density")
        if isinstance(dens, Mapping):
            for key, value in dens.items():
                if key not in DENSITY_NAMES:
                    raise ValueError(f"conditions.density: expected keys {DENSITY_NAMES}, got {key!r}")
                density[:, DENSITY_NAMES.index(key)] = _finite_density(f"conditions.density.{key}", value)
        elif dens is not None:
            arr = np.asarray(dens, np.float32)
            if not np.isfinite(arr).all() or (np.abs(arr) > MAX_DENSITY).any():
                raise ValueError(f"conditions.density: expected finite numbers within ±{MAX_DENSITY:g}")
            density = np.broadcast_to(arr, (n, len(DENSITY_NAMES))).copy()
        door = given.get("doors")
        if isinstance(door, Mapping):
            doors = np.broadcast_to(door_mask(self.cfg.height, self.cfg.width, door), doors.shape).copy()
        elif door is not None:
            doors = np.broadcast_to(np.asarray(door, np.float32), doors.shape).copy()
        return density, doors

    # ---------------------------------------------------------------------------------------------- sample
    @torch.no_grad()
    def raw(self, z: torch.Tensor, density: np.ndarray, doors: np.ndarray) -> np.ndarray:
        """The generator's argmax tiles for latent vectors `z` (N, z_dim) under the given conditions.

        A sample's tiles do not depend on what else is in the batch. Float32 results do move with the batch
        (by about 1e-5 here), so a tile whose best two scores are closer than ARGMAX_MARGIN could flip; such a
        sample is computed again alone in float64, which gives the same answer whatever batch it came in. This
        is what lets the backend batch requests together without changing any of them."""
        out = []
        lut = np.asarray(self.cfg.channels, dtype=np.uint8)
        for i in range(0, len(z), BATCH):
            part = slice(i, i + BATCH)
            scores = tile_scores(
                self.net(
                    z[part].to(self.device),
                    torch.from_numpy(density[part]).to(self.device),
                    torch.from_numpy(doors[part]).to(self.device),
                ),
                self.cfg.logit_bias,
            )
            best = scores.argmax(1)
            top = scores.topk(2, dim=1).values
            close = ((top[:, 0] - top[:, 1]).amin((1, 2)) < ARGMAX_MARGIN).nonzero().flatten().tolist()
            for j in close:
                best[j] = self._scores64(z[i + j], density[i + j], doors[i + j]).argmax(0).to(best.device)
            out.append(lut[best.cpu().numpy()])
        return np.concatenate(out)

    def _scores64(self, z: torch.Tensor, density: np.ndarray, doors: np.ndarray) -> torch.Tensor:
        """One sample's tile scores (C, H, W) in float64 on the CPU, alone."""
        if self._net64 is None:
            self._net64 = copy.deepcopy(self.net).to("cpu", torch.float64).eval()
        logits = self._net64(
            z[None].to("cpu", torch.float64),
            torch.from_numpy(density[None]).double(),
            torch.from_numpy(doors[None]).double(),
        )
        return tile_scores(logits, self.cfg.logit_bias)[0]

    def latents(self, n: int, seed: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.z_dim, generator=torch.Generator().manual_seed(int(seed)))

    def sample_codes(
        self,
        n: int,
        seed: int = 0,
        conditions: Mapping[str, Any] | None = None,
        repair: bool = True,
        z: torch.Tensor | None = None,
    ) -> tuple[np.ndarray, SampleReport]:
        """(N, H, W) semantic grids, finished for the genre and (with `repair`) all playable, plus a report.

        Deterministic per seed. Without `z`, a sample that copies a training example or is a bare room is drawn
        again (up to `MODE_REDRAWS` times) from further latents of the same seed, so repeats stay rare."""
        if z is not None:
            return self._sample([SampleRequest(n, seed, conditions, repair)], [z])[0]
        return self.sample_batch([SampleRequest(n, seed, conditions, repair)])[0]

    def sample_batch(self, requests: Sequence[SampleRequest]) -> list[tuple[np.ndarray, SampleReport]]:
        """`sample_codes` for several requests at once: one forward pass for all of them at each stage, and for
        each request exactly the grids it gets alone (see `raw`). The backend's micro-batching calls this."""
        return self._sample(requests, None)

    def _sample(
        self, requests: Sequence[SampleRequest], given_z: Sequence[torch.Tensor] | None
    ) -> list[tuple[np.ndarray, SampleReport]]:
        for r in requests:
            if not 1 <= r.n <= MAX_SAMPLES:
                raise ValueError(f"n: expected 1..{MAX_SAMPLES}, got {r.n}")
        if sum(r.n for r in requests) > MAX_SAMPLES:
            raise ValueError(f"n: expected at most {MAX_SAMPLES} samples in one batch")
        conditions = [self.conditions(r.n, np.random.default_rng(r.seed), r.conditions) for r in requests]
        density = np.concatenate([c[0] for c in conditions])
        doors = np.concatenate([c[1] for c in conditions])
        zs = given_z if given_z is not None else [self.latents(r.n, r.seed) for r in requests]
        raw = self.raw(torch.cat(list(zs)), density, doors)
        codes = finish(raw, doors, self.genre.name)
        bounds = np.cumsum([0] + [r.n for r in requests])
        # The generator's modes are the corpus's own rooms, mostly its bare ones (the same doors, nothing inside),
        # and every such sample repeats another. One that copies a training example or is a bare room is drawn
        # again from a fresh latent of the seed's own, under the same conditions; a given `z` is kept as it is.
        for attempt in range(1, MODE_REDRAWS + 1 if given_z is None else 1):
            again = self.is_mode(codes)
            if not again.any():
                break
            redraw = []
            for k, r in enumerate(requests):
                mine = again[bounds[k] : bounds[k + 1]]
                if mine.any():
                    redraw_seed = int(np.random.SeedSequence([r.seed, attempt]).generate_state(1)[0])
                    redraw.append(self.latents(r.n, redraw_seed)[torch.from_numpy(mine)])
            at = np.nonzero(again)[0]
            raw[at] = self.raw(torch.cat(redraw), density[at], doors[at])
            codes[at] = finish(raw[at], doors[at], self.genre.name)
        room = self.genre.name == "topdown"
        if room:
            playable = rooms_playable(codes)
        else:
            playable = np.array([is_playable(c, self.genre) for c in codes], dtype=bool)
        out = []
        for k, r in enumerate(requests):
            part = slice(bounds[k], bounds[k + 1])
            mine_codes, mine_raw = codes[part].copy(), raw[part].copy()
            if r.repair:
                out.append(self.repair_codes(mine_codes, mine_raw, playable[part]))
            else:
                zeros = np.zeros(r.n)
                out.append(
                    (mine_codes, SampleReport(playable[part], zeros.astype(np.int32), zeros, mine_raw))
                )
        return out

    def is_mode(self, codes: np.ndarray) -> np.ndarray:
        """(N,) True where a finished sample exactly copies a training example, or is a room with nothing but
        floor inside its frame."""
        copies = np.array([x.tobytes() in self._training for x in self.corpus.as_examples(codes)], dtype=bool)
        if self.genre.name != "topdown":
            return copies
        return copies | (codes[:, 1:-1, 1:-1] == Semantic.FLOOR.code).all((1, 2))

    def repair_codes(
        self, codes: np.ndarray, raw: np.ndarray, playable: np.ndarray
    ) -> tuple[np.ndarray, SampleReport]:
        """Repair (in place) the finished samples that are not `playable`; the report gives edits and times."""
        room = self.genre.name == "topdown"
        edits = np.zeros(len(codes), np.int32)
        seconds = np.zeros(len(codes), np.float64)
        for i in np.nonzero(~playable)[0]:
            t0 = time.perf_counter()
            try:
                result = repair_level(codes[i], self.genre, room=room, time_limit_s=REPAIR_TIME_LIMIT_S)
            except RepairError:  # the quick limit ran out with no solution at all: give CP-SAT its full time
                result = repair_level(codes[i], self.genre, room=room)
            tiles = result.tiles
            if self.genre.name == "platformer":
                # Repair may have carved under a ladder; grounding it again keeps every path (ladders are
                # open and climbable), and the solver confirms.
                grounded = ground_ladders(tiles[None])[0]
                if is_playable(grounded, self.genre):
                    tiles = grounded
            edits[i] = result.edits + int((tiles != result.tiles).sum())
            codes[i] = tiles
            seconds[i] = time.perf_counter() - t0
        return codes, SampleReport(playable, edits, seconds, raw)

    def sample(
        self, n: int, seed: int = 0, conditions: Mapping[str, Any] | None = None, repair: bool = True
    ) -> list[Level]:
        """`n` Levels (default legend, semantic tile ids). With `repair`, every one is playable."""
        codes, _ = self.sample_codes(n, seed, conditions, repair)
        kind = "room" if self.genre.name == "topdown" else "segment"
        return [
            self.as_level(c, seed, "procgen.levels.gan", f"{kind}-{seed}-{i}") for i, c in enumerate(codes)
        ]

    def as_level(self, codes: np.ndarray, seed: int, source: str, name: str) -> Level:
        """A semantic grid from this generator as a Level (default legend), its meta naming `source` and the
        weights."""
        meta = LevelMeta(seed=int(seed), generator=f"{source}:{self.weights_id}", name=name)
        return Level(tiles=codes, legend=Legend.default(), meta=meta)

    def card_metrics(self, n: int = 1000, seed: int = 0) -> dict[str, float]:
        """The headline measures for a weights card (the full report is `procgen.levels.evaluate`)."""
        from procgen.metrics.levels import broken_structures, diversity, duplicates, tile_pattern_kl

        codes, report = self.sample_codes(n, seed)
        train = self.corpus.examples
        return {
            "samples": n,
            "playable_raw": round(float(report.raw_playable.mean()), 4),
            "playable_after_repair": round(
                float(
                    np.mean([is_playable(c, self.genre, room=self.genre.name == "topdown") for c in codes])
                ),
                4,
            ),
            "repair_edit_fraction": round(float(report.edits.mean() / codes[0].size), 5),
            "duplicates": round(duplicates(codes), 4),
            "diversity": round(diversity(codes[:1000]), 4),
            "diversity_train": round(diversity(self.corpus.originals), 4),
            "kl_2x2": round(tile_pattern_kl(train, self.corpus.as_examples(codes), 2), 4),
            "broken_structures": round(float(broken_structures(codes, self.genre.name).mean()), 4),
        }
