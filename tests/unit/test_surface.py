"""Two-parameter problems: the drawn surface, the path, divergence."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

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
    result = fit(JobSpec.model_validate({**base, **spec}), events.append)
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
