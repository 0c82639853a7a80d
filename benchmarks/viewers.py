"""A process of websocket viewers for benchmarks/load.py: several such processes share the load so that
no single client event loop's backlog is counted as the server's latency (measured: 200 viewers in one
loop read p50 330 ms where a separate single viewer read 34 ms).

    python benchmarks/viewers.py URL COUNT START UNTIL OUT [--stalled]

Each viewer follows URL until UNTIL (epoch seconds) and counts the emit->receive latency (receive time
minus the event's `wall`) of events emitted at or after START, the warm-up (connecting, the first
replay) left out. OUT gets JSON: latencies, missed seqs, close codes, errors, and the first viewer's
frames as (seconds since START, characters, events) so a baseline server can send the same traffic.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from typing import Any

import websockets


class Follower:
    def __init__(self, start: float) -> None:
        self.start = start
        self.latencies: list[float] = []
        self.seqs: list[int] = []
        self.frames: list[tuple[float, int, int]] = []
        self.close_code: int | None = None
        self.caught_up: float | None = None  # seconds from connecting to the first live event

    async def run(self, url: str, until: float) -> None:
        began = time.time()
        async with websockets.connect(url, max_size=None, open_timeout=30, compression=None) as ws:
            try:
                while (remaining := until - time.time()) > 0:
                    message = await asyncio.wait_for(ws.recv(), timeout=remaining)
                    now = time.time()
                    events = json.loads(message)
                    if self.caught_up is None and events[-1]["wall"] >= began:
                        self.caught_up = now - began
                    for event in events:
                        self.seqs.append(event["seq"])
                        if event["wall"] >= self.start:
                            self.latencies.append(now - event["wall"])
                    if events[0]["wall"] >= self.start:
                        self.frames.append((events[0]["wall"] - self.start, len(message), len(events)))
            except (TimeoutError, websockets.ConnectionClosed):
                pass
            self.close_code = ws.close_code

    def missed(self) -> int:
        return (self.seqs[-1] - self.seqs[0] + 1 - len(self.seqs)) if self.seqs else 0


async def stalled(url: str, until: float) -> int | None:
    """A viewer that connects and never reads: the client stops reading its socket once its small
    buffer is full, and a tiny receive window makes the server's sends to it back up within seconds
    (loopback's default buffers would absorb minutes of events). Returns how the server closed it."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    async with websockets.connect(url, sock=sock, max_queue=1, open_timeout=30) as ws:
        await asyncio.sleep(max(0.0, until - time.time()))
        try:  # now read what is buffered, for up to 10 s, to find whether the server closed it and how
            while (remaining := until + 10 - time.time()) > 0:
                await asyncio.wait_for(ws.recv(), timeout=remaining)
        except (TimeoutError, websockets.ConnectionClosed):
            pass
        return ws.close_code  # None: still open, its backlog made room by dropping older snapshots


async def main(url: str, count: int, start: float, until: float, with_stalled: bool) -> dict[str, Any]:
    followers = [Follower(start) for _ in range(count)]
    stall = asyncio.create_task(stalled(url, until)) if with_stalled else None
    results = await asyncio.gather(*(f.run(url, until) for f in followers), return_exceptions=True)
    return {
        "latencies": [latency for f in followers for latency in f.latencies],
        "events": [len(f.seqs) for f in followers],
        "missed": sum(f.missed() for f in followers),
        "errors": [repr(r) for r in results if isinstance(r, BaseException)],
        "close_codes": [f.close_code for f in followers],
        "caught_up": [f.caught_up for f in followers],
        "stalled_close_code": (await stall) if stall else None,
        "frames": followers[0].frames if followers else [],
    }


if __name__ == "__main__":
    url, count, start, until, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    result = asyncio.run(main(url, count, start, until, "--stalled" in sys.argv[6:]))
    with open(out, "w") as file:
        json.dump(result, file)
