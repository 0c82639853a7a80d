"""Stored history for websocket viewers, read once for a room of them.

A workshop's viewers open the same job at once and ask for the same history. Each page of it is read
from the store once, turned into ready-to-send messages once, and kept (up to `replay_cache_bytes`) for
the viewers still behind; a viewer asking for a page that is being read waits for that read. Reads run
on their own few threads (`replay_readers`), so a crowd replaying never holds up REST or /api/health
(measured: 200 viewers replaying one job, each reading the store on the shared thread pool, kept
/api/health waiting 13.5 s and took the server from 0.27 to 2.8 GB).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from trainscope.config import Settings
from trainscope.jobs.reads import Compaction, json_arrays, plan_compaction
from trainscope.schemas import TERMINAL
from trainscope.schemas.decode import decode
from trainscope.store.base import RunStore, StoredEvent, read_pages

T = TypeVar("T")
PLANS_KEPT = 16  # compaction plans (a few KB each: kept steps and seqs)


@dataclass(frozen=True)
class Page:
    """Events after some seq, as the messages a viewer is sent."""

    messages: tuple[str, ...]
    last_seq: int  # the last seq read: a compact page may send fewer events than it read
    final: bool  # it holds the job's terminal status

    @property
    def size(self) -> int:
        """Characters held."""
        return sum(map(len, self.messages))


def is_final(event: StoredEvent) -> bool:
    return event.type == "status" and decode(event.body)["status"] in TERMINAL


class ReplayReader:
    def __init__(self, store: RunStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self._executor = ThreadPoolExecutor(settings.replay_readers, thread_name_prefix="replay")
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._size = 0
        self._plans: OrderedDict[Hashable, tuple[int, Compaction]] = OrderedDict()
        self._reading: dict[Hashable, asyncio.Future[Any]] = {}
        # a crowd replaying takes turns, a page each: an event-loop pass then sends at most this many
        # messages of history, so live viewers and requests are not kept waiting behind them
        self.turns = asyncio.Semaphore(settings.replay_senders)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def page(self, job_id: str, after: int) -> Page | None:
        """The stored events after `after`, a page at a time; None when there are none (yet)."""
        return await self._cached(("full", job_id, after), self._read_page, job_id, after, None, None)

    async def compact_page(self, job_id: str, after: int, until: int, plan: Compaction) -> Page | None:
        """Like page, up to `until` and thinned by `plan`."""
        return await self._cached(("compact", job_id, after, until), self._read_page, job_id, after, until, plan)

    async def plan(self, job_id: str, after: int, until: int) -> tuple[int, Compaction]:
        """A compact replay's plan for the history after `after`, and the seq it reaches. Another
        viewer's plan is reused when what it leaves out is short (at most `replay_chunk` events and a
        tenth of the history; the rest is then sent whole), so a room arriving at a running job plans
        once, not once per viewer."""
        key = ("plan", job_id, after)
        tail = min(self.settings.replay_chunk, (until - after) // 10)
        kept = self._plans.get(key)
        if kept is None or kept[0] < until - tail:
            kept = await self._once(key, self._read_plan, job_id, after, until)  # or the plan being made
            if kept[0] < until - tail:  # that one was begun too long ago
                kept = await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._read_plan, job_id, after, until
                )
            self._plans[key] = kept
            while len(self._plans) > PLANS_KEPT:
                self._plans.popitem(last=False)
        self._plans.move_to_end(key)
        return kept

    # ---- reading, on the replay threads --------------------------------------------------------
    def _read_page(self, job_id: str, after: int, until: int | None, plan: Compaction | None) -> Page | None:
        read = self.store.read_events(job_id, after, None, None, self.settings.replay_page_bytes)
        if until is not None:
            read = [event for event in read if event.seq <= until]
        if not read:
            return None
        kept = read if plan is None else [e for e in map(plan.apply, read) if e is not None]
        messages = json_arrays([e.body for e in kept], self.settings.replay_chunk, self.settings.message_bytes)
        return Page(tuple(messages), read[-1].seq, any(map(is_final, read)))

    def _read_plan(self, job_id: str, after: int, until: int) -> tuple[int, Compaction]:
        pages = read_pages(self.store, job_id, after, until, self.settings.replay_page_bytes)
        events = (event for page in pages for event in page)
        return until, plan_compaction(events, self.settings.replay_max_points, self.settings.replay_max_snapshots)

    # ---- sharing -------------------------------------------------------------------------------
    async def _cached(self, key: Hashable, read: Callable[..., Page | None], *args: Any) -> Page | None:
        page = self._pages.get(key)
        if page is None:
            page = await self._once(key, read, *args)
            if page is not None and key not in self._pages:
                self._pages[key] = page
                self._size += page.size
                while self._size > self.settings.replay_cache_bytes and len(self._pages) > 1:
                    self._size -= self._pages.popitem(last=False)[1].size
        else:
            self._pages.move_to_end(key)
        return page

    async def _once(self, key: Hashable, read: Callable[..., T], *args: Any) -> T:
        """read(*args) on a replay thread, once for every caller asking for `key` while it runs. Each
        caller waits through a shield: a viewer that leaves must not cancel the others' read."""
        future = self._reading.get(key)
        if future is None:
            future = asyncio.get_running_loop().run_in_executor(self._executor, read, *args)
            self._reading[key] = future
            future.add_done_callback(lambda _: self._reading.pop(key, None))
        result: T = await asyncio.shield(future)
        return result
