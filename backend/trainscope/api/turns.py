"""Expensive requests (exports, uploads, REST reads of a run's events) take turns: a few run at once
(in threads, or processes, of their own), a few more wait, and past that a request is refused before
any work (503 + Retry-After). Measured before this existed: 45 abandoned TensorBoard exports left
/api/health unanswered for ~14.5 minutes; 20 uploads of 7.4 MB at once took the server from 96 MB to
1,173 MB and health to 12 s."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from functools import partial
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
RETRY_AFTER_S = 10


ORPHAN_CHECK_S = 1.0  # how often a pool process looks for its server


def pool_process(nice: int, server: int) -> None:
    """A pool process's start: the workers' niceness, and its own end once the server is gone. It holds
    both ends of the pool's call queue, so a server that crashed would never send it end-of-file: without
    this it lived on, orphaned, after every crash test."""
    os.nice(nice)

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(ORPHAN_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="orphan-watch").start()


class TurnsBusy(Exception):
    """Every turn is taken and the queue is full: try again in `RETRY_AFTER_S` seconds."""


class Place:
    """A stream's place among the admitted."""


class Turns:
    """`slots` streams at once, `queue` more waiting for one. A stream holds its turn from its first
    chunk to its last, or until its client leaves (the next chunk is then never made)."""

    def __init__(self, slots: int, queue: int, what: str = "exports", process_nice: int | None = None) -> None:
        """process_nice: run() in processes of their own at this niceness (None: in threads)."""
        self.what = what
        self.slots = slots
        self.capacity = slots + queue
        self._nice = process_nice
        self._processes: ProcessPoolExecutor | None = None  # started on the first run()
        self._turns = asyncio.Semaphore(slots)
        self._threads = anyio.CapacityLimiter(slots)  # never the thread pool that other routes share
        # a place per stream admitted and not ended, held only by its stream: a weak set, so that a
        # response dropped before its body was ever read (its client gone at once) gives it back too
        self._admitted: weakref.WeakSet[Place] = weakref.WeakSet()

    @property
    def admitted(self) -> int:
        return len(self._admitted)

    def admit(self, chunks: AsyncGenerator[T]) -> AsyncIterator[T]:
        """The chunks, made when it is this stream's turn; TurnsBusy if no place is left."""
        return self._stream(chunks, self._place())

    def _place(self) -> Place:
        if len(self._admitted) >= self.capacity:
            raise TurnsBusy(f"{self.capacity} {self.what} are running or waiting; try again in {RETRY_AFTER_S} s")
        place = Place()
        self._admitted.add(place)
        return place

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a turn for a request's work (run() its costly parts); TurnsBusy if no place is left."""
        place = self._place()
        try:
            async with self._turns:
                yield
        finally:
            self._admitted.discard(place)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """function(*args) in one of the turns' own threads or processes (call it while holding a turn).
        In a process, CPU work never holds the server's interpreter lock: measured with 20 uploads of
        7 MB at once, health's slowest answer was 653 ms with the parse in threads."""
        if self._nice is None:
            return await anyio.to_thread.run_sync(function, *args, limiter=self._threads)
        if self._processes is None:
            spawn = multiprocessing.get_context("spawn")
            self._processes = ProcessPoolExecutor(
                self.slots, spawn, initializer=pool_process, initargs=(self._nice, os.getpid())
            )
        try:
            return await asyncio.get_running_loop().run_in_executor(self._processes, partial(function, *args))
        except BrokenProcessPool:  # one died (out of memory?): the next call starts new ones
            self._processes.shutdown(wait=True, cancel_futures=True)
            self._processes = None
            raise

    def close(self) -> None:
        """Waits for the pool's processes to exit: each holds both ends of the pool's call queue, so one
        left behind by a server that exits never reads end-of-file and lives on, orphaned (seen after
        every test run until this waited). A parse in progress finishes first (bounded by max_upload_bytes)."""
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)

    async def _stream(self, chunks: AsyncGenerator[T], place: Place) -> AsyncIterator[T]:
        try:
            async with self._turns:
                async for chunk in chunks:
                    yield chunk
        finally:
            self._admitted.discard(place)
            await chunks.aclose()  # the source's own clean-up runs now (a child process is killed)
