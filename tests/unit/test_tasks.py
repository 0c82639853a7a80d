"""The registry of model kinds: every kind the spec offers has a task, a task missing a part fails at
import with its name, and each task's step returns the row the driver buffers."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from tests.recorded import recorder
from trainscope.config import Limits
from trainscope.schemas import JobSpec, MLPSpec, UploadedData, UploadedRows, spec_errors
from trainscope.schemas.decode import floats
from trainscope.schemas.registry import ModelKind, build, registry
from trainscope.training.control import EmitPolicy, NoControl
from trainscope.training.driver import Driver, fit
from trainscope.training.tasks import State, Task, task_for

CPU = torch.device("cpu")


def test_every_registered_model_kind_has_a_task_and_the_spec_takes_each() -> None:
    for name, kind in registry().models.items():
        assert issubclass(task_for(JobSpec.model_validate({"model": {"kind": name}})), Task)
        assert isinstance(JobSpec.model_validate({"model": {"kind": name}}).model, kind.spec)
    assert next(iter(registry().models)) == "mlp" and JobSpec.model_validate({"model": {}}).model.kind == "mlp"


def test_a_task_missing_a_part_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    class Halfway(Task):
        def batch(self) -> None: ...

        def evaluation(self, final: bool) -> dict[str, float]:
            return {}

    sketch = ModelKind(MLPSpec, task=f"{__name__}:Halfway", data=("points2d",), layers=lambda model, data: [])
    monkeypatch.setitem(registry().models, "mlp", sketch)
    monkeypatch.setitem(globals(), "Halfway", Halfway)
    with pytest.raises(TypeError, match=r"'mlp'.*Halfway does not define loss"):
        task_for(JobSpec())


def test_a_kind_declared_twice_or_on_unknown_data_is_refused() -> None:
    mlp = registry().model("mlp")
    with pytest.raises(TypeError, match="declared twice"):
        build([*registry().data.values(), mlp, mlp])
    with pytest.raises(TypeError, match="no one declares: sounds"):
        build([*registry().data.values(), dataclasses.replace(mlp, data=("points2d", "sounds"))])


def driver(job: JobSpec, events: list[dict[str, Any]] | None = None) -> Driver:
    return Driver(job, (events if events is not None else []).append, NoControl(), EmitPolicy())


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"data": {"kind": "digits"}},
        {"data": {"kind": "digits"}, "model": {"kind": "cnn2d"}},
        {"data": {"kind": "mnist1d", "samples": 300}, "model": {"kind": "cnn1d"}},
        {"data": {"kind": "mnist1d", "samples": 300}},
        {"data": {"dataset": "plane"}},
        {"data": {"kind": "surface", "objective": "rosenbrock"}, "model": {"kind": "params2d"}},
    ],
)
def test_a_step_returns_one_row_of_its_tags_and_evaluation_names_its_figures(spec: dict[str, Any]) -> None:
    job = JobSpec.model_validate({**spec, "optim": {"batch_size": 8}})
    events: list[dict[str, Any]] = []
    run = driver(job, events)
    task = run.task
    task.begin(recorder(events))
    row = torch.as_tensor(run.train_step(1, False)).reshape(-1)  # the tiny path's row is a float
    assert row.shape == (len(task.step_tags),) and torch.isfinite(row).all()
    figures = task.evaluation(final=True)
    assert figures and all(isinstance(v, float) for v in figures.values())
    classes = job.data.kind in ("digits", "mnist1d") or (job.data.kind == "points2d" and not job.data.regression)
    assert ("val/acc" in figures) == classes  # an accuracy only where it means something


def test_a_planted_bug_changes_only_what_it_names() -> None:
    def task(bug: str) -> Driver:
        spec = JobSpec.model_validate({"data": {"kind": "digits"}, "optim": {"planted_bug": bug, "batch_size": 8}})
        return driver(spec)

    correct, shuffled = task("none").task, task("shuffled_labels").task
    assert torch.equal(correct.split.x_train, shuffled.split.x_train)  # type: ignore[attr-defined]
    assert torch.equal(correct.split.y_val, shuffled.split.y_val)  # type: ignore[attr-defined]
    train, planted = correct.split.y_train, shuffled.split.y_train  # type: ignore[attr-defined]
    assert sorted(train.tolist()) == sorted(planted.tolist()) and (train != planted).float().mean() > 0.8

    correct_run, accumulating = task("none"), task("no_zero_grad")

    def grad(run: Driver) -> torch.Tensor:
        return run.task.model.linears()[0].weight.grad.clone()  # type: ignore[operator]

    for step in (1, 2):
        correct_run.train_step(step, False)
        accumulating.train_step(step, False)
        if step == 1:
            first = grad(correct_run)
            assert torch.equal(grad(accumulating), first)
    # same weights and batches: the second step's gradient lands on top of the first's, never cleared
    torch.testing.assert_close(grad(accumulating), first + grad(correct_run))
    refused = JobSpec.model_validate({"data": {"dataset": "plane"}, "optim": {"planted_bug": "no_zero_grad"}})
    assert [e.loc for e in spec_errors(refused, Limits())] == [("optim", "planted_bug")]  # classes only


def uploaded(x: np.ndarray, y: np.ndarray, n_classes: int, **fields: Any) -> UploadedData:
    """An uploaded table's data spec with its rows attached, as a worker receives it."""
    rows = UploadedRows(np.asarray(x, "<f4").tobytes(), np.asarray(y, "<f4").tobytes())
    sizes = {"n_rows": len(x), "n_features": x.shape[1], "n_classes": n_classes}
    return UploadedData(dataset="0123456789ab", **sizes, **fields).with_rows(rows)


def test_an_uploaded_plane_of_three_classes_trains_and_draws_the_predicted_class() -> None:
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=300, centers=3, cluster_std=1.0, random_state=0)
    x = x * [100.0, 0.01] + [5000.0, -3.0]  # columns in wildly different units: standardizing rescues them
    spec = JobSpec(data=uploaded(x, y, 3), optim={"steps": 300, "lr": 0.03, "eval_every": 300})
    events: list[dict[str, Any]] = []
    result = fit(spec, recorder(events))
    assert result.status == "done" and result.summary["val/acc"] > 0.9
    boundary = next(e for e in events if e["type"] == "boundary")
    grid = floats(boundary["probs"])
    assert boundary["output"] == "class" and set(np.unique(grid)) == {0.0, 1.0, 2.0}
    dataset = next(e for e in events if e["type"] == "dataset")
    train_points = floats(dataset["train"]["points"]).reshape(-1, 2)
    assert np.abs(train_points.mean(axis=0)).max() < 1e-4 and np.allclose(train_points.std(axis=0), 1, atol=1e-3)


def test_an_uploaded_table_of_values_is_regression_and_may_stay_unscaled() -> None:
    x = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    spec = JobSpec(data=uploaded(x, x[:, 0] - x[:, 1], 0, standardize=False), optim={"steps": 50, "eval_every": 50})
    events: list[dict[str, Any]] = []
    result = fit(spec, recorder(events))
    assert result.status == "done" and "val/acc" not in result.summary
    assert next(e for e in events if e["type"] == "boundary")["output"] == "value"
    dataset = next(e for e in events if e["type"] == "dataset")
    assert dataset["target"] == "value" and np.abs(floats(dataset["train"]["points"])).max() <= 1.0  # as uploaded


def test_a_surface_start_moves_with_the_seed_by_at_most_its_jitter() -> None:
    def start(seed: int, jitter: float) -> list[float]:
        spec = {"data": {"kind": "surface", "objective": "rosenbrock"}, "model": {"kind": "params2d"}}
        job = JobSpec.model_validate({**spec, "seed": seed, "model": {"kind": "params2d", "start_jitter": jitter}})
        row = driver(job).train_step(1, False).reshape(-1).tolist()
        return row[1:]  # the position before the first step: (loss, x, y)

    assert start(3, 0.0) == start(4, 0.0) == [-1.5, 2.0]
    moved = [start(seed, 0.3) for seed in range(5)]
    assert moved[0] == start(0, 0.3)  # runs that share a seed share a start: a race is fair
    assert len({tuple(point) for point in moved}) == 5
    assert all(abs(x + 1.5) <= 0.3 + 1e-6 and abs(y - 2.0) <= 0.3 + 1e-6 for x, y in moved)


@pytest.mark.parametrize(
    "spec",
    [
        {"model": {"hidden": [6, 5], "batch_norm": True}},
        {"data": {"kind": "digits"}, "model": {"kind": "cnn2d"}},
        {"data": {"kind": "surface", "objective": "beale"}, "model": {"kind": "params2d"}},
    ],
)
def test_a_loss_is_a_function_of_the_state_it_is_given(spec: dict[str, Any]) -> None:
    """Other parameters passed in (as stacked runs will be) give the loss the model has with them loaded,
    and leave the model's own untouched."""
    job = JobSpec.model_validate({**spec, "optim": {"batch_size": 8}})
    task = driver(job).task
    own = task.state()
    batch = task.batch()
    moved = {name: (p.detach() + 0.1 * torch.randn_like(p)) for name, p in own.params.items()}
    before = {name: p.detach().clone() for name, p in own.params.items()}
    functional, figures = task.loss(State(moved, own.buffers), batch, measure=True)
    assert all(torch.equal(p, before[name]) for name, p in own.params.items())
    with torch.no_grad():
        for name, p in own.params.items():
            p.copy_(moved[name])
    loaded, loaded_figures = task.loss(own, batch, measure=True)
    torch.testing.assert_close(functional, loaded)
    assert figures.keys() == loaded_figures.keys()
