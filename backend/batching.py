"""Micro-batching: concurrent level requests for one generator become one `LevelGenerator.sample_batch` call (one
forward pass and one playability pass for all of them) and one `solve_batch` call (the solver results every answer
carries), on one worker.

Batching is continuous: one batch per generator runs at a time, and the requests that arrive meanwhile wait and
go together as the next batch (up to `max_batch` levels), so the busier the server, the bigger its batches. A
request that finds nothing running waits at most `max_wait_ms` for company. Each request gets exactly the levels
it would get alone (`sample_batch` promises it, and a test holds it): batching changes speed and nothing else.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from backend.content import TimedOut, Workers
from backend.settings import ServerSettings
from procgen.levels.generator import LevelGenerator, SampleReport, SampleRequest
from procgen.levels.solver import Solution, solve_batch

T = TypeVar("T")
Finish = Callable[[np.ndarray, SampleReport, list[Solution]], Any]


class LevelBatcher:
    def __init__(self, generator: LevelGenerator, workers: Workers, settings: ServerSettings) -> None:
        self.generator, self.workers = generator, workers
        self.enabled = settings.batching
        self.max_batch = settings.max_batch
        self.max_wait_s = settings.max_wait_ms / 1000
        self.timeout_s = settings.timeout_s
        self._pending: list[tuple[SampleRequest, Finish, asyncio.Future]] = []
        self._pending_levels = 0
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        self.batches = 0
        """batches run so far, for the bench and the tests"""

    async def sample(
        self, request: SampleRequest, finish: Callable[[np.ndarray, SampleReport, list[Solution]], T]
    ) -> T:
        """`finish(codes, report, solutions)` for this request's levels (each with its solver result), made in a
        batch with whatever else is waiting."""
        if not self.enabled or request.n >= self.max_batch:
            return await self.workers.run(lambda: self._alone(request, finish))
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append((request, finish, future))
        self._pending_levels += request.n
        if not self._running and self._timer is None:
            self._timer = loop.call_later(self.max_wait_s, self._flush)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            raise TimedOut from None

    def _flush(self) -> None:
        """Start the next batch: the waiting requests, oldest first, up to `max_batch` levels."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._running or not self._pending:
            return
        batch, levels = [], 0
        while self._pending and (not batch or levels + self._pending[0][0].n <= self.max_batch):
            item = self._pending.pop(0)
            batch.append(item)
            levels += item[0].n
        self._pending_levels -= levels
        self._running = True
        self.batches += 1
        asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: list[tuple[SampleRequest, Finish, asyncio.Future]]) -> None:
        loop = asyncio.get_running_loop()
        repairs: list[tuple[tuple[SampleRequest, Finish, asyncio.Future], Any]] = []
        try:
            repairs = await self.workers.run(lambda: self._work(batch, loop))
        except Exception as exc:  # Busy or TimedOut: every request not yet answered gets it
            _fail(batch, exc)
        finally:
            self._running = False
            self._flush()  # whatever arrived meanwhile goes next, together
        if repairs:  # off the batch's path: the next batch need not wait for CP-SAT
            try:
                await self.workers.run(lambda: self._repair(repairs, loop))
            except Exception as exc:
                _fail([item for item, _ in repairs], exc)

    def solve(self, codes: np.ndarray) -> list[Solution]:
        genre = self.generator.genre
        return solve_batch(codes, genre, room=genre.name == "topdown")

    def _alone(self, request: SampleRequest, finish: Finish) -> Any:
        codes, report = self.generator.sample_batch([request])[0]
        return finish(codes, report, self.solve(codes))

    def _work(
        self, batch: list[tuple[SampleRequest, Finish, asyncio.Future]], loop: asyncio.AbstractEventLoop
    ) -> list:
        """On a worker: one forward and playability pass for the whole batch, then one solver pass over the
        levels of every request that needs no repair; each of those is finished into its answer and handed back
        at once, and those that need repair are returned for `_repair`.
        `repair_codes` after `repair=False` is exactly what `repair=True` does, so every answer is still the one
        its request gets alone. Should the batch fail (it should not: requests are checked before they join),
        each request runs alone, so one bad request cannot fail the others."""
        unrepaired = [dataclasses.replace(r, repair=False) for r, _, _ in batch]
        try:
            made = self.generator.sample_batch(unrepaired)
        except Exception:
            made = None
        later, ready = [], []
        for k, item in enumerate(batch):
            request, _, future = item
            try:
                codes, report = (
                    made[k] if made is not None else self.generator.sample_batch([unrepaired[k]])[0]
                )
            except Exception as exc:
                loop.call_soon_threadsafe(_settle, future, exc)
                continue
            if request.repair and not report.raw_playable.all():
                later.append((item, (codes, report)))
            else:
                ready.append((item, (codes, report)))
        self._finish_all(ready, loop)
        return later

    def _repair(self, repairs: list, loop: asyncio.AbstractEventLoop) -> None:
        repaired = []
        for item, (codes, report) in repairs:
            try:
                repaired.append((item, self.generator.repair_codes(codes, report.raw, report.raw_playable)))
            except Exception as exc:
                loop.call_soon_threadsafe(_settle, item[2], exc)
        self._finish_all(repaired, loop)

    def _finish_all(self, made: list, loop: asyncio.AbstractEventLoop) -> None:
        """One solver pass over every level in `made` ((request, finish, future), (codes, report)), then each
        request finished into its answer and handed back."""
        solutions = self.solve(np.concatenate([codes for _, (codes, _) in made])) if made else []
        at = 0
        for (_, finish, future), (codes, report) in made:
            try:
                result: Any = finish(codes, report, solutions[at : at + len(codes)])
            except Exception as exc:
                result = exc
            at += len(codes)
            loop.call_soon_threadsafe(_settle, future, result)


def _fail(batch: list, exc: BaseException) -> None:
    for _, _, future in batch:
        if not future.done():
            future.set_exception(exc)


def _settle(future: asyncio.Future, result: Any) -> None:
    if future.done():  # its request timed out and left
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
