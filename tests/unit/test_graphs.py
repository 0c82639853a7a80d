"""The CUDA-graph step (training/graphs.py): which runs take it, and on a GPU, that a run replayed as a
graph trains as the eager run does, its probes, a learning-rate change and a divergence included."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tests.recorded import recorder
from trainscope.schemas import JobSpec, SetLrCommand
from trainscope.training import driver
from trainscope.training.graphs import graph_reason

CUDA = torch.device("cuda")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, None),
        ({"model": {"kind": "cnn2d"}, "data": {"kind": "digits"}}, None),
        ({"optim": {"optimizer": "rmsprop"}}, None),
        ({"model": {"kind": "vae"}, "data": {"kind": "digits"}}, "not a network on labelled data"),
        ({"optim": {"planted_bug": "no_zero_grad"}}, "planted bug"),
        ({"loader": {"delay": 1.0}}, "slow loader"),
        ({"probes": {"memory": True}}, "memory"),
        ({"distributed": {"world_size": 2}, "optim": {"batch_size": 32}}, "data parallel"),
    ],
)
def test_which_runs_replay_a_graph(change: dict[str, Any], reason: str | None) -> None:
    spec = JobSpec.model_validate(change)
    found = graph_reason(spec, CUDA)
    assert found is None if reason is None else (found is not None and reason in found)
    assert graph_reason(spec, torch.device("cpu")) == "not on CUDA"


def run(spec: JobSpec, graphs: bool, control: Any = None) -> tuple[Any, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    reason = driver.graph_reason
    if not graphs:
        driver.graph_reason = lambda *_: "off for the comparison"  # type: ignore[assignment]
    try:
        result = driver.fit(spec, recorder(events), control, driver.EmitPolicy(60.0, 50))
    finally:
        driver.graph_reason = reason
    return result, events


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
def test_a_run_replayed_as_a_graph_trains_as_the_eager_run(optimizer: str) -> None:
    spec = JobSpec.model_validate(
        {
            "device": "cuda",
            "data": {"kind": "digits"},
            "model": {"hidden": [64, 32], "activation": "relu"},
            "optim": {"optimizer": optimizer, "lr": 0.01, "batch_size": 64, "steps": 120, "eval_every": 20},
            "probes": {"histogram_every": 40, "layers_every": 40, "min_interval_s": 0, "system_every": 40},
        }
    )
    (graphed, events), (eager, _) = run(spec, True), run(spec, False)
    assert graphed.status == eager.status == "done"
    for key in ("train/loss", "val/loss", "val/acc", "train/acc"):
        assert graphed.summary[key] == pytest.approx(eager.summary[key], rel=1e-3, abs=1e-4), key
    assert {e["step_path"] for e in events if e["type"] == "system"} == {"cuda_graph"}
    assert any(e["type"] == "histogram" and e["step"] == 40 for e in events)  # probes sampled eagerly


class SetLrOnce:
    def __init__(self) -> None:
        self.sent = False

    def poll(self, wait: float) -> list[Any]:
        if self.sent:
            return []
        self.sent = True
        return [SetLrCommand(action="set_lr", lr=0.5)]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_rate_change_reaches_the_replayed_step() -> None:
    spec = JobSpec.model_validate({"device": "cuda", "optim": {"optimizer": "sgd", "lr": 0.01, "steps": 80}})
    (graphed, _), (eager, _) = run(spec, True, SetLrOnce()), run(spec, False, SetLrOnce())
    assert graphed.summary["train/loss"] == pytest.approx(eager.summary["train/loss"], rel=1e-3, abs=1e-4)
    assert graphed.summary["lr"] == 0.5
