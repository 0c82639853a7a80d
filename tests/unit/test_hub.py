"""The hub never waits on a viewer: a full queue makes that viewer overflow, the others go on."""

from __future__ import annotations

import asyncio

from trainscope.stream.hub import OVERFLOW, Hub, Published


def test_slow_viewer_overflows_without_touching_the_others() -> None:
    async def scenario() -> None:
        hub = Hub(queue_size=3)
        slow, fast = hub.subscribe("job"), hub.subscribe("job")
        other_job = hub.subscribe("other")
        for seq in range(1, 7):
            hub.publish("job", Published(seq, f"e{seq}"))
            while not fast.queue.empty():  # the fast viewer keeps up
                assert fast.queue.get_nowait().seq == seq
        assert slow.overflowed
        assert slow.queue.get_nowait() is OVERFLOW and slow.queue.empty()
        assert not fast.overflowed
        assert other_job.queue.empty()
        hub.unsubscribe(slow)
        hub.unsubscribe(fast)
        assert hub.viewers("job") == 0 and hub.viewers("other") == 1

    asyncio.run(scenario())
