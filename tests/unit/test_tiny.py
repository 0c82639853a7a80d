"""The tiny path (training/tiny.py) against torch: its gradients against autograd, its updates against
torch's optimizers, and whole runs through fit() against the same runs stepped eagerly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from tests.recorded import recorder
from trainscope.schemas import JobSpec
from trainscope.training import driver
from trainscope.training.models import build_model, make_optimizer
from trainscope.training.stacking import PATH_TINY, tiny_reason
from trainscope.training.tasks import task_for
from trainscope.training.tiny import TinyNet, TinyOptimizer, class_argmax, class_max, class_sum

NETS = [
    ({"dataset": "spiral"}, {"hidden": [8, 8], "activation": "tanh"}),
    ({"dataset": "spiral"}, {"hidden": [64, 32, 64], "activation": "relu"}),  # as wide as the path goes
    ({"dataset": "xor"}, {"hidden": [8, 3], "activation": "relu"}),
    ({"dataset": "moons"}, {"hidden": [4], "activation": "leaky_relu", "leaky_slope": 0.2, "bias": False}),
    ({"dataset": "circle"}, {"hidden": [5, 5, 5], "activation": "sigmoid"}),
    ({"dataset": "plane"}, {"hidden": [6], "activation": "identity"}),  # a value on squared error
    ({"dataset": "gauss"}, {"hidden": []}),  # logistic regression
]


def spec_of(data: dict[str, Any], model: dict[str, Any], optim: dict[str, Any] | None = None) -> JobSpec:
    return JobSpec.model_validate({"data": data, "model": model, "optim": optim or {}})


@pytest.mark.parametrize("classes", [2, 3, 7, 8, 11])
def test_the_class_axis_columns_give_numpys_reductions_to_the_bit(classes: int) -> None:
    outputs = np.random.default_rng(classes).standard_normal((16, 37, classes)).astype(np.float32) ** 3
    outputs[0, 0, :] = 1.0  # a tie: argmax takes the first
    exp = np.exp(outputs - outputs.max(axis=2, keepdims=True))
    assert np.array_equal(class_max(outputs), outputs.max(axis=2))
    assert np.array_equal(class_argmax(outputs), outputs.argmax(axis=2))
    assert np.array_equal(class_sum(exp), np.add.reduce(exp, axis=2))


@pytest.mark.parametrize(("data", "model"), NETS)
def test_gradients_equal_autograd(data: dict[str, Any], model: dict[str, Any]) -> None:
    spec = spec_of(data, model)
    task = task_for(spec)(spec, torch.device("cpu"))
    regression = task.objective.accuracy is None
    net = TinyNet([task.model], [(spec.model.activation, spec.model.leaky_slope)], regression)  # type: ignore[union-attr]
    x, y = task.split.x_train[:16], task.split.y_train[:16]
    with torch.no_grad():  # pre-activations of both signs, so relu's kink and leaky relu's slope count
        for p in task.model.parameters():
            p.mul_(3)
    [loss], [outputs], grads = net.gradients(x.numpy(), y.numpy())  # a stack of one run
    expected = task.objective.loss(task.model(x), y)
    expected.backward()  # type: ignore[no-untyped-call]
    assert loss == pytest.approx(expected.item(), rel=1e-5)
    np.testing.assert_allclose(outputs, task.model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    torch_grads = [p.grad for p in task.model.parameters()]
    assert len(grads) == len(torch_grads) and all(g is not None for g in torch_grads)
    for ours, theirs in zip(grads, torch_grads, strict=True):
        np.testing.assert_allclose(ours[0], theirs.numpy(), rtol=1e-4, atol=1e-6)  # type: ignore[union-attr]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam", "adamw"])
@pytest.mark.parametrize("decay", [0.0, 0.05])
def test_updates_equal_torchs_optimizers(optimizer: str, decay: float) -> None:
    spec = spec_of({"dataset": "spiral"}, {}, {"optimizer": optimizer, "lr": 0.01, "weight_decay": decay})
    ours, theirs = build_model(spec), build_model(spec)
    params = [p.detach().numpy()[None] for p in ours.parameters()]  # a stack of one run: views of ours
    torch_optimizer = make_optimizer(spec.optim, theirs.parameters())
    stepper = TinyOptimizer(optimizer, params, [torch_optimizer.param_groups[0]])
    generator = torch.Generator().manual_seed(0)
    for _ in range(30):
        grads = [torch.randn(p.shape, generator=generator) for p in theirs.parameters()]
        for p, g in zip(theirs.parameters(), grads, strict=True):
            p.grad = g.clone()
        torch_optimizer.step()
        stepper.step([g.numpy()[None] for g in grads])
    for mine, reference in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-5, atol=1e-6)


def run(spec: JobSpec, tiny: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    with monkeypatch.context() as patch:
        if not tiny:
            patch.setattr(driver, "tiny_step", lambda *_: None)
        result = driver.fit(spec, recorder(events), None, driver.EmitPolicy(60.0, 50))  # reports by step alone
    return result, events


PROBED = {
    "histogram_every": 50,
    "layers_every": 50,
    "boundary_every": 100,
    "system_every": 50,
    "train_eval": True,
    "min_interval_s": 0,  # by step alone: a loaded machine must not change which steps are sampled
}


@pytest.mark.parametrize(
    ("data", "model", "optim"),
    [
        ({"dataset": "circle", "n_points": 500, "noise": 0.0}, {"hidden": [4, 2]}, {"optimizer": "sgd", "lr": 0.03}),
        ({"dataset": "spiral", "features": ["x1", "x2", "x1_sq", "sin_x2"]}, {"activation": "relu"}, {}),
        ({"dataset": "plane", "test_fraction": 0.2}, {"hidden": [3]}, {"optimizer": "momentum", "lr": 0.01}),
        ({"dataset": "xor", "holdout_fraction": 0.2, "test_fraction": 0.1}, {"hidden": [5]}, {"optimizer": "adamw"}),
    ],
)
def test_a_run_on_the_tiny_path_equals_the_eager_run(
    data: dict[str, Any], model: dict[str, Any], optim: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every loss, evaluation and probe the same within float rounding; only the step path differs."""
    spec = JobSpec.model_validate({"data": data, "model": model, "optim": {**optim, "steps": 300}, "probes": PROBED})
    fast, fast_events = run(spec, True, monkeypatch)
    eager, eager_events = run(spec, False, monkeypatch)
    assert fast.status == eager.status == "done"
    assert fast.summary.keys() == eager.summary.keys() and "train_eval/loss" in fast.summary
    assert ("test/loss" in fast.summary) == (data.get("test_fraction", 0) > 0)
    for key, value in eager.summary.items():
        if key != "steps_per_s":
            assert fast.summary[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
    assert [e["type"] for e in fast_events] == [e["type"] for e in eager_events]
    losses = [
        [p["values"]["train/loss"] for e in run_events if e["type"] == "scalars" for p in e["points"]]
        for run_events in (fast_events, eager_events)
    ]
    np.testing.assert_allclose(*losses, rtol=1e-4, atol=1e-5)
    grads = [
        [e for e in run_events if e["type"] == "histogram" and e["tag"].startswith("grad/")]
        for run_events in (fast_events, eager_events)
    ]
    assert grads[0] and [(e["step"], e["tag"]) for e in grads[0]] == [(e["step"], e["tag"]) for e in grads[1]]
    first = [[e["counts"] for e in run_grads if e["step"] == 1] for run_grads in grads]
    assert first[0] == first[1]  # from the same weights, the same gradients; later, rounding may move a value a bin
    paths = {e["step_path"] for e in fast_events if e["type"] == "system"}
    assert paths == {PATH_TINY} and {e["step_path"] for e in eager_events if e["type"] == "system"} == {"eager"}


def test_a_diverging_tiny_run_ends_diverged_without_a_warning() -> None:
    events: list[dict[str, Any]] = []
    spec = spec_of({"dataset": "spiral"}, {"activation": "sigmoid"}, {"optimizer": "sgd", "lr": 1e6, "steps": 200})
    assert tiny_reason(spec, "cpu") is None
    result = driver.fit(spec, recorder(events))  # warnings fail tests: NumPy's overflow must stay quiet
    assert result.status == "diverged"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"device": "cuda"}, "not on the CPU"),
        ({"model": {"hidden": [65]}}, "wider than 64"),
        ({"model": {"batch_norm": True}}, "batch norm"),
        ({"model": {"dropout": 0.1}}, "dropout"),
        ({"model": {"activation": "gelu"}}, "gelu"),
        ({"optim": {"planted_bug": "no_zero_grad"}}, "planted bug"),
        ({"data": {"kind": "digits"}}, "2-D points"),
        ({"model": {"kind": "cnn2d"}, "data": {"kind": "digits"}}, "2-D points"),
    ],
)
def test_what_keeps_a_run_off_the_tiny_path(change: dict[str, Any], reason: str) -> None:
    spec = JobSpec.model_validate(change)
    found = tiny_reason(spec, spec.device if spec.device != "auto" else "cpu")
    assert found is not None and reason in found
