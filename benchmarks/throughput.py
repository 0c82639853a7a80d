"""Training throughput of fit() with its telemetry vs a bare PyTorch loop on the same spec, same process.

Where a spec takes the tiny path (training/tiny.py: a small plain MLP on 2-D points, stepped in NumPy),
a third baseline: that NumPy step's own bare loop (no telemetry, no reports), so the ratio against it is
the cost of telemetry on that path, and the ratio against the torch loop is what the path gains. With
--server, TensorFlow Playground's default problem also runs flat out through a live server (one worker,
SQLite, every event stored): its steps/s as stored, against fit() in this process.

Two baselines: the bare loop alone (forward, backward, step), and the bare loop that also validates
every `eval_every` steps as the spec asks (so the ratio shows the cost of telemetry alone: streamed
losses, histograms, reports). A peer: the same bare loop logging the same scalars (train loss every
step, validation at each evaluation) and histograms (activations, weights, gradients at the same
interval) with torch.utils.tensorboard.SummaryWriter, as people use it; ours runs all its other
probes on top. Runs alternate so drift on a noisy machine hits all alike; medians are compared.
Target: ratio >= 0.95 vs bare, and faster than the TensorBoard peer.

    .venv/bin/python benchmarks/throughput.py [--repeats 5] [--device cpu|cuda] [--server] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from threadpoolctl import threadpool_limits
from torch import nn

from trainscope.schemas import JobSpec
from trainscope.training import driver
from trainscope.training.datasets import Split, load_split
from trainscope.training.devices import resolve_device
from trainscope.training.driver import fit
from trainscope.training.models import LayeredNet, build_model, make_optimizer
from trainscope.training.tasks import task_for
from trainscope.training.tasks.supervised import evaluate
from trainscope.training.tiny import tiny_step

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import LiveServer

TENSORFLOW_PLAYGROUND = "TensorFlow Playground's default: circle, 2-4-2 tanh, SGD 0.03, batch 10"
SPECS: dict[str, dict[str, Any]] = {
    "digits MLP 64-128-64, Adam, batch 64": {
        "data": {"kind": "digits"},
        "model": {"hidden": [64, 128, 64], "activation": "relu"},
        "optim": {"optimizer": "adam", "lr": 0.001, "batch_size": 64, "steps": 3000, "eval_every": 100},
    },
    "2-D spiral MLP 8-8 (default), batch 32": {
        "data": {"dataset": "spiral"},
        "optim": {"steps": 3000, "eval_every": 25},
    },
    # TensorFlow Playground's default problem (its page's settings): circle, no noise, half the 500 points
    # for training, 2-4-2 tanh, SGD at 0.03, batch 10; its own training loop does ~110,000 steps/s in Node
    TENSORFLOW_PLAYGROUND: {
        "data": {"dataset": "circle", "n_points": 500, "noise": 0.0, "val_fraction": 0.5},
        "model": {"hidden": [4, 2], "activation": "tanh"},
        "optim": {"optimizer": "sgd", "lr": 0.03, "batch_size": 10, "steps": 3000, "eval_every": 25},
    },
    "digits CNN conv 8-16, head 32 (default), Adam, batch 64": {
        "data": {"kind": "digits"},
        "model": {"kind": "cnn2d", "activation": "relu"},
        "optim": {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 1000, "eval_every": 100},
    },
}


def set_up(spec: JobSpec) -> tuple[Split, LayeredNet, torch.optim.Optimizer]:
    torch.manual_seed(spec.seed)
    device = resolve_device(spec.device)
    split = load_split(spec.data, spec.seed, device)
    model = build_model(spec).to(device)
    return split, model, make_optimizer(spec.optim, model.parameters())


def batches(spec: JobSpec, split: Split) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """(step, inputs, labels) as fit() draws them: data on the device, indexing a permutation."""
    n, size = len(split.x_train), spec.optim.batch_size
    generator = torch.Generator().manual_seed(spec.seed)
    order, cursor = torch.randperm(n, generator=generator).to(split.x_train.device), 0
    for step in range(1, spec.optim.steps + 1):
        if cursor + size > n:
            order, cursor = torch.randperm(n, generator=generator).to(split.x_train.device), 0
        index = order[cursor : cursor + size]
        cursor += size
        yield step, split.x_train[index], split.y_train[index]


def evaluating(spec: JobSpec, step: int) -> bool:
    return step % spec.optim.eval_every == 0 or step == spec.optim.steps


def bare_loop(spec: JobSpec, validate: bool) -> float:
    """The same work without telemetry."""
    split, model, optimizer = set_up(spec)
    started = time.perf_counter()
    for step, x, y in batches(spec, split):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        if validate and evaluating(spec, step):
            evaluate(model, split)
    loss.item()  # wait for the device before stopping the clock
    return spec.optim.steps / (time.perf_counter() - started)


def tiny_loop(spec: JobSpec) -> float | None:
    """The tiny path's NumPy step alone, validating as the spec asks (None: the spec does not take it)."""
    torch.manual_seed(spec.seed)
    task = task_for(spec)(spec, resolve_device(spec.device))
    stepper = tiny_step(task, make_optimizer(spec.optim, task.parameters()))
    if stepper is None:
        return None
    started = time.perf_counter()
    for step in range(1, spec.optim.steps + 1):
        stepper.gradients(False)
        stepper.apply()
        if evaluating(spec, step):
            task.evaluation(False)
    return spec.optim.steps / (time.perf_counter() - started)


def server_rate(server: LiveServer, raw: dict[str, Any], steps: int) -> float:
    """One job flat out through the server: its steps over the wall time between its first and last
    train-loss point, as stored."""
    job = server.submit({**raw, "optim": {**raw["optim"], "steps": steps}})
    server.wait_status(job["id"], {"done"}, timeout=600)
    scalars = [e for e in server.stored_events(job["id"]) if e["type"] == "scalars"]
    return (steps - 1) / (scalars[-1]["wall"] - scalars[0]["wall"])


def through_server(repeats: int, steps: int = 30_000) -> dict[str, float]:
    raw = SPECS[TENSORFLOW_PLAYGROUND]
    spec = JobSpec.model_validate({**raw, "optim": {**raw["optim"], "steps": steps}})
    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "throughput.db", workers=1).start()
        try:
            server_rate(server, raw, 1000)  # warm-up: the worker's lazy imports
            served, in_process = [], []
            for _ in range(repeats):
                served.append(server_rate(server, raw, steps))
                in_process.append(fit_loop(spec)[0])
        finally:
            server.stop()
    row = {"server_steps_per_s": statistics.median(served), "fit_steps_per_s": statistics.median(in_process)}
    row["ratio_vs_fit"] = row["server_steps_per_s"] / row["fit_steps_per_s"]
    print(
        f"{TENSORFLOW_PLAYGROUND}, {steps} steps through a live server (1 worker, SQLite): "
        f"{row['server_steps_per_s']:.0f} steps/s as stored, {row['ratio_vs_fit']:.3f} of fit() in this process "
        f"({row['fit_steps_per_s']:.0f})"
    )
    return row


def tensorboard_loop(spec: JobSpec, logdir: str) -> float:
    """The bare loop, validating, logging scalars and histograms through TensorBoard's SummaryWriter."""
    from torch.utils.tensorboard import SummaryWriter

    split, model, optimizer = set_up(spec)
    writer = SummaryWriter(logdir)
    bins, captured = spec.probes.histogram_bins, []
    started = time.perf_counter()
    for step, x, y in batches(spec, split):
        sampling = step == 1 or step % spec.probes.histogram_every == 0
        hooks = [m.register_forward_hook(lambda _m, _i, o: captured.append(o)) for m in model.activations if sampling]
        loss = nn.functional.cross_entropy(model(x), y)
        for hook in hooks:
            hook.remove()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        writer.add_scalar("train/loss", loss.item(), step)  # the usual way: a host sync every step
        if sampling:
            for name, act in zip(model.layer_names(), captured, strict=True):
                writer.add_histogram(f"act/{name}", act.detach(), step, bins=bins)
            for name, layer in zip([*model.layer_names(), "output"], model.linears(), strict=True):
                writer.add_histogram(f"weight/{name}", layer.weight.detach(), step, bins=bins)
                writer.add_histogram(f"grad/{name}", layer.weight.grad, step, bins=bins)
            captured.clear()
        optimizer.step()
        if evaluating(spec, step):
            for tag, value in evaluate(model, split).items():
                writer.add_scalar(tag, value, step)
    writer.close()
    return spec.optim.steps / (time.perf_counter() - started)


def fit_loop(spec: JobSpec, graphs: bool = True) -> tuple[float, int]:
    """fit() with its telemetry; graphs=False: on CUDA, every step eager (no graph replayed)."""
    events: list[Any] = []
    reason = driver.graph_reason
    if not graphs:
        driver.graph_reason = lambda *_: "off for the comparison"  # type: ignore[assignment]
    try:
        result = fit(spec, events.append)
    finally:
        driver.graph_reason = reason
    assert result.status == "done", result.message
    return result.summary["steps_per_s"], len(events)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--server", action="store_true", help="also TensorFlow Playground's problem via a server")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in a worker (jobs/worker.py), NumPy's BLAS too
    threadpool_limits(1, user_api="blas")
    results = []
    for name, raw in SPECS.items():
        spec = JobSpec.model_validate({**raw, "device": args.device})
        logdir = tempfile.mkdtemp(prefix="trainscope-tb-")
        bare_loop(spec, False), bare_loop(spec, True), fit_loop(spec)  # warm-up: allocator, lazy imports
        tensorboard_loop(spec, logdir)
        tiny_loop(spec)
        bare, validated, tiny, telemetry, peer, eager, events = [], [], [], [], [], [], 0
        for _ in range(args.repeats):
            bare.append(bare_loop(spec, validate=False))
            validated.append(bare_loop(spec, validate=True))
            if (rate := tiny_loop(spec)) is not None:
                tiny.append(rate)
            rate, events = fit_loop(spec)
            telemetry.append(rate)
            if args.device == "cuda":  # the CUDA-graph path against the same run stepped eagerly
                eager.append(fit_loop(spec, graphs=False)[0])
            peer.append(tensorboard_loop(spec, logdir))
        shutil.rmtree(logdir)
        fit_rate = statistics.median(telemetry)
        row = {
            "spec": name,
            "device": args.device,
            "bare_steps_per_s": statistics.median(bare),
            "bare_validating_steps_per_s": statistics.median(validated),
            "fit_steps_per_s": fit_rate,
            "ratio_vs_bare": fit_rate / statistics.median(bare),
            "ratio_vs_bare_validating": fit_rate / statistics.median(validated),
            "tensorboard_steps_per_s": statistics.median(peer),
            "tensorboard_ratio_vs_bare": statistics.median(peer) / statistics.median(bare),
            "ratio_vs_tensorboard": fit_rate / statistics.median(peer),
            "events_per_run": events,
        }
        if eager:
            row["fit_eager_steps_per_s"] = statistics.median(eager)
            row["graph_ratio_vs_eager"] = fit_rate / statistics.median(eager)
        if tiny:
            row["tiny_bare_validating_steps_per_s"] = statistics.median(tiny)
            row["ratio_vs_tiny_bare_validating"] = fit_rate / statistics.median(tiny)
        results.append(row)
        print(
            f"{name} [{args.device}]: bare {row['bare_steps_per_s']:.0f} steps/s, "
            f"bare+validation {row['bare_validating_steps_per_s']:.0f}, "
            f"fit with telemetry {fit_rate:.0f} ({events} events); "
            f"ratio {row['ratio_vs_bare']:.3f} vs bare, {row['ratio_vs_bare_validating']:.3f} vs bare+validation; "
            f"TensorBoard peer {row['tensorboard_steps_per_s']:.0f} ({row['tensorboard_ratio_vs_bare']:.3f} vs bare), "
            f"ours/TensorBoard {row['ratio_vs_tensorboard']:.2f}x"
            + (
                f"; tiny path: its bare NumPy loop (validating) {row['tiny_bare_validating_steps_per_s']:.0f}, "
                f"fit {row['ratio_vs_tiny_bare_validating']:.3f} of it"
                if tiny
                else ""
            )
            + (
                f"; fit stepped eagerly {row['fit_eager_steps_per_s']:.0f}: the CUDA graph "
                f"{row['graph_ratio_vs_eager']:.2f}x it"
                if eager
                else ""
            )
        )
    output: dict[str, Any] = {"specs": results}
    if args.server:
        output["server"] = through_server(args.repeats)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(output, out, indent=2)


if __name__ == "__main__":
    main()
