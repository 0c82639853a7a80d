"""Random search as an optimizer: try a random move of the parameters, keep it if the loss fell.

A (1+1) evolution strategy: the move is Gaussian with step size sigma (the spec's learning rate at the
start), and sigma follows the 1/5 success rule (x1.5 after a kept move, /1.5^(1/4) after a rejected one,
so it settles where one move in five succeeds). A tuned random search, so the lesson's comparison with
gradient descent is fair: it costs two loss evaluations a step and no gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

GROW = 1.5  # sigma after a kept move; after a rejected one it shrinks by GROW ** (1 / 4)


class RandomSearch(torch.optim.Optimizer):
    def __init__(self, params: Iterable[torch.Tensor], lr: float, seed: int) -> None:
        super().__init__(params, {"lr": lr})
        first = self.param_groups[0]["params"][0]
        self.generator = torch.Generator(device=first.device).manual_seed(seed)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor:  # type: ignore[override]
        if closure is None:
            raise ValueError("random search evaluates the loss itself: step(closure)")
        loss = closure()
        for group in self.param_groups:
            params = group["params"]
            saved = [p.clone() for p in params]  # restored exactly: adding then subtracting a move drifts
            for p in params:
                p.add_(torch.randn(p.shape, generator=self.generator, device=p.device), alpha=group["lr"])
            moved = closure()
            kept = bool(moved < loss)
            if kept:
                loss = moved
            else:
                for p, before in zip(params, saved, strict=True):
                    p.copy_(before)
            group["lr"] *= GROW if kept else GROW**-0.25
        return loss
