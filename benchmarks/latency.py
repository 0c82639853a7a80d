"""Submit -> first `scalars` event latency with warm workers, over a live server on loopback.

For each of N jobs: POST the spec, open the websocket (as the page does), stop the clock at the first
message holding a scalars event. Baseline in the same run: the same websocket connect -> first message
for a job that has already finished (replay from the store), i.e. the transport floor without the
queue, the dispatch and the first training step. Target: p50 < 0.5 s on the 2-core machine.

    .venv/bin/python benchmarks/latency.py [--jobs 20] [--workers 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import LiveServer

SPEC = {"data": {"dataset": "spiral", "n_points": 300}, "optim": {"steps": 200, "eval_every": 50}}


def first_message_with(ws_url: str, job_id: str, kind: str, timeout: float = 30) -> None:
    with connect(f"{ws_url}/ws/jobs/{job_id}", open_timeout=10) as ws:
        deadline = time.monotonic() + timeout
        while True:
            events = json.loads(ws.recv(timeout=max(0.0, deadline - time.monotonic())))
            if any(event["type"] == kind for event in events):
                return


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "latency.db", workers=args.workers).start()
        try:
            latencies, floors = [], []
            for _ in range(args.jobs):
                started = time.perf_counter()
                job = server.submit(SPEC)
                first_message_with(server.ws_url, job["id"], "scalars")
                latencies.append(time.perf_counter() - started)
                server.wait_status(job["id"], {"done"})  # the next job finds a warm, idle worker
                started = time.perf_counter()
                first_message_with(server.ws_url, job["id"], "scalars")
                floors.append(time.perf_counter() - started)
        finally:
            server.stop()
    result = {
        "jobs": args.jobs,
        "p50_s": statistics.median(latencies),
        "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies),
        "baseline_replay_p50_s": statistics.median(floors),
    }
    result["p50_ratio_to_baseline"] = result["p50_s"] / result["baseline_replay_p50_s"]
    print(
        f"submit -> first scalars over {args.jobs} jobs: p50 {result['p50_s'] * 1000:.1f} ms, "
        f"p95 {result['p95_s'] * 1000:.1f} ms, max {result['max_s'] * 1000:.1f} ms; "
        f"baseline (connect -> first replayed message) p50 {result['baseline_replay_p50_s'] * 1000:.1f} ms; "
        f"ratio {result['p50_ratio_to_baseline']:.1f}x"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
