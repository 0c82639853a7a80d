"""Per-job fan-out of stored events to live viewers; a slow viewer never blocks the pump or the others."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Published:
    """A stored event on its way to viewers: seq for de-duplication, body as stored."""

    seq: int
    body: str
    final: bool = False  # the job's terminal status: viewers close after it


OVERFLOW = Published(seq=-1, body="")


@dataclass(eq=False)
class Subscriber:
    job: str
    queue: asyncio.Queue[Published] = field(default_factory=asyncio.Queue)
    overflowed: bool = False


class Hub:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._subscribers: dict[str, set[Subscriber]] = {}

    def subscribe(self, job: str) -> Subscriber:
        subscriber = Subscriber(job, asyncio.Queue(maxsize=self.queue_size + 1))
        self._subscribers.setdefault(job, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        viewers = self._subscribers.get(subscriber.job)
        if viewers is not None:
            viewers.discard(subscriber)
            if not viewers:
                del self._subscribers[subscriber.job]

    def viewers(self, job: str) -> int:
        return len(self._subscribers.get(job, ()))

    def publish(self, job: str, item: Published) -> None:
        """Queue an event for every viewer of the job without waiting on any of them.

        A viewer whose queue is full gets OVERFLOW (its backlog dropped): it is told to reconnect
        with ?after=SEQ and loses nothing that is stored.
        """
        for subscriber in self._subscribers.get(job, ()):
            if subscriber.overflowed:
                continue
            if subscriber.queue.qsize() >= self.queue_size:
                subscriber.overflowed = True
                while not subscriber.queue.empty():
                    subscriber.queue.get_nowait()
                subscriber.queue.put_nowait(OVERFLOW)
                continue
            subscriber.queue.put_nowait(item)
