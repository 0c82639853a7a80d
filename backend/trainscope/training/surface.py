"""Problems on the parameters themselves: two-parameter ones whose whole loss surface can be drawn
(linear regression's (weight, bias), the optimizer test functions Rosenbrock and Beale), and least squares
in d weights, drawn when d is 2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from trainscope.schemas import SurfaceData
from trainscope.training.probes import b64

SURFACE_GRID = 60  # cells per side of the drawn surface

# Classic test functions: global minimum and a view that frames the usual starting points
RANGES = {"rosenbrock": ((-2.0, 2.0), (-1.0, 3.0)), "beale": ((-4.5, 4.5), (-4.5, 4.5))}
MINIMA = {"rosenbrock": (1.0, 1.0), "beale": (3.0, 0.5)}
LINREG_TRUTH = (2.0, -1.0)  # y = 2 x - 1 + noise
LINREG_X = (1.0, 1.0)  # x ~ N(1, 1): off-centre, so the weight and the bias interact (an elongated bowl)


@dataclass(frozen=True)
class Problem:
    """The objective on a batch; for linear regression its examples (on the device)."""

    spec: SurfaceData
    x: torch.Tensor
    y: torch.Tensor

    def loss(self, params: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        """Loss at params (shape (2,) or (..., 2) for a grid); index picks a mini-batch (None: all)."""
        a, b = params[..., 0], params[..., 1]
        if self.spec.objective == "rosenbrock":
            return (1 - a) ** 2 + 100 * (b - a**2) ** 2
        if self.spec.objective == "beale":
            return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2 + (2.625 - a + a * b**3) ** 2
        x, y = (self.x, self.y) if index is None else (self.x[index], self.y[index])
        if self.spec.objective == "regression":  # x: examples x dims; params: (..., dims)
            residual = params @ x.T - y
        else:
            residual = a.unsqueeze(-1) * x + b.unsqueeze(-1) - y
        return (residual**2).mean(-1)

    def design(self) -> torch.Tensor:
        """The least-squares problem's matrix: [x, 1] for linreg's weight and bias, x for regression."""
        if self.spec.objective == "regression":
            return self.x.double()
        return torch.stack([self.x, torch.ones_like(self.x)], 1).double()

    def minimum(self) -> tuple[float, ...]:
        if self.spec.objective not in ("linreg", "regression"):
            return MINIMA[self.spec.objective]
        design = self.design()
        solution = torch.linalg.lstsq(design.cpu(), self.y.double().cpu().unsqueeze(1)).solution.squeeze(1)
        return tuple(float(w) for w in solution)

    def largest_curvature(self) -> float | None:
        """Linear regression's loss is a quadratic bowl whose Hessian is 2/n X^T X (X: [x, 1]); full-batch
        gradient descent converges on it exactly when lr < 2 / its largest eigenvalue. None for the test
        functions, whose curvature changes from point to point."""
        if self.spec.objective not in ("linreg", "regression"):
            return None
        design = self.design()
        hessian = 2 * design.T @ design / len(self.x)
        return float(torch.linalg.eigvalsh(hessian)[-1])

    def view(self, start: tuple[float, float]) -> tuple[tuple[float, float], tuple[float, float]]:
        """The rectangle to draw: the test function's usual frame, or a square around the least-squares
        solution that holds the start with room to spare (a diverging path leaves it, as it should)."""
        if self.spec.objective in RANGES:
            return RANGES[self.spec.objective]
        best = self.minimum()
        half = 1.5 * max(abs(start[0] - best[0]), abs(start[1] - best[1]), 0.5)
        return (best[0] - half, best[0] + half), (best[1] - half, best[1] + half)

    def drawing(self, start: tuple[float, float]) -> dict[str, Any]:
        """What the page draws: the loss over the view, SURFACE_GRID x SURFACE_GRID (base64 float32, row i
        at y_range[0] + i * dy), and the minimum."""
        (x0, x1), (y0, y1) = self.view(start)
        xs = torch.linspace(x0, x1, SURFACE_GRID, device=self.x.device)
        ys = torch.linspace(y0, y1, SURFACE_GRID, device=self.x.device)
        points = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)
        with torch.no_grad():
            values = self.loss(points)
        return {
            "objective": self.spec.objective,
            "grid": SURFACE_GRID,
            "x_range": [x0, x1],
            "y_range": [y0, y1],
            "values": b64(values),
            "minimum": list(self.minimum()),
            "largest_curvature": self.largest_curvature(),
        }


def make_problem(spec: SurfaceData, seed: int, device: torch.device) -> Problem:
    seed = spec.seed if spec.seed is not None else seed
    if spec.objective in RANGES:
        empty = torch.zeros(0, device=device)
        return Problem(spec, empty, empty)
    rng = np.random.default_rng(seed)
    if spec.objective == "regression":
        # |w| = 1 and x ~ N(0, I): the loss at w = 0 is about 1 + noise^2 whatever the dimension
        truth = rng.normal(size=spec.dims)
        x = rng.normal(size=(spec.n_points, spec.dims))
        y = x @ (truth / np.linalg.norm(truth)) + rng.normal(0.0, spec.noise, spec.n_points)
        return Problem(spec, *(torch.tensor(a, dtype=torch.float32, device=device) for a in (x, y)))
    x = rng.normal(LINREG_X[0], LINREG_X[1], spec.n_points)
    y = LINREG_TRUTH[0] * x + LINREG_TRUTH[1] + rng.normal(0.0, spec.noise, spec.n_points)
    return Problem(
        spec, torch.tensor(x, dtype=torch.float32, device=device), torch.tensor(y, dtype=torch.float32, device=device)
    )
