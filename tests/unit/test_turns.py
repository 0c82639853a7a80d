"""Exports take turns: a few at once, a few waiting, the rest refused before any work; a stream whose
client leaves stops and gives its place back."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator

import pytest

from trainscope.api.turns import Turns, TurnsBusy


class Chunks:
    """A chunk source that says how far it got and whether it was closed."""

    def __init__(self, n: int) -> None:
        self.made = 0
        self.closed = False
        self.n = n

    async def make(self) -> AsyncGenerator[bytes]:
        try:
            for _ in range(self.n):
                self.made += 1
                await asyncio.sleep(0)
                yield b"x"
        finally:
            self.closed = True


def test_a_few_stream_at_once_a_few_wait_and_the_rest_are_refused() -> None:
    async def scenario() -> None:
        turns = Turns(slots=1, queue=1)
        first, second = Chunks(3), Chunks(3)
        a = turns.admit(first.make())
        b = turns.admit(second.make())
        with pytest.raises(TurnsBusy):
            turns.admit(Chunks(3).make())
        assert await anext(a) == b"x"  # a has the turn...
        waiting = asyncio.ensure_future(anext(b))
        await asyncio.sleep(0.05)
        assert not waiting.done() and second.made == 0  # ...and b waits, making nothing
        assert [chunk async for chunk in a] == [b"x", b"x"]
        assert await waiting == b"x" and turns.admitted == 1  # a ended: b's turn, and a place is free
        await b.aclose()  # b's client left: its source is closed where it stood
        assert second.closed and second.made == 1 and turns.admitted == 0

    asyncio.run(scenario())


def test_a_stream_never_read_gives_its_place_back() -> None:
    async def scenario() -> None:
        turns = Turns(slots=1, queue=0)
        stream = turns.admit(Chunks(1).make())
        with pytest.raises(TurnsBusy):
            turns.admit(Chunks(1).make())
        del stream  # a response dropped before its body was read (its client gone at once)
        gc.collect()
        assert turns.admitted == 0
        assert [chunk async for chunk in turns.admit(Chunks(2).make())] == [b"x", b"x"]

    asyncio.run(scenario())
