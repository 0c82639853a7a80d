"""Lockstep groups under torch.func.vmap (training/vmapped.py): every kind that declares a loss that maps
(ModelKind.lockstep) trains stacked with the events it has alone, within float rounding (a batched matrix
product rounds differently from one run's), with no code of its own."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tests.recorded import recorder
from tests.unit.test_driver import Script
from tests.unit.test_lockstep import pause_one_until_the_others_end
from trainscope.schemas import JobSpec, PauseCommand, ResumeCommand, SetLrCommand
from trainscope.schemas.decode import floats
from trainscope.training.control import EmitPolicy, FitResult
from trainscope.training.driver import fit
from trainscope.training.lockstep import fit_stacked
from trainscope.training.stacking import VMAP_MIN_RUNS, lockstep_groups, stack_reason

PROBES = {"histogram_every": 20, "layers_every": 20, "min_interval_s": 0}
KINDS: dict[str, dict[str, Any]] = {
    "mlp": {  # on 2-D points past the tiny path's width, with its decision boundary drawn
        "data": {"dataset": "spiral", "n_points": 200},
        "model": {"hidden": [72, 16], "activation": "relu"},
        "probes": {**PROBES, "boundary_every": 20},
    },
    "mlp_digits": {"data": {"kind": "digits"}, "model": {"hidden": [32], "activation": "tanh"}, "probes": PROBES},
    "cnn2d": {
        "data": {"kind": "digits"},
        "model": {"kind": "cnn2d", "conv": [{"channels": 4, "kernel": 3, "stride": 2, "padding": 1}]},
        "probes": PROBES,
    },
    "autoencoder": {
        "data": {"kind": "digits"},
        "model": {"kind": "autoencoder", "hidden": [16], "latent": 4},
        "probes": PROBES,
    },
    "skipgram": {
        "data": {"kind": "corpus", "sentences": 1000},
        "model": {"kind": "skipgram"},
        "probes": {"embedding_every": 20, "min_interval_s": 0},
    },
}
RATES = (0.01, 0.003, 0.03, 0.001, 0.006)


def runs(kind: str, **optim: Any) -> list[JobSpec]:
    base = KINDS[kind]
    settings = {"optimizer": "adam", "batch_size": 32, "steps": 40, "eval_every": 20, **optim}
    return [JobSpec.model_validate({**base, "optim": {**settings, "lr": lr}, "name": f"lr {lr}"}) for lr in RATES]


def close(a: Any, b: Any, where: str = "") -> None:
    """Two recorded values equal, floats within a batched product's rounding."""
    if where.endswith(".counts"):  # a histogram: a value on a bin's edge may round into its neighbour
        low_a, low_b = np.cumsum(a), np.cumsum(b)
        assert low_a[-1] == low_b[-1] and (low_a[1:] >= low_b[:-1]).all() and (low_b[1:] >= low_a[:-1]).all(), where
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and not (math.isnan(a) and math.isnan(b)):
        assert a == pytest.approx(b, rel=1e-3, abs=1e-5), where
    elif isinstance(a, str) and isinstance(b, str) and a != b:  # base64 float32 arrays (points, images)
        assert floats(a) == pytest.approx(floats(b), rel=1e-3, abs=1e-5), where
    elif not isinstance(a, float):
        assert a == b, where


def recorded(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a run shows, less its clocks and its system panel (which says how it stepped)."""
    return [{k: v for k, v in e.items() if k != "wall"} for e in events if e["type"] != "system"]


def same_run(a: tuple[FitResult, list[dict[str, Any]]], b: tuple[FitResult, list[dict[str, Any]]]) -> None:
    (result_a, events_a), (result_b, events_b) = a, b
    assert (result_a.status, result_a.step) == (result_b.status, result_b.step)
    close(
        {k: v for k, v in result_a.summary.items() if k != "steps_per_s"},
        {k: v for k, v in result_b.summary.items() if k != "steps_per_s"},
    )
    close(recorded(events_a), recorded(events_b))


def alone(job: JobSpec, control: Script | None = None) -> tuple[FitResult, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    return fit(job, recorder(events), control, EmitPolicy(60.0, 50)), events


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_that_declares_it_trains_stacked_as_it_does_alone(kind: str) -> None:
    jobs = runs(kind)
    events: list[list[dict[str, Any]]] = [[] for _ in jobs]
    results = fit_stacked(jobs, [recorder(e) for e in events], None, EmitPolicy(60.0, 50))
    for job, result, run_events in zip(jobs, results, events, strict=True):
        same_run((result, run_events), alone(job))
    systems = [e for e in events[0] if e["type"] == "system"]
    assert systems and all(e["stacked_runs"] == len(RATES) and e["step_path"] == "vmap" for e in systems)
    assert len({result.summary["train/loss"] for result in results}) == len(RATES)  # not one run, many times


def test_set_lr_reaches_only_its_run_of_a_vmapped_group() -> None:
    jobs = runs("mlp", optimizer="momentum")
    change = Script([], [SetLrCommand(action="set_lr", lr=0.1)])
    events: list[list[dict[str, Any]]] = [[] for _ in jobs]
    results = fit_stacked(
        jobs, [recorder(e) for e in events], [change, *[None] * (len(RATES) - 1)], EmitPolicy(60.0, 50)
    )
    same_run((results[0], events[0]), alone(jobs[0], Script([], [SetLrCommand(action="set_lr", lr=0.1)])))
    same_run((results[1], events[1]), alone(jobs[1]))


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ({"kind": "vae", "hidden": [16], "latent": 2}, "a vae model's loss does not map"),
        ({"kind": "mlp", "hidden": [72], "dropout": 0.2}, "batch norm or dropout"),
    ],
)
def test_a_loss_that_draws_or_keeps_state_does_not_stack(model: dict[str, Any], reason: str) -> None:
    data = {"kind": "digits"} if model["kind"] == "vae" else {"dataset": "spiral"}
    jobs = [JobSpec.model_validate({"data": data, "model": model, "optim": {"lr": lr}}) for lr in RATES]
    assert reason in str(stack_reason(jobs, "cpu"))
    assert lockstep_groups(jobs, "cpu") == [[i] for i in range(len(jobs))]


def test_a_vmapped_unit_needs_enough_runs_to_pay_for_vmap() -> None:
    jobs = runs("mlp")
    assert lockstep_groups(jobs, "cpu") == [list(range(len(RATES)))]
    assert lockstep_groups(jobs[: VMAP_MIN_RUNS - 1], "cpu") == [[i] for i in range(VMAP_MIN_RUNS - 1)]
    other = jobs[0].model_copy(update={"model": jobs[0].model.model_copy(update={"activation": "tanh"})})
    assert stack_reason([*jobs, other], "cpu") == "they differ in model.activation"  # one module tree under vmap


def test_a_paused_run_of_a_vmapped_group_is_set_apart_and_carries_on_as_alone() -> None:
    """Run 0 (whose batches the group drew) pauses at its second report until the other four have ended."""
    jobs = runs("mlp_digits", optimizer="momentum")
    together, order = pause_one_until_the_others_end(jobs, 0)
    assert order == [1, 2, 3, 4, 0]
    resumed = Script([], [PauseCommand(action="pause")], [ResumeCommand(action="resume")])
    same_run(together[0], alone(jobs[0], resumed))
    for job, run in zip(jobs[1:], together[1:], strict=True):
        same_run(run, alone(job))
