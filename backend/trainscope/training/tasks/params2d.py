"""Descent on the parameters of a surface problem: two whose whole loss surface can be drawn (linear
regression's weight and bias, a classic optimizer test function) or regression's d weights; by an
optimizer's gradient step or by random search; each step's position (the first two weights) is buffered
with its loss (the path the page draws)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trainscope.schemas import JobSpec, Params2DSpec, SurfaceData, SurfaceEvent
from trainscope.training.surface import make_problem
from trainscope.training.tasks import Emit, Figures, State, Task


def start_of(model: Params2DSpec, seed: int) -> tuple[float, float]:
    """The spec's start, moved by up to start_jitter along each axis as the seed draws it (rounded, so the
    start shown reads as the one used)."""
    if not model.start_jitter:
        return model.start
    shift = np.random.default_rng([seed, 2]).uniform(-model.start_jitter, model.start_jitter, 2)
    x, y = (round(float(c + d), 3) for c, d in zip(model.start, shift, strict=True))
    return x, y


class SurfaceTask(Task):
    """The parameters are the model; a step's figures are its position (the first two weights) before
    the step, the path the page draws."""

    step_tags = ("train/loss", "path/x", "path/y")
    model: Weights

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        data, model = spec.data, spec.model
        assert isinstance(data, SurfaceData) and isinstance(model, Params2DSpec)
        self.data = data
        self.problem = make_problem(data, spec.seed, device)
        # regression's d weights start at zero, where the loss is ~1 + noise^2 in every dimension
        start = [0.0] * data.dims if data.objective == "regression" else list(start_of(model, spec.seed))
        self.model = Weights(torch.tensor(start, dtype=torch.float32, device=device))
        self.sampled = data.objective in ("linreg", "regression") and spec.optim.batch_size < data.n_points
        # on the job's device, so a mini-batch's indices are drawn there: no host-to-device copy per step
        self.shuffle = torch.Generator(device=device).manual_seed(spec.seed)

    def begin(self, emit: Emit) -> None:
        if len(self.model.weights) == 2:  # more weights have no surface to draw
            x, y = self.model.weights.detach().tolist()
            drawing = self.problem.drawing((x, y))
            emit(SurfaceEvent(step=0, data=drawing))

    def batch(self) -> torch.Tensor | None:
        """The examples' indices of a mini-batch; None: the whole set (or a function with no data)."""
        if not self.sampled:
            return None
        shape = (self.spec.optim.batch_size,)
        return torch.randint(self.data.n_points, shape, generator=self.shuffle, device=self.device)

    def loss(self, state: State, batch: torch.Tensor | None, measure: bool) -> tuple[torch.Tensor, Figures]:
        weights = state.params["weights"]
        position = weights.detach()[:2].clone()
        return self.problem.loss(weights, batch), {"path/x": position[0], "path/y": position[1]}

    def evaluation(self, final: bool) -> dict[str, float]:
        with torch.no_grad():
            return {"full/loss": float(self.problem.loss(self.model.weights))}

    def finish(self, step: int, emit: Emit, summary: dict[str, float]) -> None:
        x, y = self.model.weights.detach()[:2].tolist()
        summary.update({"final/x": x, "final/y": y})


class Weights(nn.Module):
    """The surface problem's weights as a module's one parameter: what the optimizer moves."""

    def __init__(self, start: torch.Tensor) -> None:
        super().__init__()
        self.weights = nn.Parameter(start)
