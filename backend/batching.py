"""Micro-batching: concurrent level requests for one generator become one batch (`backend.generation.make_batch`:
one forward pass, one playability pass and one solver pass for all of them), made in the generation process or,
without one, on a worker thread.

Batching is continuous: one batch per generator runs at a time, and the requests that arrive meanwhile wait and
go together as the next batch (up to `max_batch` levels), so the busier the server, the bigger its batches. A
request that finds nothing running waits at most `max_wait_ms` for company. Two batches per generator are in
the making at once: when one hands back its first answers (those that need no repair), the next is sent, and
waits in the maker behind the first one's repairs (on the worker threads it runs beside them). Each
request gets exactly the levels it would get alone (`sample_batch` promises it, and a test holds it): batching
changes speed and nothing else. With batching off, each request is a batch of its own, sent at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from backend.content import Busy, TimedOut, Workers
from backend.generation import GenerationProcess, GenerationStopped, Made, Outcome, make_batch
from backend.settings import ServerSettings
from engine.errors import LudoforgeError
from procgen.levels.generator import LevelGenerator, SampleReport, SampleRequest
from procgen.levels.solver import Solution

T = TypeVar("T")
Finish = Callable[[np.ndarray, SampleReport, list[Solution]], Any]
Waiting = tuple[SampleRequest, Finish, asyncio.Future]
MAKING_AT_ONCE = 2
"""batches per generator handed to the maker at once: one being made and the next already waiting there, so the
maker goes on to it while the event loop sends the first one's answers (with one, each waited for the other:
both processes were half idle)"""


class LevelBatcher:
    """The batches for one generator: made by `process` under `name` when given, else on the `workers`."""

    def __init__(
        self,
        name: str,
        generator: LevelGenerator,
        workers: Workers,
        settings: ServerSettings,
        process: GenerationProcess | None = None,
    ) -> None:
        self.name, self.generator, self.workers, self.process = name, generator, workers, process
        self.enabled = settings.batching
        self.max_batch = settings.max_batch
        self.max_wait_s = settings.max_wait_ms / 1000
        self.timeout_s = settings.timeout_s
        self.max_waiting_levels = settings.max_batch * (settings.queue + 1)
        """levels that may wait for a batch; past that a request is Busy (503) at once"""
        self.max_alone = settings.threads + settings.queue
        """requests (batching off) that may be in the making at once; past that, Busy"""
        self._pending: list[Waiting] = []
        self._pending_levels = 0
        self._alone = 0
        self._timer: asyncio.TimerHandle | None = None
        self._making = 0
        """batches handed to the maker that have not yet handed back their first answers"""
        self._tasks: set[asyncio.Task] = set()
        self.batches = 0
        """batches run so far, for the bench and the tests"""

    async def sample(
        self, request: SampleRequest, finish: Callable[[np.ndarray, SampleReport, list[Solution]], T]
    ) -> T:
        """`finish(codes, report, solutions)` for this request's levels (each with its solver result), made in a
        batch with whatever else is waiting. `finish` runs off the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        if not self.enabled or request.n >= self.max_batch:
            if self._alone >= self.max_alone:
                raise Busy
            self._alone += 1
            future.add_done_callback(self._one_less_alone)
            self._start(self._run([(request, finish, future)], alone=True))
        else:
            if self._pending_levels + request.n > self.max_waiting_levels:
                raise Busy
            self._pending.append((request, finish, future))
            self._pending_levels += request.n
            if self._making < MAKING_AT_ONCE and self._timer is None:
                self._timer = loop.call_later(self.max_wait_s, self._flush)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            future.add_done_callback(_ignored)  # its late answer or error has no one to read it
            raise TimedOut from None

    def _one_less_alone(self, _future: asyncio.Future) -> None:
        self._alone -= 1

    def _flush(self) -> None:
        """Start the next batch: the waiting requests, oldest first, up to `max_batch` levels."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._making >= MAKING_AT_ONCE or not self._pending:
            return
        batch, levels = [], 0
        while self._pending and (not batch or levels + self._pending[0][0].n <= self.max_batch):
            item = self._pending.pop(0)
            batch.append(item)
            levels += item[0].n
        self._pending_levels -= levels
        self._making += 1
        self.batches += 1
        self._start(self._run(batch, alone=False))

    def _start(self, work: Any) -> None:
        # The loop holds its tasks weakly: keep each until it is done, so none is collected half-way.
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[Waiting], alone: bool) -> None:
        loop = asyncio.get_running_loop()
        first: asyncio.Future = loop.create_future()
        """settled when the batch hands back its first answers: the next batch may start"""
        hand_back = functools.partial(self._hand_back, batch, loop, first)
        requests = [request for request, _, _ in batch]
        try:
            if self.process is not None:
                self.process.submit(self.name, requests, hand_back)
                making: asyncio.Future = first
            else:
                making = loop.create_task(self._on_workers(batch, requests, hand_back))
                self._tasks.add(making)
                making.add_done_callback(self._tasks.discard)
            await asyncio.wait_for(
                asyncio.wait({first, making}, return_when=asyncio.FIRST_COMPLETED), self.timeout_s
            )
        except (Busy, TimeoutError) as exc:  # the generation process stopped, or the batch took too long:
            _fail(
                batch, TimedOut() if isinstance(exc, TimeoutError) else exc
            )  # each request not yet answered
        finally:
            if not alone:
                self._making -= 1
                self._flush()  # whatever arrived meanwhile goes next, together

    async def _on_workers(self, batch: list[Waiting], requests: list[SampleRequest], hand_back: Any) -> None:
        try:
            await self.workers.run(lambda: make_batch(self.generator, requests, hand_back))
        except (Busy, TimedOut) as exc:  # every request not yet answered gets it (a 503 or 504)
            _fail(batch, exc)

    def _hand_back(
        self,
        batch: list[Waiting],
        loop: asyncio.AbstractEventLoop,
        first: asyncio.Future,
        outcomes: list[tuple[int, Outcome]] | None,
        final: bool,
    ) -> None:
        """On the thread that made them (a worker, or the generation process's reader): each request's levels
        finished into its answer and handed to the event loop. `None`: the generation process stopped."""
        if loop.is_closed():  # the loop that asked has gone (a test's): no one is waiting
            return
        if outcomes is None:
            outcomes = [(k, GenerationStopped()) for k in range(len(batch))]
        settled = [(batch[k][2], _finished(batch[k][1], outcome)) for k, outcome in outcomes]
        settled.append((first, None))
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the same
            for future, result in settled:
                loop.call_soon_threadsafe(_settle, future, result)


def _finished(finish: Finish, outcome: Outcome) -> Any:
    """The request's answer, or the exception it gets."""
    if isinstance(outcome, BaseException):
        return outcome
    made: Made = outcome
    try:
        return finish(*made)
    except LudoforgeError as exc:  # its own request gets it (a 422), not the others
        return exc


def _ignored(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


def _fail(batch: list[Waiting], exc: BaseException) -> None:
    for _, _, future in batch:
        if not future.done():
            future.set_exception(exc)


def _settle(future: asyncio.Future, result: Any) -> None:
    if future.done():  # its request timed out and left, or the batch's first answers came already
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
