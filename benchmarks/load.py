"""Load on one live server, loopback only, bounded in count and time.

Phase 1: 200 websocket viewers follow one running job while 20 jobs are submitted at once. Reports the
latency from the worker's emit (the event's `wall`) to each viewer's receive (p50/p99), events each
viewer missed (gaps in seq), errors, and the server's resident memory before and after.
Phase 2: the same with one more viewer that never reads: the others' latency must not change (its
queue overflows and it is closed with 4008 instead of holding up the pump).

    .venv/bin/python benchmarks/load.py [--viewers 200] [--submissions 20] [--seconds 8] [--json out.json]

The viewers run in this process on the same 2 cores as the server: latencies include their share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import LiveServer

# runs for well over a minute here, so it outlasts both phases
RUNNING = {
    "data": {"dataset": "spiral"},
    "model": {"hidden": [64, 64, 64]},
    "optim": {"steps": 100_000, "eval_every": 100},
}
SUBMITTED = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 50}}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


class Follower:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.seqs: list[int] = []
        self.close_code: int | None = None

    async def run(self, url: str, until: float) -> None:
        async with websockets.connect(url, max_size=None, open_timeout=20) as ws:
            try:
                while (remaining := until - time.time()) > 0:
                    message = await asyncio.wait_for(ws.recv(), timeout=remaining)
                    now = time.time()
                    for event in json.loads(message):
                        self.seqs.append(event["seq"])
                        self.latencies.append(now - event["wall"])
            except (TimeoutError, websockets.ConnectionClosed):
                pass
            self.close_code = ws.close_code

    def missed(self) -> int:
        return (self.seqs[-1] - self.seqs[0] + 1 - len(self.seqs)) if self.seqs else 0


async def stalled(url: str, until: float) -> int | None:
    """A viewer that connects and never reads: the client stops reading its socket once its small
    buffer is full, and a tiny receive window makes the server's sends to it back up within seconds
    (loopback's default buffers would absorb minutes of events)."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    async with websockets.connect(url, sock=sock, max_queue=1, open_timeout=20) as ws:
        await asyncio.sleep(max(0.0, until - time.time()))
        try:  # now read what is buffered, to find how the server closed it
            while True:
                await asyncio.wait_for(ws.recv(), timeout=10)
        except (TimeoutError, websockets.ConnectionClosed):
            pass
        return ws.close_code


async def phase(server: LiveServer, job_id: str, args: argparse.Namespace, with_stalled: bool) -> dict[str, Any]:
    url = f"{server.ws_url}/ws/jobs/{job_id}?after={server.job(job_id)['last_seq']}"
    assert server.process is not None
    server_cpu, own_cpu, wall = cpu_seconds(server.process.pid), time.process_time(), time.time()
    until = time.time() + args.seconds
    followers = [Follower() for _ in range(args.viewers)]
    tasks = [asyncio.create_task(f.run(url, until)) for f in followers]
    stall = asyncio.create_task(stalled(url, until)) if with_stalled else None
    errors = 0
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        await asyncio.sleep(1.0)  # let the viewers connect
        responses = await asyncio.gather(
            *(client.post("/api/jobs", json=SUBMITTED) for _ in range(args.submissions)), return_exceptions=True
        )
        errors += sum(1 for r in responses if isinstance(r, Exception) or r.status_code != 201)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors += sum(1 for r in results if isinstance(r, Exception))
    latencies = [latency for f in followers for latency in f.latencies]
    wall = time.time() - wall
    return {
        "server_cpu_share": (cpu_seconds(server.process.pid) - server_cpu) / wall,
        "viewers_cpu_share": (time.process_time() - own_cpu) / wall,
        "viewers": args.viewers,
        "stalled_viewer": with_stalled,
        "stalled_close_code": (await stall) if stall else None,
        "events_per_viewer": statistics.median(len(f.seqs) for f in followers),
        "latency_p50_ms": percentile(latencies, 0.5) * 1000,
        "latency_p99_ms": percentile(latencies, 0.99) * 1000,
        "missed_events": sum(f.missed() for f in followers),
        "errors": errors,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        env = {"TRAINSCOPE_LIMITS__MAX_JOBS_PER_CLIENT": "1000"}  # every request here comes from one address
        server = LiveServer(Path(folder) / "load.db", workers=1, env=env).start()
        try:
            assert server.process is not None
            pid = server.process.pid
            before = rss_mb(pid)
            job_id = server.submit(RUNNING)["id"]
            server.wait_status(job_id, {"running"})
            plain = await phase(server, job_id, args, with_stalled=False)
            with_stall = await phase(server, job_id, args, with_stalled=True)
            after = rss_mb(pid)
            server.post(f"/api/jobs/{job_id}/cancel")
        finally:
            server.stop()
    return {"rss_before_mb": before, "rss_after_mb": after, "plain": plain, "with_stalled_viewer": with_stall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    for name in ("plain", "with_stalled_viewer"):
        r = result[name]
        print(
            f"{name}: {r['viewers']} viewers, {r['events_per_viewer']:.0f} events each; emit->receive "
            f"p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms; missed {r['missed_events']}; "
            f"errors {r['errors']}; CPU: server {r['server_cpu_share']:.2f}, viewers {r['viewers_cpu_share']:.2f} cores"
            + (f"; stalled viewer closed with {r['stalled_close_code']}" if r["stalled_viewer"] else "")
        )
    ratio = result["with_stalled_viewer"]["latency_p99_ms"] / result["plain"]["latency_p99_ms"]
    print(f"p99 with a stalled viewer / without: {ratio:.2f}")
    print(f"server memory: {result['rss_before_mb']:.0f} MB before, {result['rss_after_mb']:.0f} MB after")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
