"""/ws/jobs/{id}: the job's stored history, then its live events, with no gap and no duplicate.

Close codes: 1000 after the job's final status; 4400 bad query; 4404 unknown job; 4008 the viewer
fell too far behind (reconnect with ?after=SEQ to get exactly what it missed).
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from trainscope.config import Settings
from trainscope.jobs.reads import events_json
from trainscope.schemas import TERMINAL
from trainscope.store.base import RunStore, StoredEvent
from trainscope.stream.hub import OVERFLOW, Hub, Published, Subscriber

router = APIRouter()

CLOSE_BAD_REQUEST = 4400
CLOSE_UNKNOWN_JOB = 4404
CLOSE_TOO_SLOW = 4008


def is_final(event: StoredEvent) -> bool:
    return event.type == "status" and json.loads(event.body)["status"] in TERMINAL


async def until_disconnect(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes away."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def replay(websocket: WebSocket, store: RunStore, job_id: str, after: int, chunk: int) -> tuple[int, bool]:
    """Send stored events with seq > after; return the last seq sent and whether the job has ended."""
    final = False
    while True:
        events = await run_in_threadpool(store.read_events, job_id, after, chunk)
        if not events:
            return after, final
        await websocket.send_text(events_json(events))
        after = events[-1].seq
        final = final or any(is_final(e) for e in events)


async def follow(websocket: WebSocket, subscriber: Subscriber, after: int, client_gone: asyncio.Task[None]) -> bool:
    """Forward live events newer than `after` until the final one; False if the viewer must go."""
    while True:
        getter = asyncio.ensure_future(subscriber.queue.get())
        await asyncio.wait({getter, client_gone}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            return False
        items: list[Published] = [getter.result()]
        while not subscriber.queue.empty():
            items.append(subscriber.queue.get_nowait())
        if OVERFLOW in items:
            await websocket.close(CLOSE_TOO_SLOW, f"too far behind; reconnect with ?after={after}")
            return False
        fresh = [item for item in items if item.seq > after]  # replay already sent the rest
        if fresh:
            await websocket.send_text("[" + ",".join(item.body for item in fresh) + "]")
            after = fresh[-1].seq
            if any(item.final for item in fresh):
                return True


@router.websocket("/ws/jobs/{job_id}")
async def follow_job(websocket: WebSocket, job_id: str) -> None:
    state = websocket.app.state
    store: RunStore = state.store
    hub: Hub = state.hub
    settings: Settings = state.settings
    await websocket.accept()
    try:
        after = int(websocket.query_params.get("after", "0"))
        if after < 0:
            raise ValueError
    except ValueError:
        await websocket.close(CLOSE_BAD_REQUEST, "after must be a non-negative integer")
        return
    if await run_in_threadpool(store.get_job, job_id) is None:
        await websocket.close(CLOSE_UNKNOWN_JOB, f"no job {job_id!r}")
        return
    subscriber = hub.subscribe(job_id)  # before the replay, so nothing falls between the two
    client_gone = asyncio.create_task(until_disconnect(websocket))
    try:
        after, final = await replay(websocket, store, job_id, after, settings.replay_chunk)
        if final or await follow(websocket, subscriber, after, client_gone):
            await websocket.close(1000, "job ended")
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(subscriber)
        client_gone.cancel()
