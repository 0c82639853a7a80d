"""ReplayReader: a room replaying one job reads each page from the store once, in bounded memory, and a
viewer that leaves never cancels the others' read."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trainscope.config import Settings
from trainscope.jobs.reads import compact_history
from trainscope.schemas import JobSpec, JobStatus
from trainscope.store.base import JobRecord, StoredEvent, WriteBatch
from trainscope.store.sql import SqlStore
from trainscope.stream.replay import ReplayReader


class CountingStore(SqlStore):
    """A real SQLite store that counts its event reads and can hold them until released."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.reads = 0
        self.gate = threading.Event()
        self.gate.set()

    def read_events(self, *args: object, **kwargs: object) -> list[StoredEvent]:  # type: ignore[override]
        self.reads += 1
        assert self.gate.wait(10)
        return super().read_events(*args, **kwargs)  # type: ignore[arg-type]


def body(seq: int, type_: str, **fields: object) -> str:
    return json.dumps({"job": "j", "seq": seq, "type": type_, "step": seq, **fields})


def history(count: int) -> list[StoredEvent]:
    """Scalars, with a histogram snapshot every third event and the final status last."""
    events = []
    for seq in range(1, count):
        if seq % 3:
            points = [{"step": seq, "values": {"train/loss": 1.0 / seq}}]
            events.append(StoredEvent("j", seq, "scalars", seq, body(seq, "scalars", points=points)))
        else:
            events.append(StoredEvent("j", seq, "histogram", seq, body(seq, "histogram", tag="act/l1", pad="x" * 50)))
    events.append(StoredEvent("j", count, "status", count, body(count, "status", status="done")))
    return events


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    store = CountingStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    record = JobRecord("j", "", JobStatus.queued, JobSpec().model_dump(mode="json"), datetime.now(UTC))
    store.write(WriteBatch(new_jobs=[record], events=history(60)))
    store.reads = 0
    return store


def settings(**overrides: object) -> Settings:
    return Settings(replay_page_bytes=2048, replay_chunk=10, message_bytes=4096, **overrides)  # type: ignore[arg-type]


def sent(pages: list[object]) -> list[int]:
    return [event["seq"] for page in pages for message in page.messages for event in json.loads(message)]  # type: ignore[attr-defined]


async def replay_all(reader: ReplayReader, after: int = 0) -> list[object]:
    pages = []
    while page := await reader.page("j", after):
        pages.append(page)
        after = page.last_seq
    return pages


def test_a_room_of_viewers_reads_each_page_once(store: CountingStore) -> None:
    async def scenario() -> None:
        reader = ReplayReader(store, settings())
        rooms = await asyncio.gather(*(replay_all(reader) for _ in range(20)))
        assert all(sent(pages) == list(range(1, 61)) for pages in rooms)
        assert rooms[0][-1].final and not rooms[0][0].final  # type: ignore[attr-defined]
        pages = len(rooms[0])
        assert pages > 3  # small pages, so the test walks several
        assert store.reads == pages + 1  # each page once, and one read that found nothing more
        reader.close()

    asyncio.run(scenario())


def test_the_cache_holds_at_most_its_bytes(store: CountingStore) -> None:
    async def scenario() -> None:
        reader = ReplayReader(store, settings(replay_cache_bytes=3000))
        first = await replay_all(reader)
        assert sum(page.size for page in reader._pages.values()) <= 3000 < sum(p.size for p in first)  # type: ignore[attr-defined]
        reads = store.reads
        await replay_all(reader)  # the oldest pages were let go: read again
        assert store.reads > reads
        reader.close()

    asyncio.run(scenario())


def test_a_viewer_that_leaves_does_not_cancel_the_read_of_the_others(store: CountingStore) -> None:
    async def scenario() -> None:
        reader = ReplayReader(store, settings())
        store.gate.clear()  # the read blocks until released
        leaving = asyncio.create_task(reader.page("j", 0))
        staying = asyncio.create_task(reader.page("j", 0))
        await asyncio.sleep(0)
        leaving.cancel()
        store.gate.set()
        page = await asyncio.wait_for(staying, 10)
        assert page is not None and sent([page])[0] == 1
        assert store.reads == 1
        reader.close()

    asyncio.run(scenario())


def test_compact_pages_match_compact_history_and_share_one_plan(store: CountingStore) -> None:
    async def scenario() -> None:
        config = settings(replay_max_points=5, replay_max_snapshots=2)
        reader = ReplayReader(store, config)
        expected = [e.seq for e in compact_history(history(60), 5, 2)]

        async def viewer(until: int) -> list[int]:
            planned, plan = await reader.plan("j", 0, until)
            pages, after = [], 0
            while after < planned and (page := await reader.compact_page("j", after, planned, plan)):
                pages.append(page)
                after = page.last_seq
            return sent(pages)

        assert await viewer(60) == expected
        plans_read = store.reads
        assert await viewer(60) == expected  # the plan and the pages are the first viewer's
        assert store.reads == plans_read
        reader.close()

    asyncio.run(scenario())


def test_a_plan_is_reused_only_when_what_it_leaves_out_is_short(store: CountingStore) -> None:
    async def scenario() -> None:
        reader = ReplayReader(store, settings())  # replay_chunk 10
        assert (await reader.plan("j", 0, 2))[0] == 2  # a viewer at the job's start
        assert (await reader.plan("j", 0, 12))[0] == 12  # 10 short, but most of the history: planned again
        assert (await reader.plan("j", 0, 100))[0] == 100
        assert (await reader.plan("j", 0, 110))[0] == 100  # 10 short of 110: reused, the rest sent whole
        assert (await reader.plan("j", 0, 111))[0] == 111  # 11 short: planned again
        reader.close()

    asyncio.run(scenario())
