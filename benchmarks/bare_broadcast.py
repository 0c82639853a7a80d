"""The baseline of benchmarks/load.py: the barest FastAPI broadcast of the same traffic.

    python benchmarks/bare_broadcast.py PORT SCHEDULE

SCHEDULE is the frames one Trainscope viewer received, as (seconds, characters, events) (see
viewers.py). This server sends the same frames, at the same offsets, looping, to every connected
viewer, one viewer after another (faster than asyncio.gather here: DESIGN.md), each frame a JSON array
of that many events padded to that length with `seq` and `wall` stamped when it is sent. No store, no
worker, no queue per viewer: what is left is uvicorn, Starlette's websocket and the kernel.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

viewers: set[WebSocket] = set()


def frame(seq: int, characters: int, events: int) -> tuple[str, int]:
    """A JSON array of `events` events, about `characters` long, and the next seq."""
    wall = time.time()
    heads = [{"seq": seq + i, "wall": wall, "type": "x", "pad": ""} for i in range(events)]
    pad = max(0, characters - len(json.dumps(heads))) // max(1, events)
    for head in heads:
        head["pad"] = "x" * pad
    return json.dumps(heads), seq + events


async def broadcast(schedule: list[tuple[float, int, int]]) -> None:
    seq, length = 1, (schedule[-1][0] + 0.05) if schedule else 1.0
    while True:
        began = time.monotonic()
        for offset, characters, events in schedule:
            await asyncio.sleep(max(0.0, began + offset - time.monotonic()))
            message, seq = frame(seq, characters, events)
            for viewer in list(viewers):
                try:
                    await viewer.send_text(message)
                except (WebSocketDisconnect, RuntimeError):
                    viewers.discard(viewer)
        await asyncio.sleep(max(0.0, began + length - time.monotonic()))


def create_app(schedule: list[tuple[float, int, int]]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(broadcast(schedule))
        yield
        task.cancel()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, int]:
        return {"viewers": len(viewers)}

    @app.websocket("/ws")
    async def follow(websocket: WebSocket) -> None:
        await websocket.accept()
        viewers.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            viewers.discard(websocket)

    return app


if __name__ == "__main__":
    port, schedule_path = int(sys.argv[1]), sys.argv[2]
    with open(schedule_path) as file:
        schedule = [tuple(row) for row in json.load(file)]
    uvicorn.run(create_app(schedule), host="127.0.0.1", port=port, ws_per_message_deflate=False, log_level="warning")  # type: ignore[arg-type]
