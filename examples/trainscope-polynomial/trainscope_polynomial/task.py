"""The polynomial's task: its model, its batches and its loss; the driver does the rest."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trainscope.schemas import JobSpec
from trainscope.training.tasks import Figures, State, Task
from trainscope_polynomial.kind import CurveData, PolynomialSpec

CURVES = {"sine": lambda x: np.sin(3 * x), "cubic": lambda x: x**3 - x / 2}


class Coefficients(nn.Module):
    def __init__(self, degree: int) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(degree + 1))


class PolynomialTask(Task):
    """Least squares on the powers of x; each step also reports the size of the coefficients."""

    step_tags = ("train/loss", "weights/norm")

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        data, model = spec.data, spec.model
        assert isinstance(data, CurveData) and isinstance(model, PolynomialSpec)
        rng = np.random.default_rng(data.seed if data.seed is not None else spec.seed)
        x = rng.uniform(-1, 1, data.n_points)
        y = CURVES[data.curve](x) + rng.normal(0, data.noise, data.n_points)
        powers = torch.tensor(x[:, None] ** np.arange(model.degree + 1), dtype=torch.float32, device=device)
        targets = torch.tensor(y, dtype=torch.float32, device=device)
        n_train = data.split_sizes()[0]
        self.train, self.val = (powers[:n_train], targets[:n_train]), (powers[n_train:], targets[n_train:])
        self.model = Coefficients(model.degree).to(device)
        self.shuffle = torch.Generator(device=device).manual_seed(spec.seed)

    def batch(self) -> torch.Tensor:
        size = (self.spec.optim.batch_size,)
        return torch.randint(len(self.train[1]), size, generator=self.shuffle, device=self.device)

    def loss(self, state: State, batch: torch.Tensor, measure: bool) -> tuple[torch.Tensor, Figures]:
        weights = state.params["weights"]
        powers, targets = self.train
        loss = ((powers[batch] @ weights - targets[batch]) ** 2).mean()
        return loss, {"weights/norm": weights.detach().norm()}

    def evaluation(self, final: bool) -> dict[str, float]:
        powers, targets = self.val
        with torch.no_grad():
            return {"val/loss": float(((powers @ self.model.weights - targets) ** 2).mean())}
