"""Micro-batching: concurrent level requests for one generator become one `LevelGenerator.sample_batch` call, one
forward pass and one solver and repair pass for all of them, on one worker.

A request waits at most `max_wait_ms` for others to join, and a batch holds at most `max_batch` levels. Each
request gets exactly the levels it would get alone (`sample_batch` promises it, and a test holds it), so batching
changes speed and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from backend.content import TimedOut, Workers
from backend.settings import ServerSettings
from procgen.levels.generator import LevelGenerator, SampleReport, SampleRequest

T = TypeVar("T")
Finish = Callable[[np.ndarray, SampleReport], Any]


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
        self.batches = 0
        """batches run so far, for the bench and the tests"""

    async def sample(self, request: SampleRequest, finish: Callable[[np.ndarray, SampleReport], T]) -> T:
        """`finish(codes, report)` for this request's levels, made in a batch with whatever else is waiting."""
        if not self.enabled or request.n >= self.max_batch:
            return await self.workers.run(lambda: finish(*self.generator.sample_batch([request])[0]))
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        if self._pending_levels + request.n > self.max_batch:
            self._flush()
        self._pending.append((request, finish, future))
        self._pending_levels += request.n
        if self._pending_levels >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait_s, self._flush)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            raise TimedOut from None

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._pending_levels = self._pending, [], 0
        if batch:
            self.batches += 1
            asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: list[tuple[SampleRequest, Finish, asyncio.Future]]) -> None:
        try:
            results = await self.workers.run(lambda: self._work(batch))
        except Exception as exc:  # Busy or TimedOut: every request in the batch gets it
            results = [exc] * len(batch)
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _work(self, batch: list[tuple[SampleRequest, Finish, asyncio.Future]]) -> list[Any]:
        """On a worker: the batch in one pass, each request's levels finished into its answer. Should the batch
        fail (it should not: requests are checked before they join), each request runs alone, so one bad request
        cannot fail the others."""
        try:
            made = self.generator.sample_batch([r for r, _, _ in batch])
        except Exception:
            made = None
        out: list[Any] = []
        for k, (request, finish, _) in enumerate(batch):
            try:
                codes, report = made[k] if made is not None else self.generator.sample_batch([request])[0]
                out.append(finish(codes, report))
            except Exception as exc:
                out.append(exc)
        return out
