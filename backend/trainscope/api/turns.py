"""Expensive reads (exports) take turns: a few stream at once in threads of their own, a few more wait,
and past that a request is refused before any work (503 + Retry-After). Measured before this existed:
45 abandoned TensorBoard exports left /api/health unanswered for ~14.5 minutes."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
RETRY_AFTER_S = 10


class TurnsBusy(Exception):
    """Every turn is taken and the queue is full: try again in `RETRY_AFTER_S` seconds."""


class Place:
    """A stream's place among the admitted."""


class Turns:
    """`slots` streams at once, `queue` more waiting for one. A stream holds its turn from its first
    chunk to its last, or until its client leaves (the next chunk is then never made)."""

    def __init__(self, slots: int, queue: int) -> None:
        self.capacity = slots + queue
        self._turns = asyncio.Semaphore(slots)
        self._threads = anyio.CapacityLimiter(slots)  # never the thread pool that other routes share
        # a place per stream admitted and not ended, held only by its stream: a weak set, so that a
        # response dropped before its body was ever read (its client gone at once) gives it back too
        self._admitted: weakref.WeakSet[Place] = weakref.WeakSet()

    @property
    def admitted(self) -> int:
        return len(self._admitted)

    def admit(self, chunks: Iterator[T]) -> AsyncIterator[T]:
        """The chunks, made in a thread when it is this stream's turn; TurnsBusy if no place is left."""
        if len(self._admitted) >= self.capacity:
            raise TurnsBusy(f"{self.capacity} exports are running or waiting; try again in {RETRY_AFTER_S} s")
        place = Place()
        self._admitted.add(place)
        return self._stream(chunks, place)

    async def _stream(self, chunks: Iterator[T], place: Place) -> AsyncIterator[T]:
        try:
            async with self._turns:
                while (chunk := await anyio.to_thread.run_sync(next, chunks, None, limiter=self._threads)) is not None:
                    yield chunk
        finally:
            self._admitted.discard(place)
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator's own clean-up runs now, not when it is collected
