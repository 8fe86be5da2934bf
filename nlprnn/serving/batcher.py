"""Micro-batching: the inputs of concurrent requests gathered into one model call.

A request's inputs wait in a bounded queue; the worker takes the first waiting request, then every
request that arrives within ``max_wait`` seconds, up to ``max_batch_size`` inputs (starting sooner once
no request has come for ``idle_gap`` seconds: the clients that were coming have come), runs the model once
on all of them (in one worker thread, so the event loop keeps taking requests) and hands each request
its own results. A full queue refuses at once (``QueueFull``) rather than holding unbounded memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


class QueueFull(Exception):
    """More inputs are waiting than the queue holds; the client should retry later."""


@dataclass
class _Job:
    items: Sequence[Any]
    future: asyncio.Future[list[Any]] = field(repr=False)


class Batcher:
    """Runs ``predict(items) -> results`` on the gathered inputs of concurrent ``submit`` calls.

    ``gather=False`` runs each request alone (for comparison: what batching buys).
    """

    def __init__(self, predict: Callable[[list[Any]], list[Any]], max_batch_size: int = 64, max_wait: float = 0.005,
                 max_queue: int = 1024, gather: bool = True, idle_gap: float = 0.001) -> None:
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.idle_gap = idle_gap
        self.max_queue = max_queue
        self.gather = gather
        self.waiting = 0  # inputs submitted and not yet answered
        self.batches = 0  # model calls made, for the benchmark and /info
        self._pending: deque[_Job] = deque()
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlprnn-predict")

    async def start(self) -> None:
        self._arrived = asyncio.Event()
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """After the server has answered every request in flight: stop the worker and its thread."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)

    async def submit(self, items: Sequence[Any]) -> list[Any]:
        """The results of ``items``, computed in a batch with whatever else is waiting."""
        if self._arrived is None:  # an app run without its lifespan (a test client, a fuzzer): start on first use
            await self.start()
        assert self._arrived is not None
        if self.waiting + len(items) > self.max_queue:
            raise QueueFull(f"{self.waiting} inputs are waiting (the queue holds {self.max_queue})")
        self.waiting += len(items)
        job = _Job(items, asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._arrived.set()
        try:
            return await job.future
        finally:
            self.waiting -= len(items)

    async def _run(self) -> None:
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            jobs = [self._pending.popleft()]
            size = len(jobs[0].items)
            last_arrival = loop.time()
            deadline = last_arrival + self.max_wait
            while self.gather and size < self.max_batch_size:
                if not self._pending:
                    now = loop.time()
                    if now >= deadline or now - last_arrival >= self.idle_gap:
                        break
                    await asyncio.sleep(min(deadline - now, 0.0005))
                    continue
                last_arrival = loop.time()
                if size + len(self._pending[0].items) > self.max_batch_size:
                    break  # the next request would overflow the batch: it starts the next one
                jobs.append(self._pending.popleft())
                size += len(jobs[-1].items)
            await self._answer(loop, jobs)

    async def _answer(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        """One model call for all ``jobs``; should it fail, each job alone, so one bad input fails only its own."""
        items = [item for job in jobs for item in job.items]
        try:
            results = await loop.run_in_executor(self._executor, self.predict, items)
            self.batches += 1
        except Exception as error:  # noqa: BLE001 - handed to the requests, never raised in the worker
            if len(jobs) == 1:
                _settle(jobs[0], exception=error)
                return
            for job in jobs:
                await self._answer(loop, [job])
            return
        start = 0
        for job in jobs:
            _settle(job, results[start:start + len(job.items)])
            start += len(job.items)


def _settle(job: _Job, results: list[Any] | None = None, exception: BaseException | None = None) -> None:
    if job.future.done():  # the client went away and its request was cancelled
        return
    if exception is not None:
        job.future.set_exception(exception)
    else:
        job.future.set_result(results or [])
