"""The hub never waits on a viewer: a full backlog drops older snapshots first, then makes that viewer
overflow; the other viewers go on."""

from __future__ import annotations

import asyncio

from trainscope.stream.hub import OVERFLOW, Hub, Published


def scalars(seq: int) -> Published:
    return Published(seq, f"s{seq}")


def snapshot(seq: int, series: str) -> Published:
    return Published(seq, f"h{seq}", series=series)


def test_a_full_backlog_drops_the_older_snapshot_of_the_same_series_first() -> None:
    async def scenario() -> None:
        hub = Hub(queue_size=3)
        viewer = hub.subscribe("job")
        for item in [snapshot(1, "histogram:a"), snapshot(2, "histogram:b"), scalars(3), snapshot(4, "histogram:b")]:
            hub.publish("job", item)
        assert [i.seq for i in await viewer.take()] == [1, 3, 4]  # 2 made room for 4, its newer self
        assert viewer.coalesced == 1 and not viewer.overflowed

    asyncio.run(scenario())


def test_then_any_older_snapshot_then_overflow() -> None:
    async def scenario() -> None:
        hub = Hub(queue_size=2)
        viewer = hub.subscribe("job")
        hub.publish("job", snapshot(1, "boundary:"))
        hub.publish("job", scalars(2))
        hub.publish("job", scalars(3))  # no same series: the older snapshot goes
        assert not viewer.overflowed
        hub.publish("job", scalars(4))  # nothing left to drop
        assert viewer.overflowed
        assert await viewer.take() == [OVERFLOW]
        hub.publish("job", scalars(5))
        assert not viewer.backlog  # an overflowed viewer gets nothing more

    asyncio.run(scenario())


def test_a_slow_viewer_does_not_touch_the_others() -> None:
    async def scenario() -> None:
        hub = Hub(queue_size=3)
        slow, fast = hub.subscribe("job"), hub.subscribe("job")
        other_job = hub.subscribe("other")
        for seq in range(1, 7):
            hub.publish("job", scalars(seq))
            assert [i.seq for i in await fast.take()] == [seq]  # the fast viewer keeps up
        assert slow.overflowed and not fast.overflowed
        assert not other_job.backlog
        hub.unsubscribe(slow)
        hub.unsubscribe(fast)
        assert hub.viewers("job") == 0 and hub.viewers("other") == 1

    asyncio.run(scenario())


def test_the_newest_events_of_a_running_job_are_kept_for_viewers_that_arrive() -> None:
    hub = Hub(queue_size=8, recent_bytes=30)
    for seq in range(1, 6):
        hub.publish("j", Published(seq, "x" * 10))  # 10 bytes each: the newest three fit
    assert [item.seq for item in hub.recent_since("j", 2) or []] == [3, 4, 5]
    assert hub.recent_since("j", 5) == []  # nothing new, and nothing to read from the store either
    assert hub.recent_since("j", 1) is None  # seq 2 was let go: the store must replay
    assert hub.recent_since("other", 0) is None
    hub.publish("j", Published(6, "{}", final=True))
    assert hub.recent_since("j", 5) is None  # an ended job's history comes from the store


def test_viewers_taking_the_same_items_share_one_join() -> None:
    hub = Hub(queue_size=8)
    batch = [Published(1, '{"a":1}'), Published(2, '{"b":2}')]
    messages = hub.messages(batch, 100, 1000)
    assert messages == ['[{"a":1},{"b":2}]']
    assert hub.messages(list(batch), 100, 1000) is messages  # the next viewer: no second join
    assert hub.messages(batch[:1], 100, 1000) == ['[{"a":1}]']  # other items: joined anew
    assert hub.messages(batch, 1, 1000) == ['[{"a":1}]', '[{"b":2}]']


def test_a_viewer_that_leaves_wakes_from_take() -> None:
    async def scenario() -> None:
        hub = Hub(queue_size=8)
        viewer = hub.subscribe("job")
        waiting = asyncio.create_task(viewer.take())
        await asyncio.sleep(0)
        viewer.leave()
        assert await asyncio.wait_for(waiting, 5) == [] and viewer.gone

    asyncio.run(scenario())
