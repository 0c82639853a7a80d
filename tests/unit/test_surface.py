"""Two-parameter problems: the drawn surface, the path, divergence."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from tests.recorded import recorder
from trainscope.schemas import JobSpec, SurfaceData
from trainscope.training.driver import fit
from trainscope.training.surface import make_problem


def test_linreg_minimum_is_least_squares() -> None:
    problem = make_problem(SurfaceData(objective="linreg", n_points=50), seed=2, device=torch.device("cpu"))
    x, y = problem.x.double().numpy(), problem.y.double().numpy()
    expected = np.polyfit(x, y, 1)
    assert np.allclose(problem.minimum(), expected, atol=1e-5)
    at_minimum = float(problem.loss(torch.tensor(problem.minimum())))
    assert at_minimum < float(problem.loss(torch.tensor([expected[0] + 0.1, expected[1]])))


def test_test_functions_are_zero_at_their_minima() -> None:
    for objective in ("rosenbrock", "beale"):
        problem = make_problem(SurfaceData(objective=objective), seed=0, device=torch.device("cpu"))
        assert float(problem.loss(torch.tensor(problem.minimum()))) == 0.0


def run(spec: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    base = {"data": {"kind": "surface"}, "model": {"kind": "params2d", "start": [-2.0, 3.0]}}
    result = fit(JobSpec.model_validate({**base, **spec}), recorder(events))
    return result, events


def test_gradient_descent_walks_from_the_start_to_the_minimum() -> None:
    result, events = run({"optim": {"optimizer": "sgd", "lr": 0.1, "batch_size": 200, "steps": 300}})
    surface = next(e for e in events if e["type"] == "analysis")
    assert surface["name"] == "surface" and surface["data"]["grid"] == 60
    points = [p for e in events if e["type"] == "scalars" for p in e["points"]]
    assert [p["step"] for p in points] == list(range(1, 301))
    assert (points[0]["values"]["path/x"], points[0]["values"]["path/y"]) == (-2.0, 3.0)
    assert result.status == "done"
    assert np.allclose([result.summary["final/x"], result.summary["final/y"]], surface["data"]["minimum"], atol=1e-3)


def test_too_large_a_rate_diverges_on_the_bowl() -> None:
    result, _ = run({"optim": {"optimizer": "sgd", "lr": 2.0, "batch_size": 200, "steps": 100}})
    assert result.status == "diverged"


def test_two_over_the_largest_curvature_is_where_full_batch_descent_stops_converging() -> None:
    problem = make_problem(SurfaceData(objective="linreg", n_points=200), 3, torch.device("cpu"))
    curvature = problem.largest_curvature()
    assert curvature is not None
    x = problem.x.double().numpy()
    design = np.stack([x, np.ones_like(x)], 1)
    assert abs(curvature - np.linalg.eigvalsh(2 * design.T @ design / len(x))[-1]) < 1e-9 * curvature  # numpy

    def descend(lr: float) -> float:
        params = torch.tensor([-2.0, 3.0], requires_grad=True)
        for _ in range(300):
            (grad,) = torch.autograd.grad(problem.loss(params), params)
            params = (params - lr * grad).detach().requires_grad_()
        return float(problem.loss(params.detach()))

    start = float(problem.loss(torch.tensor([-2.0, 3.0])))
    assert descend(0.95 * 2 / curvature) < start / 100  # just under the edge: converges
    assert descend(1.05 * 2 / curvature) > start * 100  # just over it: blows up
    assert make_problem(SurfaceData(objective="rosenbrock"), 0, torch.device("cpu")).largest_curvature() is None


def losses(events: list[dict[str, Any]]) -> list[float]:
    return [p["values"]["train/loss"] for e in events if e["type"] == "scalars" for p in e["points"]]


def test_regression_starts_near_one_plus_the_noise_in_any_dimension_and_descends_alike() -> None:
    for dims in (2, 50):
        spec = SurfaceData(objective="regression", dims=dims, n_points=400, noise=0.1)
        problem = make_problem(spec, 0, torch.device("cpu"))
        assert 0.7 < float(problem.loss(torch.zeros(dims))) < 1.4  # |w| = 1, x ~ N(0, I)
        best = torch.tensor(problem.minimum(), dtype=torch.float32)
        assert len(best) == dims and float(problem.loss(best)) < 0.0101 + 0.002
    base = {"data": {"kind": "surface", "objective": "regression", "n_points": 400, "noise": 0.1}}
    optim = {"optimizer": "sgd", "lr": 0.2, "batch_size": 400, "steps": 30}
    small = losses(run({**base, "optim": optim})[1])
    large = losses(run({**base | {"data": {**base["data"], "dims": 100}}, "optim": optim})[1])
    # a gradient step gains in every direction at once: the same few steps to 0.05 with 2 or 100 weights
    assert next(i for i, v in enumerate(small) if v < 0.05) <= 8
    assert next(i for i, v in enumerate(large) if v < 0.05) <= 8


def test_random_search_keeps_only_moves_that_lower_the_loss_and_slows_with_the_dimension() -> None:
    base = {"data": {"kind": "surface", "objective": "regression", "n_points": 400, "noise": 0.1}}
    optim = {"optimizer": "random_search", "lr": 0.1, "batch_size": 400, "steps": 400}
    result, events = run({**base, "optim": optim})
    small = losses(events)
    assert result.status == "done" and all(b <= a for a, b in itertools.pairwise(small))  # never worse
    assert not any(e["type"] == "analysis" and e["name"] == "gradient" for e in events)
    large = losses(run({**base | {"data": {**base["data"], "dims": 100}}, "optim": optim})[1])
    assert min(small) < 0.05 < min(large)  # 400 tries: enough for 2 weights, far from enough for 100
