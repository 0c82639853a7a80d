"""What a lesson page's poll costs: GET /api/groups/{id} for a finished lesson group, the first read (the
judge reads every run's events from SQLite) and later ones (the verdict is cached), against GET of one job
as the baseline, all on the same live server (loopback only, bounded: a few dozen requests).

    .venv/bin/python benchmarks/verdict.py [--lesson generalization] [--reads 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import LiveServer


def timed(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    client.get(path).raise_for_status()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lesson", default="generalization")
    parser.add_argument("--reads", type=int, default=20)
    args = parser.parse_args()
    ended = {"done", "diverged", "failed", "cancelled"}
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "bench.db", workers=2).start()
        try:
            group = server.post(f"/api/lessons/{args.lesson}/run", {}).json()
            for run in group["runs"]:  # wait on the jobs, not the group: reading the group would judge it
                server.wait_status(run["job_id"], ended, timeout=300)
            with httpx.Client(base_url=server.url, timeout=30) as client:
                first = timed(client, f"/api/groups/{group['id']}")
                cached = [timed(client, f"/api/groups/{group['id']}") for _ in range(args.reads)]
                baseline = [timed(client, f"/api/jobs/{group['runs'][0]['job_id']}") for _ in range(args.reads)]
            group = server.group(group["id"])
        finally:
            server.stop()
    events = sum(run["job"]["last_seq"] for run in group["runs"])
    base = statistics.median(baseline)
    print(f"lesson {args.lesson}: {len(group['runs'])} runs, {events} stored events")
    print(f"GET one job (baseline):        median {base * 1e3:.1f} ms")
    print(f"GET group, first (judged):     {first * 1e3:.1f} ms  = {first / base:.1f}x the baseline")
    again = statistics.median(cached)
    print(f"GET group, cached verdict:     median {again * 1e3:.1f} ms  = {again / base:.1f}x")


if __name__ == "__main__":
    main()
