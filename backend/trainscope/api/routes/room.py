"""The workshop room: the presenter's page reports what it shows (PUT /api/room, with the token when
one is set); followers listen on /ws/room (close codes as /ws/jobs: 4403 Origin, 1008 a message sent,
4008 too far behind)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect, status

from trainscope.api.routes.jobs import MUTATING
from trainscope.api.security import origin_allowed
from trainscope.api.ws import CLOSE_FORBIDDEN_ORIGIN, CLOSE_TOO_SLOW, until_disconnect
from trainscope.config import Settings
from trainscope.schemas.room import PresenterState
from trainscope.stream.hub import OVERFLOW, Hub
from trainscope.stream.room import ROOM, Room

router = APIRouter(tags=["room"])


@router.put(
    "/api/room",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=MUTATING["responses"],
    dependencies=MUTATING["dependencies"],
)
async def update_presenter(state: PresenterState, request: Request) -> Response:
    """What the presenter's page shows now: every follower's page turns to it."""
    room: Room = request.app.state.room
    room.announce("presenter", state.model_dump(mode="json"))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.websocket("/ws/room")
async def follow_room(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    room: Room = websocket.app.state.room
    settings: Settings = websocket.app.state.settings
    await websocket.accept()
    if not origin_allowed(websocket.headers, settings):
        await websocket.close(CLOSE_FORBIDDEN_ORIGIN, "this Origin may not follow the room here")
        return
    subscriber = hub.subscribe(ROOM)  # before the presenter's state is read: nothing falls between
    client_gone = asyncio.create_task(until_disconnect(websocket))
    client_gone.add_done_callback(lambda _: subscriber.leave())
    try:
        after = 0
        if first := room.catch_up():
            await websocket.send_text("[" + ",".join(item.body for item in first) + "]")
            after = first[-1].seq
        while items := await subscriber.take():
            if OVERFLOW in items:
                await websocket.close(CLOSE_TOO_SLOW, "too far behind; reconnect")
                return
            fresh = [item.body for item in items if item.seq > after]
            if fresh:
                await websocket.send_text("[" + ",".join(fresh) + "]")
                after = items[-1].seq
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(subscriber)
        client_gone.cancel()
