"""Server memory while many clients read one heavy job at once: the peak resident memory of the server
process above its idle baseline (measured in the same run, after the runs ended), for each kind of
read: a lesson group's verdict, REST /events paged to the end, a full websocket replay and a compact
one. Loopback only; bounded: one lesson run, `--readers` clients per kind, each reading once.

    .venv/bin/python benchmarks/reads.py [--readers 10] [--steps 250]

The heavy job: the non-linearity lesson with a 200x200 boundary map at every step (~210 KB an event),
as many steps as fit the default per-job storage budget (limits.max_job_bytes, 64 MB).
Target (issue 10): under 300 MB above idle for 10 concurrent readers of each kind.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import LiveServer

ENDED = {"done", "diverged", "failed", "cancelled"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def peak_while(pid: int, readers: list[Callable[[], None]]) -> tuple[float, float]:
    """Run the readers at once; the server's peak RSS meanwhile (polled every 10 ms) and the wall time."""
    threads = [threading.Thread(target=read) for read in readers]
    peak, start = rss_mb(pid), time.monotonic()
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, rss_mb(pid))
        time.sleep(0.01)
    return peak, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--steps", type=int, default=250)
    args = parser.parse_args()
    heavy = {
        "probes.boundary_every": 1,
        "probes.boundary_grid": 200,
        "probes.min_interval_s": 0,
        "optim.steps": args.steps,
        "optim.eval_every": 50,
    }
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "reads.db", workers=2).start()
        try:
            assert server.process is not None
            pid = server.process.pid
            group = server.post("/api/lessons/nonlinearity/run", {"overrides": heavy}).json()
            for run in group["runs"]:
                server.wait_status(run["job_id"], ENDED, timeout=600)
            job_id = group["runs"][0]["job_id"]
            job = server.job(job_id)
            stored = server.health()["store_bytes"] / 2**20
            print(f"heavy job: {job['last_seq']} events, {job['status']}; store {stored:.0f} MB in all")

            def verdict() -> None:
                httpx.get(f"{server.url}/api/groups/{group['id']}", timeout=300).raise_for_status()

            def events() -> None:
                after = 0
                while after < job["last_seq"]:
                    page = httpx.get(
                        f"{server.url}/api/jobs/{job_id}/events", params={"after": after, "limit": 10_000}, timeout=300
                    ).json()["events"]
                    after = page[-1]["seq"]

            def replay(history: str) -> Callable[[], None]:
                def read() -> None:
                    with connect(f"{server.ws_url}/ws/jobs/{job_id}?history={history}", max_size=None) as socket:
                        try:
                            while True:
                                socket.recv(timeout=300)
                        except ConnectionClosed:
                            return

                return read

            time.sleep(1.0)
            idle = rss_mb(pid)
            print(f"server idle: {idle:.0f} MB RSS (the baseline)")
            for name, read in (
                ("group verdict", verdict),
                ("REST /events to the end", events),
                ("websocket full replay", replay("full")),
                ("websocket compact replay", replay("compact")),
            ):
                peak, wall = peak_while(pid, [read] * args.readers)
                time.sleep(1.0)
                after = rss_mb(pid)
                print(
                    f"{args.readers} x {name:<26} peak {peak - idle:+7.0f} MB above idle ({peak / idle:.2f}x), "
                    f"{wall:5.1f} s; after {after - idle:+6.0f} MB"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
