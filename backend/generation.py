"""Where batched levels are made: `make_batch` (one forward, solver and repair pass for several requests), and
the generation process that runs it beside the server.

The server's event loop and the GAN both need the interpreter lock: run in the server's own threads, every
torch call in a batch waits for the loop to let go of it, and every request waits for the batch (measured: a
17-room batch took 13 ms alone and 54 ms beside a busy loop). So by default the batches are made in a child
process with its own interpreter, which loads the same weights; the server sends it the requests and gets
back each one's grids, sample report and solver results, and encodes the answers itself.

The child is the server's own code started by the server, and the pipe between them carries Python objects
(multiprocessing pickles them); nothing from outside the server reaches it. It dies with the server.
"""

from __future__ import annotations

import atexit
import dataclasses
import gc
import itertools
import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backend.content import Busy
from engine.errors import LudoforgeError
from procgen.levels.generator import LevelGenerator, SampleReport, SampleRequest
from procgen.levels.solver import Solution, solve_batch

log = logging.getLogger("ludoforge.serve")

Made = tuple[np.ndarray, SampleReport, list[Solution]]
"""one request's levels: the (n, H, W) grids, what happened to them, and the solver's result for each"""
Outcome = Made | BaseException
HandBack = Callable[[list[tuple[int, Outcome]], bool], None]
"""`hand_back(outcomes, final)`: (index in the batch, what it got) for some of the batch's requests; `final`
on the last call"""
READY_TIMEOUT_S = 300.0
"""how long start-up waits for the child to import torch and load the generators"""
STOP_TIMEOUT_S = 10.0


class GenerationError(LudoforgeError):
    """A request the generator refused, in its words (which start with the field): a 422. (One class, with the
    message alone, so that it crosses from the generation process as it is.)"""


class GenerationStopped(Busy):
    """The generation process stopped before it answered (another is started at once): 503, try again."""

    def __init__(self) -> None:
        super().__init__("the generation process stopped and is starting again")


def solutions(generator: LevelGenerator, codes: np.ndarray) -> list[Solution]:
    genre = generator.genre
    return solve_batch(codes, genre, room=genre.name == "topdown")


def make_batch(generator: LevelGenerator, requests: Sequence[SampleRequest], hand_back: HandBack) -> None:
    """Each request's levels, exactly as `generator.sample_batch([request])` makes them alone, made together.

    One forward and playability pass for the whole batch, without repair; then one solver pass over the levels
    of every request that needs no repair, handed back at once; then the repairs, one more solver pass, and
    those handed back. (`repair_codes` after `repair=False` is exactly what `repair=True` does.) Should the
    batch be refused (it should not: requests are checked before they join), each request runs alone, so one
    bad request cannot fail the others."""
    unrepaired = [dataclasses.replace(r, repair=False) for r in requests]
    try:
        batch = generator.sample_batch(unrepaired)
    except ValueError:
        batch = None
    refused: list[tuple[int, Outcome]] = []
    ready, later = [], []
    for k, request in enumerate(unrepaired):
        try:
            codes, report = batch[k] if batch is not None else generator.sample_batch([request])[0]
        except ValueError as exc:
            refused.append((k, GenerationError(str(exc))))
            continue
        if requests[k].repair and not report.raw_playable.all():
            later.append((k, codes, report))
        else:
            ready.append((k, codes, report))
    hand_back(refused + _solved(generator, ready), not later)
    if not later:
        return
    refused, repaired = [], []
    for k, codes, report in later:
        try:
            repaired.append((k, *generator.repair_codes(codes, report.raw, report.raw_playable)))
        except ValueError as exc:  # a RepairError: no repair within its bounds
            refused.append((k, GenerationError(str(exc))))
    hand_back(refused + _solved(generator, repaired), True)


def _solved(generator: LevelGenerator, made: list) -> list[tuple[int, Outcome]]:
    """One solver pass over every level of `made` ((k, codes, report) each), each request given its share."""
    if not made:
        return []
    found = solutions(generator, np.concatenate([codes for _, codes, _ in made]))
    out: list[tuple[int, Outcome]] = []
    at = 0
    for k, codes, report in made:
        out.append((k, (codes, report, found[at : at + len(codes)])))
        at += len(codes)
    return out


# ------------------------------------------------------------------------------------------- the server's side


class GenerationProcess:
    """The child process that makes batches, and the thread in the server that reads its answers.

    `load(name, stem)` has it load a generator's weights (the shipped ones at start-up, the trained ones when
    their job ends); `submit(name, requests, hand_back)` has it make a batch, and `hand_back` is called on the
    reading thread as the answers come. Messages keep their order, so a batch sent after a load finds the
    generator loaded. Should the child die, every batch it held is handed `None` (GenerationStopped) and a new
    child is started with every generator loaded so far."""

    def __init__(self, torch_threads: int = 1) -> None:
        self.torch_threads = torch_threads
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch threads
        self._stems: dict[str, str] = {}
        self._batches: dict[int, HandBack] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._pongs: dict[int, threading.Event] = {}
        self._closing = False
        # At interpreter exit multiprocessing stops its daemon children; this runs first, so the reader does
        # not take that for a crash and start another.
        atexit.register(self._at_exit)
        self._start()
        self._reader = threading.Thread(target=self._read, name="ludoforge-generation", daemon=True)
        self._reader.start()

    def _start(self) -> None:
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(
            target=child_main, args=(theirs, self.torch_threads), name="ludoforge-generation", daemon=True
        )
        self._process.start()
        theirs.close()
        self._connection = ours
        for name, stem in self._stems.items():
            ours.send(("load", name, stem))
        for token in self._pongs:  # a ping the last child took with it: the new one answers it
            ours.send(("ping", token))

    def load(self, name: str, stem: Path) -> None:
        with self._lock:
            self._stems[name] = str(stem)
            self._send(("load", name, str(stem)))

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Return once the child has loaded every generator sent so far (raise if it has not in time)."""
        event = threading.Event()
        with self._lock:
            token = next(self._ids)
            self._pongs[token] = event
            self._send(("ping", token))
        if not event.wait(timeout_s):
            raise RuntimeError(f"the generation process was not ready after {timeout_s:g} s")

    def submit(self, name: str, requests: Sequence[SampleRequest], hand_back: HandBack) -> None:
        with self._lock:
            batch_id = next(self._ids)
            self._batches[batch_id] = hand_back
            if not self._send(("batch", batch_id, name, list(requests))):
                del self._batches[batch_id]
                raise GenerationStopped

    def _send(self, message: tuple) -> bool:
        try:
            self._connection.send(message)
        except (OSError, ValueError):  # the child is gone (the reader starts the next one)
            return False
        return True

    def _read(self) -> None:
        while True:
            try:
                message = self._connection.recv()
            except (EOFError, OSError):
                if self._lost():
                    return
                continue
            kind = message[0]
            if kind == "made":
                _, batch_id, outcomes, final = message
                with self._lock:
                    hand_back = self._batches.pop(batch_id) if final else self._batches[batch_id]
                hand_back(outcomes, final)
            elif kind == "pong":
                event = self._pongs.pop(message[1], None)
                if event is not None:
                    event.set()
            elif kind == "load-failed":
                log.warning("generator %s not loaded in the generation process: %s", message[1], message[2])

    def _lost(self) -> bool:
        """The child stopped: hand back every batch it held as lost and, unless the server is closing, start
        the next one. True when the reader should stop."""
        with self._lock:
            lost, self._batches = self._batches, {}
            if not self._closing:
                log.warning(
                    "the generation process stopped (exit code %s): starting another", self._exitcode()
                )
                self._start()
        for hand_back in lost.values():
            hand_back(None, True)  # type: ignore[arg-type]
        return self._closing

    def _exitcode(self) -> int | None:
        self._process.join(1)
        return self._process.exitcode

    def _at_exit(self) -> None:
        # A server left unclosed (a test's): multiprocessing's own exit would send the child SIGTERM, which it
        # ignores, and wait for it forever; stop it here instead.
        self._closing = True
        if self._process.is_alive():
            self._process.kill()
            self._process.join(STOP_TIMEOUT_S)

    def close(self) -> None:
        atexit.unregister(self._at_exit)
        with self._lock:
            self._closing = True
            self._send(("stop",))
        self._process.join(STOP_TIMEOUT_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(STOP_TIMEOUT_S)
        self._connection.close()
        self._reader.join(STOP_TIMEOUT_S)


# -------------------------------------------------------------------------------------------- the child's side


def child_main(connection: Any, torch_threads: int) -> None:
    """The generation process: load generators and make batches, in the order the server sends them. A
    thread drains the pipe into a queue, so the server never blocks on a full pipe; the pipe's end (the
    server stopped, or died) ends the process."""
    import signal

    from backend.worker import die_with_parent

    # Ctrl-C reaches the whole process group, and a service manager's stop the whole cgroup: the server stops
    # this process itself once its open requests are answered (or the pipe's end does), and SIGKILL comes with
    # the server's death.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)
    import torch

    torch.set_num_threads(torch_threads)
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def drain() -> None:
        while True:
            try:
                inbox.put(connection.recv())
            except (EOFError, OSError):
                inbox.put(("stop",))
                return

    threading.Thread(target=drain, daemon=True).start()
    generators: dict[str, LevelGenerator] = {}
    refused: dict[str, str] = {}
    while True:
        message = inbox.get()
        kind = message[0]
        if kind == "stop":
            return
        if kind == "ping":
            connection.send(("pong", message[1]))
        elif kind == "load":
            _, name, stem = message
            try:
                generators[name] = LevelGenerator.from_weights(stem)
                refused.pop(name, None)
                # What stays loaded is kept out of every later collection, as in the server: the batches'
                # garbage is then collected without walking the nets and corpora each time.
                gc.collect()
                gc.freeze()
            except LudoforgeError as exc:
                refused[name] = str(exc)
                connection.send(("load-failed", name, str(exc)))
        elif kind == "batch":
            _, batch_id, name, requests = message
            _answer_batch(connection, batch_id, generators.get(name), refused.get(name, name), requests)


def _answer_batch(
    connection: Any,
    batch_id: int,
    generator: LevelGenerator | None,
    why_missing: str,
    requests: list[SampleRequest],
) -> None:
    left = set(range(len(requests)))

    def hand_back(outcomes: list[tuple[int, Outcome]], final: bool) -> None:
        left.difference_update(k for k, _ in outcomes)
        connection.send(("made", batch_id, outcomes, final))

    if generator is None:
        failed = GenerationError(f"generator: not loaded in the generation process ({why_missing})")
        hand_back([(k, failed) for k in left], True)
        return
    # A fault in our own code ends this process: the server answers what it held 503 and starts another.
    make_batch(generator, requests, hand_back)
