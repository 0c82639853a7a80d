"""Descent on the parameters of a surface problem: two whose whole loss surface can be drawn (linear
regression's weight and bias, a classic optimizer test function) or regression's d weights; by an
optimizer's gradient step or by random search; each step's position (the first two weights) is buffered
with its loss (the path the page draws)."""

from __future__ import annotations

import numpy as np
import torch

from trainscope.schemas import JobSpec, Params2DSpec, SurfaceData
from trainscope.training.models import make_optimizer
from trainscope.training.random_search import RandomSearch
from trainscope.training.surface import make_problem
from trainscope.training.tasks import Emit, Task, register


def start_of(model: Params2DSpec, seed: int) -> tuple[float, float]:
    """The spec's start, moved by up to start_jitter along each axis as the seed draws it (rounded, so the
    start shown reads as the one used)."""
    if not model.start_jitter:
        return model.start
    shift = np.random.default_rng([seed, 2]).uniform(-model.start_jitter, model.start_jitter, 2)
    x, y = (round(float(c + d), 3) for c, d in zip(model.start, shift, strict=True))
    return x, y


@register("params2d")
class SurfaceTask(Task):
    step_tags = ("train/loss", "path/x", "path/y")

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        data, model = spec.data, spec.model
        assert isinstance(data, SurfaceData) and isinstance(model, Params2DSpec)
        self.data = data
        self.problem = make_problem(data, spec.seed, device)
        # regression's d weights start at zero, where the loss is ~1 + noise^2 in every dimension
        start = [0.0] * data.dims if data.objective == "regression" else list(start_of(model, spec.seed))
        self.params = torch.tensor(start, dtype=torch.float32, device=device, requires_grad=True)
        self.optimizer = make_optimizer(spec.optim, [self.params], spec.seed)
        self.search = self.optimizer if isinstance(self.optimizer, RandomSearch) else None
        # on the job's device, so a mini-batch's indices are drawn there: no host-to-device copy per step
        self.shuffle = torch.Generator(device=device).manual_seed(spec.seed)

    def begin(self, emit: Emit) -> None:
        if len(self.params) == 2:  # more weights have no surface to draw
            x, y = self.params.detach().tolist()
            drawing = self.problem.drawing((x, y))
            emit({"type": "analysis", "name": "surface", "step": 0, "figures": {}, "data": drawing})

    def train_step(self, step: int, last: bool, emit: Emit) -> torch.Tensor:
        index = None
        if self.data.objective in ("linreg", "regression") and self.spec.optim.batch_size < self.data.n_points:
            shape = (self.spec.optim.batch_size,)
            index = torch.randint(self.data.n_points, shape, generator=self.shuffle, device=self.device)
        position = self.params.detach()[:2].clone()  # the path drawn: the first two weights
        loss: torch.Tensor
        if self.search is not None:  # no gradient: two evaluations of the loss per step
            loss = self.search.step(lambda: self.problem.loss(self.params, index))
        else:
            loss = self.problem.loss(self.params, index)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            self.optimizer.step()
        return torch.cat([loss.detach().reshape(1), position])

    def evaluation(self, final: bool) -> dict[str, float]:
        with torch.no_grad():
            return {"full/loss": float(self.problem.loss(self.params))}

    def finish(self, step: int, emit: Emit, summary: dict[str, float]) -> None:
        x, y = self.params.detach()[:2].tolist()
        summary.update({"final/x": x, "final/y": y})
