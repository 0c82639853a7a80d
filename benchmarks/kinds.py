"""Training throughput of the kinds added on the run contract (autoencoder, VAE, k-means, skip-gram): fit() with its
telemetry against the same work in a plain PyTorch loop (the same model, data and loss, validating at the
same steps), same process, runs alternating so that drift on a noisy machine hits both alike; medians.
Target: ratio >= 0.9.

    .venv/bin/python benchmarks/kinds.py [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from throughput import fit_loop  # the same measure of fit(), beside this script
from trainscope.schemas import JobSpec
from trainscope.training.datasets import Shuffled
from trainscope.training.devices import resolve_device
from trainscope.training.models import make_optimizer
from trainscope.training.tasks import task_for
from trainscope.training.tasks.autoencoder import AutoencoderTask
from trainscope.training.tasks.kmeans import KMeansTask, nearest
from trainscope.training.tasks.skipgram import SkipGramTask, negative_sampling_loss
from trainscope.training.tasks.vae import VAETask

DIGITS = {"kind": "digits"}
SPECS: dict[str, dict[str, Any]] = {
    "autoencoder 64-[64]-8-[64]-64, Adam, batch 64": {
        "data": DIGITS,
        "model": {"kind": "autoencoder", "latent": 8},
        "optim": {"lr": 0.003, "batch_size": 64, "steps": 2000, "eval_every": 25},
    },
    "VAE 64-[256]-16-[256]-64, BCE, Adam, batch 64": {
        "data": DIGITS,
        "model": {"kind": "vae"},
        "optim": {"lr": 0.001, "batch_size": 64, "steps": 1000, "eval_every": 25},
    },
    "k-means, k 4, 400 blobs points": {
        "data": {"kind": "blobs"},
        "model": {"kind": "kmeans", "k": 4},
        "optim": {"steps": 3000, "eval_every": 25},
    },
    "skip-gram, 76 words of 32 numbers, batch 256": {
        "data": {"kind": "corpus"},
        "model": {"kind": "skipgram"},
        "optim": {"lr": 0.01, "batch_size": 256, "steps": 2000, "eval_every": 100},
    },
    "k-means, k 10, digits": {
        "data": DIGITS,
        "model": {"kind": "kmeans", "k": 10},
        "optim": {"steps": 300, "eval_every": 25},
    },
}


def timed(steps: int, step: Callable[[int], torch.Tensor]) -> float:
    started = time.perf_counter()
    last = torch.zeros(())
    for number in range(1, steps + 1):
        last = step(number)
    last.item()  # wait for the device before stopping the clock
    return steps / (time.perf_counter() - started)


def bare_loop(spec: JobSpec) -> float:
    """The kind's step written out in plain PyTorch, validating every eval_every steps."""
    torch.manual_seed(spec.seed)
    device = resolve_device(spec.device)
    task = task_for(spec)(spec, device)
    if isinstance(task, SkipGramTask):
        return bare_skipgram(task, spec)
    split, every = task.split, spec.optim.eval_every  # type: ignore[attr-defined]
    if isinstance(task, KMeansTask):
        centres, x = task.model.centres, split.x_train

        def lloyd(step: int) -> torch.Tensor:
            assignment, closest = nearest(x, centres)
            sums = torch.zeros_like(centres).index_add_(0, assignment, x)
            counts = torch.bincount(assignment, minlength=len(centres)).to(x.dtype)[:, None]
            centres.copy_(torch.where(counts > 0, sums / counts.clamp_min(1), centres))
            if step % every == 0:
                nearest(split.x_val, centres)[1].mean().item()
            return closest.mean()

        return timed(spec.optim.steps, lloyd)
    model = task.model
    optimizer = make_optimizer(spec.optim, model.parameters())
    batches = Shuffled(len(split.x_train), spec.optim.batch_size, spec.seed, device)

    def step(number: int) -> torch.Tensor:
        x = split.x_train[batches.next()]
        if isinstance(task, VAETask):
            noise = torch.randn(len(x), task.latent, device=device)
            reconstruction, kl = task.terms(model(x, noise), x)
            loss = reconstruction + task.beta * kl
        else:
            loss = nn.functional.mse_loss(model(x), x)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        if number % every == 0:
            with torch.no_grad():
                model.eval()
                nn.functional.mse_loss(model(split.x_val)[:, : split.x_val.shape[1]], split.x_val).item()
                model.train()
        return loss.detach()

    assert isinstance(task, AutoencoderTask | VAETask)
    return timed(spec.optim.steps, step)


def bare_skipgram(task: SkipGramTask, spec: JobSpec) -> float:
    """Pairs drawn as the task draws them (its batch()), the paper's loss, Adam; held-out loss as it
    is validated."""
    model = task.model
    optimizer = make_optimizer(spec.optim, model.parameters())
    validation = task.validation
    assert validation is not None

    def step(number: int) -> torch.Tensor:
        loss = model(*task.batch())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        if number % spec.optim.eval_every == 0:
            with torch.no_grad():
                negative_sampling_loss(model.vectors, model.contexts, validation).item()
        return loss.detach()

    return timed(spec.optim.steps, step)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    parser.add_argument("--only", help="run the specs whose name holds this text")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in a worker
    results = []
    for name, raw in SPECS.items():
        if args.only and args.only not in name:
            continue
        spec = JobSpec.model_validate(raw)
        bare_loop(spec), fit_loop(spec)  # warm-up: allocator, lazy imports
        bare, telemetry, events = [], [], 0
        for _ in range(args.repeats):
            bare.append(bare_loop(spec))
            rate, events = fit_loop(spec)
            telemetry.append(rate)
        row = {
            "spec": name,
            "bare_steps_per_s": statistics.median(bare),
            "fit_steps_per_s": statistics.median(telemetry),
            "ratio_vs_bare": statistics.median(telemetry) / statistics.median(bare),
            "events_per_run": events,
        }
        results.append(row)
        print(
            f"{name}: bare (validating) {row['bare_steps_per_s']:.0f} steps/s, fit with telemetry "
            f"{row['fit_steps_per_s']:.0f} ({events} events); ratio {row['ratio_vs_bare']:.3f}"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
