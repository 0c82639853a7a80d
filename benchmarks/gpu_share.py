"""N jobs sharing one device: the aggregate steps/s of N identical jobs started together on N workers,
against one job alone on the same server, in the same run. Small nets leave a GPU mostly idle between
kernel launches, so several workers on one GPU should add up (target on a GPU: >= 0.8 x N x one; measured
with plain PyTorch on an H200, 8 processes gave 8.2x one). On this 2-core CPU it shows the cores filling.

    .venv/bin/python benchmarks/gpu_share.py [--device cuda] [--jobs 1 2 4 8] [--steps 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import LiveServer


def spec(device: str, steps: int) -> dict[str, Any]:
    """The digits MLP of benchmarks/throughput.py: 64-128-64, Adam, batch 64; telemetry as by default."""
    return {
        "device": device,
        "data": {"kind": "digits"},
        "model": {"hidden": [64, 128, 64], "activation": "relu"},
        "optim": {"optimizer": "adam", "lr": 0.001, "batch_size": 64, "steps": steps, "eval_every": 100},
    }


def together(server: LiveServer, count: int, device: str, steps: int) -> float:
    """Steps/s of `count` jobs started at once: all their steps over the span from the first one's first
    stored train loss to the last one's last."""
    jobs = [server.submit(spec(device, steps)) for _ in range(count)]
    spans = []
    for job in jobs:
        server.wait_status(job["id"], {"done"}, timeout=900)
        scalars = [e for e in server.stored_events(job["id"]) if e["type"] == "scalars"]
        spans.append((scalars[0]["wall"], scalars[-1]["wall"]))
    return count * (steps - 1) / (max(end for _, end in spans) - min(start for start, _ in spans))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        env = {"TRAINSCOPE_DEVICE": args.device, "TRAINSCOPE_LIMITS__MAX_JOBS_PER_CLIENT": "64"}
        server = LiveServer(Path(folder) / "share.db", workers=max(args.jobs), env=env).start()
        try:
            together(server, 1, args.device, 200)  # warm-up: each worker's first job pays its lazy imports
            alone = together(server, 1, args.device, args.steps)
            for count in args.jobs:
                total = together(server, count, args.device, args.steps)
                rows.append({"jobs": count, "steps_per_s": total, "one_alone": alone, "ratio": total / alone})
                print(
                    f"{count} jobs on one {args.device}: {total:.0f} steps/s in all = {total / alone:.2f}x one job "
                    f"alone ({alone:.0f}); {total / alone / count:.2f} x N"
                )
        finally:
            server.stop()
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()
