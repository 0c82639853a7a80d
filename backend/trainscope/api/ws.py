"""/ws/jobs/{id}: the job's stored history, then its live events, with no gap and no duplicate.

?after=SEQ: only events newer than SEQ. ?history=compact: a long run's history thinned (first and
latest points and snapshots always kept) before the live events; seqs then have gaps in the history.
Close codes: 1000 after the job's final status; 4400 bad query; 4403 Origin not allowed; 4404 unknown
job; 4429 too many viewers of this job; 1008 the viewer sent a message (viewers only listen); 1009 a
message over the size limit; 4008 the viewer fell too far behind (reconnect with ?after=SEQ to get
exactly what it missed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from trainscope.api.security import origin_allowed
from trainscope.config import Settings
from trainscope.jobs.reads import json_arrays
from trainscope.store.base import RunStore
from trainscope.stream.hub import OVERFLOW, Hub, Subscriber, return_freed_memory
from trainscope.stream.replay import ReplayReader

router = APIRouter()

CLOSE_BAD_REQUEST = 4400
CLOSE_UNKNOWN_JOB = 4404
CLOSE_TOO_SLOW = 4008
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_MANY_VIEWERS = 4429
CLOSE_POLICY = 1008


async def until_disconnect(websocket: WebSocket) -> None:
    """Return when the client goes away; a viewer that sends anything is closed (it only listens)."""
    message = await websocket.receive()
    if message["type"] != "websocket.disconnect":
        await websocket.close(CLOSE_POLICY, "viewers send no messages")


async def send_page(websocket: WebSocket, replays: ReplayReader, messages: Iterable[str]) -> None:
    """History, sent in the replay's turn (see ReplayReader.turns)."""
    async with replays.turns:
        for message in messages:
            await websocket.send_text(message)


async def replay(websocket: WebSocket, replays: ReplayReader, job_id: str, after: int) -> tuple[int, bool]:
    """Send stored events with seq > after; return the last seq sent and whether the job has ended."""
    final = False
    while page := await replays.page(job_id, after):
        await send_page(websocket, replays, page.messages)
        after, final = page.last_seq, final or page.final
    return after, final


async def replay_compact(
    websocket: WebSocket, store: RunStore, replays: ReplayReader, job_id: str, after: int
) -> tuple[int, bool]:
    """Like replay, thinned as compact_history thins (planned in a first pass over the stored history,
    sent in a second), a page at a time: a heavy job's whole history is never in memory at once. The
    last seq returned is the last one read."""
    record = await run_in_threadpool(store.get_job, job_id)
    until = record.last_seq if record else after
    if until <= after:
        return after, False
    planned, plan = await replays.plan(job_id, after, until)
    final = False
    while after < planned and (page := await replays.compact_page(job_id, after, planned, plan)):
        await send_page(websocket, replays, page.messages)
        after, final = page.last_seq, final or page.final
    while after < until and (page := await replays.page(job_id, after)):  # past a plan made a moment ago
        await send_page(websocket, replays, page.messages)
        after, final = page.last_seq, final or page.final
    return after, final


async def follow(websocket: WebSocket, subscriber: Subscriber, after: int, hub: Hub, settings: Settings) -> bool:
    """Forward live events newer than `after` until the final one; False if the viewer must go."""
    while True:
        items = await subscriber.take()
        if subscriber.gone:
            return False
        if OVERFLOW in items:
            await websocket.close(CLOSE_TOO_SLOW, f"too far behind; reconnect with ?after={after}")
            return False
        fresh = [item for item in items if item.seq > after]  # replay already sent the rest
        if fresh:
            for message in hub.messages(fresh, settings.replay_chunk, settings.message_bytes):
                await websocket.send_text(message)
            after = fresh[-1].seq
            if any(item.final for item in fresh):
                return True


@router.websocket("/ws/jobs/{job_id}")
async def follow_job(websocket: WebSocket, job_id: str) -> None:
    state = websocket.app.state
    store: RunStore = state.store
    hub: Hub = state.hub
    replays: ReplayReader = state.replays
    settings: Settings = state.settings
    await websocket.accept()
    if not origin_allowed(websocket.headers, settings):
        await websocket.close(CLOSE_FORBIDDEN_ORIGIN, "this Origin may not follow jobs here")
        return
    try:
        after = int(websocket.query_params.get("after", "0"))
        history = websocket.query_params.get("history", "full")
        if after < 0 or history not in ("full", "compact"):
            raise ValueError
    except ValueError:
        await websocket.close(CLOSE_BAD_REQUEST, "after must be a non-negative integer; history full or compact")
        return
    record = await run_in_threadpool(store.get_job, job_id)
    if record is None:
        await websocket.close(CLOSE_UNKNOWN_JOB, f"no job {job_id!r}")
        return
    if after > record.last_seq:  # nothing a viewer was sent can lie past what is stored
        await websocket.close(CLOSE_BAD_REQUEST, f"after={after} is past this job's last event (seq {record.last_seq})")
        return
    if hub.viewers(job_id) >= settings.limits.max_viewers_per_job:
        await websocket.close(CLOSE_TOO_MANY_VIEWERS, "this job has as many viewers as it may")
        return
    subscriber = hub.subscribe(job_id)  # before the replay, so nothing falls between the two
    client_gone = asyncio.create_task(until_disconnect(websocket))
    client_gone.add_done_callback(lambda _: subscriber.leave())
    try:
        recent = hub.recent_since(job_id, after) if history == "full" else None
        if recent is not None:  # everything since `after` is still in memory: no store read
            messages = json_arrays([item.body for item in recent], settings.replay_chunk, settings.message_bytes)
            await send_page(websocket, replays, messages)
            after, final = (recent[-1].seq if recent else after), False
        elif history == "compact":
            after, final = await replay_compact(websocket, store, replays, job_id, after)
        else:
            after, final = await replay(websocket, replays, job_id, after)
        final = final or (record.status.terminal and after >= record.last_seq)  # ended before; all sent
        if final or await follow(websocket, subscriber, after, hub, settings):
            await websocket.close(1000, "job ended")
    except (WebSocketDisconnect, RuntimeError):  # RuntimeError: the socket was closed under us (policy close)
        pass
    finally:
        hub.unsubscribe(subscriber)
        client_gone.cancel()
        if not hub.viewers(job_id):
            await asyncio.to_thread(return_freed_memory)
