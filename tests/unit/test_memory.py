"""The memory estimate made from a spec (training/memory.py) against what a step holds (training/
footprint.py): what autograd saves per example, to the byte, for every layer and activation the MLP and
CNN kinds offer; the parameters, gradients and each optimizer's state; and a run's memory event."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tests.recorded import recorder
from trainscope.schemas import JobSpec
from trainscope.training.driver import fit
from trainscope.training.footprint import StepMemory
from trainscope.training.memory import estimate, saved_per_example
from trainscope.training.models import make_optimizer
from trainscope.training.stacking import tiny_reason
from trainscope.training.tasks import task_for

NETS: list[dict[str, Any]] = [
    *(
        {"data": {"dataset": "spiral"}, "model": {"hidden": [8, 5], "activation": a}}
        for a in ("tanh", "relu", "sigmoid", "leaky_relu", "gelu", "identity")
    ),
    {"data": {"dataset": "plane"}, "model": {"hidden": [6], "batch_norm": True, "activation": "identity"}},
    {"data": {"dataset": "xor", "features": ["x1", "x2", "x1_sq", "sin_x2"]}, "model": {"hidden": [4], "bias": False}},
    {"data": {"kind": "digits"}, "model": {"hidden": [16, 8], "dropout": 0.2, "activation": "relu"}},
    {"data": {"kind": "digits"}, "model": {"hidden": [8], "dropout": 0.3, "batch_norm": True, "activation": "gelu"}},
    {"data": {"kind": "digits"}, "model": {"hidden": []}},
    {"data": {"kind": "digits"}, "model": {"kind": "cnn2d"}},
    {"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "batch_norm": True, "activation": "relu"}},
    {
        "data": {"kind": "digits"},
        "model": {"kind": "cnn2d", "activation": "leaky_relu", "conv": [{"channels": 4, "pool": "avg"}]},
    },
    {
        "data": {"kind": "digits"},
        "model": {"kind": "cnn2d", "activation": "identity", "conv": [{"channels": 3, "stride": 2}]},
    },
    {"data": {"kind": "mnist1d", "samples": 200}, "model": {"kind": "cnn1d"}},
]


def saved_bytes(raw: dict[str, Any], batch: int) -> float:
    spec = JobSpec.model_validate({**raw, "optim": {"batch_size": batch}})
    task = task_for(spec)(spec, torch.device("cpu"))
    meter = StepMemory(task.parameters(), torch.device("cpu"))
    with meter:
        task.loss(task.state(), task.batch(), False)
    return meter.measured(None)["saved_for_backward"]


@pytest.mark.parametrize("raw", NETS)
def test_what_autograd_saves_per_example_is_estimated_to_the_byte(raw: dict[str, Any]) -> None:
    """Measured as the growth from batch 8 to 16 (what does not grow with the batch, a loss's scalar,
    drops out)."""
    per_example = (saved_bytes(raw, 16) - saved_bytes(raw, 8)) / 8
    assert saved_per_example(JobSpec.model_validate(raw)) == per_example


@pytest.mark.parametrize(
    ("optimizer", "copies"), [("sgd", 0), ("momentum", 1), ("rmsprop", 1), ("adam", 2), ("adamw", 2)]
)
def test_parameters_gradients_and_each_optimizers_state_are_what_a_step_holds(optimizer: str, copies: int) -> None:
    spec = JobSpec.model_validate(
        {"data": {"kind": "digits"}, "model": {"hidden": [32]}, "optim": {"optimizer": optimizer}}
    )
    task = task_for(spec)(spec, torch.device("cpu"))
    step_optimizer = make_optimizer(spec.optim, task.parameters())
    meter = StepMemory(task.parameters(), torch.device("cpu"))
    with meter:
        task.loss(task.state(), task.batch(), False)[0].backward()  # type: ignore[no-untyped-call]
        step_optimizer.step()
    measured, estimated = meter.measured(step_optimizer), estimate(spec)
    assert measured["parameters"] == estimated.parameters == (64 * 32 + 32 + 32 * 10 + 10) * 4
    assert measured["gradients"] == estimated.gradients
    assert measured["optimizer_state"] == estimated.optimizer_state == copies * estimated.parameters


def test_a_run_that_asks_reports_its_first_steps_memory_beside_the_estimate() -> None:
    events: list[dict[str, Any]] = []
    raw = {"data": {"dataset": "spiral"}, "optim": {"steps": 30, "batch_size": 20}, "probes": {"memory": True}}
    spec = JobSpec.model_validate(raw)
    assert tiny_reason(spec, "cpu") is not None  # measured where torch's autograd holds the step
    result = fit(spec, recorder(events))
    [event] = [e for e in events if e["type"] == "analysis" and e["name"] == "memory"]
    measured, estimated = event["data"]["measured"], event["data"]["estimate"]
    assert event["step"] == 1 and event["data"]["device"] == "cpu"
    assert measured["optimizer_state"] == estimated["optimizer_state"] == 2 * measured["parameters"]  # Adam
    assert measured["saved_for_backward"] - estimated["activations"] == 4  # the loss's one scalar beside
    assert result.summary["memory/measured/optimizer_state"] == measured["optimizer_state"]
    assert result.summary["memory/estimate/total"] == estimated["total"]


def test_kinds_whose_activations_are_not_modelled_say_so() -> None:
    spec = JobSpec.model_validate({"data": {"kind": "surface", "objective": "beale"}, "model": {"kind": "params2d"}})
    assert estimate(spec).activations is None and estimate(spec).parameters == 2 * 4
    kmeans = estimate(JobSpec.model_validate({"data": {"kind": "blobs"}, "model": {"kind": "kmeans"}}))
    assert kmeans.parameters > 0 and kmeans.gradients == kmeans.optimizer_state == 0  # it steps itself


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_the_peak_grows_with_the_batch_as_estimated() -> None:
    """The peak a step allocates, from batch B to 2B, within 15% of the estimated activations' growth."""
    peaks = []
    for batch in (256, 512):
        events: list[dict[str, Any]] = []
        raw = {
            "device": "cuda",
            "data": {"kind": "digits"},
            "model": {"hidden": [256, 256], "activation": "relu"},
            "optim": {"steps": 3, "batch_size": batch},
            "probes": {"memory": True},
        }
        fit(JobSpec.model_validate(raw), recorder(events))
        [event] = [e for e in events if e["type"] == "analysis" and e["name"] == "memory"]
        peaks.append((event["data"]["measured"]["peak"], event["data"]["estimate"]["activations"]))
    (peak_b, act_b), (peak_2b, act_2b) = peaks
    assert (peak_2b - peak_b) / (act_2b - act_b) == pytest.approx(1.0, abs=0.15)
