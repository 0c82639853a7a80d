"""The Ray executor against the local one, in the same run on the same machine: start-up (to every worker
warm; for Ray, the cluster's own start beside it), submit -> first scalars event, and steps/s of one job
through the server flat out. The local executor is the baseline: each Ray figure is printed as a ratio.

    .venv/bin/python benchmarks/executors.py [--jobs 10] [--steps 3000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.latency import first_message_with
from tests.live import LiveServer
from tests.ray_cluster import RayCluster

LATENCY_SPEC = {"data": {"dataset": "spiral", "n_points": 300}, "optim": {"steps": 200, "eval_every": 50}}


def steps_per_second(server: LiveServer, steps: int) -> float:
    """One job's steps over the wall time between its first and its last train-loss point, as stored."""
    job = server.submit({"data": {"dataset": "spiral", "n_points": 300}, "optim": {"steps": steps}})
    server.wait_status(job["id"], {"done"}, timeout=600)
    scalars = [e for e in server.stored_events(job["id"]) if e["type"] == "scalars"]
    return (steps - 1) / (scalars[-1]["wall"] - scalars[0]["wall"])


def measure(server: LiveServer, jobs: int, steps: int) -> dict[str, float]:
    latencies = []
    for _ in range(jobs):
        started = time.perf_counter()
        job = server.submit(LATENCY_SPEC)
        first_message_with(server.ws_url, job["id"], "scalars")
        latencies.append(time.perf_counter() - started)
        server.wait_status(job["id"], {"done"})  # the next job finds a warm, idle worker
    rates = [steps_per_second(server, steps) for _ in range(3)]
    return {"first_event_p50_s": statistics.median(latencies), "steps_per_s": statistics.median(rates)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--json")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        local = LiveServer(Path(folder) / "local.db", workers=1).start()
        results["local"] = {"start_s": time.perf_counter() - started}
        try:
            results["local"] |= measure(local, args.jobs, args.steps)
        finally:
            local.stop()

        started = time.perf_counter()
        cluster = RayCluster(Path(folder)).start()
        cluster_s = time.perf_counter() - started
        try:
            started = time.perf_counter()
            env = {"TRAINSCOPE_EXECUTOR": "ray", "TRAINSCOPE_RAY_ADDRESS": cluster.address, **cluster.env}
            ray = LiveServer(Path(folder) / "ray.db", workers=1, env=env).start()
            results["ray"] = {"cluster_start_s": cluster_s, "start_s": time.perf_counter() - started}
            try:
                results["ray"] |= measure(ray, args.jobs, args.steps)
            finally:
                ray.stop()
        finally:
            cluster.stop()
    local_figures, ray_figures = results["local"], results["ray"]
    ratios = {name: ray_figures[name] / local_figures[name] for name in ("start_s", "first_event_p50_s", "steps_per_s")}
    results["ray_over_local"] = ratios
    print(
        f"start to warm workers: local {local_figures['start_s']:.1f} s, Ray {ray_figures['start_s']:.1f} s "
        f"({ratios['start_s']:.2f}x) after its cluster's own {ray_figures['cluster_start_s']:.1f} s\n"
        f"submit -> first scalars p50 over {args.jobs} jobs: local {local_figures['first_event_p50_s'] * 1000:.0f} ms, "
        f"Ray {ray_figures['first_event_p50_s'] * 1000:.0f} ms ({ratios['first_event_p50_s']:.2f}x)\n"
        f"steps/s through the server ({args.steps} steps, median of 3): local {local_figures['steps_per_s']:.0f}, "
        f"Ray {ray_figures['steps_per_s']:.0f} ({ratios['steps_per_s']:.2f}x)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
