"""Where the tiny path (training/tiny.py: a plain MLP's step written out in NumPy) stops beating torch's
eager step: fit() with telemetry on, on spiral, ReLU, Adam, for hidden widths 8 to 256, depths 2 and 3 and
batches 10, 32 and 128, each configuration run both ways in the same process, alternating. Prints each
one's steps/s both ways and their ratio; training/stacking.py's TINY_MAX_WIDTH is set from it.

    .venv/bin/python benchmarks/tiny_widths.py [--steps 600] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch
from threadpoolctl import threadpool_limits

from trainscope.schemas import JobSpec
from trainscope.training import stacking
from trainscope.training.driver import fit

WIDTHS, DEPTHS, BATCHES = (8, 16, 32, 64, 128, 256), (2, 3), (10, 32, 128)


def spec(width: int, depth: int, batch: int, steps: int) -> JobSpec:
    return JobSpec.model_validate(
        {
            "data": {"dataset": "spiral", "n_points": 500},
            "model": {"hidden": [width] * depth, "activation": "relu"},
            "optim": {"optimizer": "adam", "lr": 0.01, "batch_size": batch, "steps": steps, "eval_every": 50},
        }
    )


def steps_per_s(job: JobSpec, numpy_step: bool) -> float:
    """One run's steps/s with the tiny path's width limit lifted (numpy_step) or below every width."""
    limit = stacking.TINY_MAX_WIDTH
    stacking.TINY_MAX_WIDTH = 1 << 20 if numpy_step else 0
    try:
        started = time.perf_counter()
        fit(job, lambda event: None)
        return job.optim.steps / (time.perf_counter() - started)
    finally:
        stacking.TINY_MAX_WIDTH = limit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in a worker (jobs/worker.py), NumPy's BLAS too
    threadpool_limits(1, user_api="blas")
    rows: list[dict[str, Any]] = []
    steps_per_s(spec(8, 2, 10, 50), True), steps_per_s(spec(8, 2, 10, 50), False)  # warm-up
    for depth in DEPTHS:
        for width in WIDTHS:
            for batch in BATCHES:
                job = spec(width, depth, batch, args.steps)
                eager, numpy_ = [], []
                for _ in range(args.repeats):  # alternate, so drift on a noisy machine hits both alike
                    eager.append(steps_per_s(job, False))
                    numpy_.append(steps_per_s(job, True))
                row = {"depth": depth, "width": width, "batch": batch}
                row |= {"eager": statistics.median(eager), "numpy": statistics.median(numpy_)}
                row["ratio"] = row["numpy"] / row["eager"]
                rows.append(row)
                print(
                    f"depth {depth} width {width:3d} batch {batch:3d}: torch eager {row['eager']:6.0f} steps/s, "
                    f"NumPy {row['numpy']:6.0f} = {row['ratio']:.2f}x",
                    flush=True,
                )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()
