"""Lockstep groups against their runs one after another, in the same process: N = 2, 4, 8, 16 matched runs
of TensorFlow Playground's default problem (circle, 2-4-2 tanh, SGD, batch 10), learning rates spread over
two decades, telemetry on, flat out. Prints the stacked group's aggregate steps/s (N x its steps over its
wall time) as a ratio to one run alone on the same path, the tiny path (target: >= 0.5 x N), to one run
alone stepped by torch op by op (how every run trained before the tiny path), to TensorFlow Playground's own
loop (~110,000 steps/s in Node, measured outside this script), and whether every run's figures are the
ones it has alone.

A second table stacks a net past the tiny path (digits, 64-64-10 ReLU, Adam) under torch.func.vmap,
against its runs one after another, and prints how far a final figure stacked is from its run alone
(vmap rounds a batched product differently).

    .venv/bin/python benchmarks/lockstep.py [--steps 3000] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from trainscope.schemas import JobSpec
from trainscope.training import driver
from trainscope.training.driver import fit
from trainscope.training.lockstep import fit_stacked
from trainscope.training.stacking import PATH_VMAP, stack_path

TENSORFLOW_PLAYGROUND_LOOP = 110_000  # steps/s of its own nn.ts loop under Node on this problem (issue 25)


def group(n: int, steps: int) -> list[JobSpec]:
    rates = np.geomspace(0.003, 0.3, n) if n > 1 else [0.03]
    return [
        JobSpec.model_validate(
            {
                "data": {"dataset": "circle", "n_points": 500, "noise": 0.0, "val_fraction": 0.5},
                "model": {"hidden": [4, 2], "activation": "tanh"},
                "optim": {"optimizer": "sgd", "lr": float(lr), "batch_size": 10, "steps": steps, "eval_every": 25},
            }
        )
        for lr in rates
    ]


def separately(specs: list[JobSpec]) -> tuple[float, list[dict[str, float]]]:
    started = time.perf_counter()
    summaries = [fit(spec, lambda event: None).summary for spec in specs]
    return time.perf_counter() - started, summaries


def eager(spec: JobSpec) -> float:
    """One run's steps/s with the tiny path turned off: torch, operation by operation."""
    tiny_step = driver.tiny_step
    driver.tiny_step = lambda *_: None  # type: ignore[assignment]
    try:
        seconds, _ = separately([spec])
    finally:
        driver.tiny_step = tiny_step
    return spec.optim.steps / seconds


def together(specs: list[JobSpec]) -> tuple[float, list[dict[str, float]]]:
    started = time.perf_counter()
    results = fit_stacked(specs, [lambda event: None] * len(specs))
    return time.perf_counter() - started, [result.summary for result in results]


def same_figures(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    """Every run's final figures (throughput aside) equal, run by run."""

    def figures(summary: dict[str, float]) -> dict[str, float]:
        return {k: v for k, v in summary.items() if k != "steps_per_s"}

    return all(figures(x) == figures(y) for x, y in zip(a, b, strict=True))


def wider(n: int, steps: int) -> list[JobSpec]:
    """A net past the tiny path, which stacks under vmap: the generalization lesson's selection net
    (digits, 64-64-10 ReLU, Adam, batch 32), probes at their defaults."""
    return [
        JobSpec.model_validate(
            {
                "data": {"kind": "digits"},
                "model": {"hidden": [64], "activation": "relu"},
                "optim": {"optimizer": "adam", "lr": float(lr), "batch_size": 32, "steps": steps, "eval_every": 25},
            }
        )
        for lr in (np.geomspace(0.001, 0.03, n) if n > 1 else [0.01])
    ]


def largest_difference(a: list[dict[str, float]], b: list[dict[str, float]]) -> float:
    """The largest relative difference between a figure stacked and alone (vmap rounds a batched product
    differently from one run's)."""
    return max(
        abs(x[k] - y[k]) / max(abs(y[k]), 1e-12) for x, y in zip(a, b, strict=True) for k in y if k != "steps_per_s"
    )


def tiny_table(steps: int, repeats: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in (2, 4, 8, 16):
        specs = group(n, steps)
        one, stacked, torch_one = [], [], []
        for _ in range(repeats):  # alternate, so drift on a noisy machine hits all alike
            seconds, _ = separately(specs[:1])
            one.append(steps / seconds)
            torch_one.append(eager(specs[0]))
            seconds, stacked_figures = together(specs)
            stacked.append(n * steps / seconds)
        _, separate_figures = separately(specs)
        same = same_figures(stacked_figures, separate_figures)
        row = {
            "path": "numpy",
            "runs": n,
            "one_run_steps_per_s": statistics.median(one),
            "stacked_aggregate_steps_per_s": statistics.median(stacked),
            "one_run_eager_steps_per_s": statistics.median(torch_one),
            "figures_equal": same,
        }
        row["ratio_vs_one"] = row["stacked_aggregate_steps_per_s"] / row["one_run_steps_per_s"]
        row["ratio_vs_one_eager"] = row["stacked_aggregate_steps_per_s"] / row["one_run_eager_steps_per_s"]
        row["ratio_vs_tensorflow_playground_loop"] = row["stacked_aggregate_steps_per_s"] / TENSORFLOW_PLAYGROUND_LOOP
        rows.append(row)
        print(
            f"N={n:2d}: one run alone {row['one_run_steps_per_s']:.0f} steps/s; stacked group "
            f"{row['stacked_aggregate_steps_per_s']:.0f} in all = {row['ratio_vs_one']:.2f}x one run "
            f"({row['ratio_vs_one'] / n:.2f} x N; target >= 0.5 x N), "
            f"{row['ratio_vs_one_eager']:.1f}x one run stepped by torch ({row['one_run_eager_steps_per_s']:.0f}), "
            f"{row['ratio_vs_tensorflow_playground_loop']:.2f}x TensorFlow Playground's loop; "
            f"every run's figures equal to its run alone: {same}"
        )
    return rows


def vmap_table(steps: int, repeats: int) -> list[dict[str, Any]]:
    """The same for the wider net under vmap, against its N runs one after another (eager, as they run
    when they do not stack)."""
    rows: list[dict[str, Any]] = []
    for n in (2, 4, 8, 16):
        specs = wider(n, steps)
        assert stack_path(specs[0], "cpu") == PATH_VMAP, "the net must be past the tiny path"
        apart_, stacked = [], []
        for _ in range(repeats):
            seconds, separate_figures = separately(specs)
            apart_.append(n * steps / seconds)
            seconds, stacked_figures = together(specs)
            stacked.append(n * steps / seconds)
        row = {
            "path": "vmap",
            "runs": n,
            "one_after_another_steps_per_s": statistics.median(apart_),
            "stacked_aggregate_steps_per_s": statistics.median(stacked),
            "largest_relative_difference": largest_difference(stacked_figures, separate_figures),
        }
        row["ratio"] = row["stacked_aggregate_steps_per_s"] / row["one_after_another_steps_per_s"]
        rows.append(row)
        print(
            f"N={n:2d}: one after another {row['one_after_another_steps_per_s']:.0f} steps/s in all; stacked "
            f"{row['stacked_aggregate_steps_per_s']:.0f} = {row['ratio']:.2f}x; largest relative difference of "
            f"a final figure from its run alone {row['largest_relative_difference']:.1e}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in a worker (jobs/worker.py), NumPy's BLAS too
    threadpool_limits(1, user_api="blas")
    together(group(2, 100)), separately(group(1, 100)), together(wider(2, 50))  # warm-up
    print("Tiny path (TensorFlow Playground's problem), stacked in NumPy:")
    rows = tiny_table(args.steps, args.repeats)
    print("A net past the tiny path (digits, 64-64-10 ReLU, Adam), stacked under torch.func.vmap:")
    rows += vmap_table(args.steps // 5, args.repeats)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()
