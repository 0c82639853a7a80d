"""Telemetry probes: compute on the job's device, one device-to-host transfer per sampling step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

Emit = Callable[[dict[str, Any]], None]


def histogram(values: torch.Tensor, bins: int) -> torch.Tensor:
    """[min, max, counts...] of `values` over `bins` equal-width bins, computed on its device.

    Matches numpy.histogram(values, bins, range=(min, max)), including its widening of an empty range
    to (v - 0.5, v + 0.5). float64, so bin edges agree with numpy's; no host sync (no Python floats).
    """
    flat = values.detach().reshape(-1).double()
    lo, hi = flat.min(), flat.max()
    empty = hi == lo
    lo = torch.where(empty, lo - 0.5, lo)
    hi = torch.where(empty, hi + 0.5, hi)
    # numpy's order of operations: (x - lo) * (bins / (hi - lo)), then floor; x == hi goes in the last bin
    index = ((flat - lo) * (bins / (hi - lo))).floor().long().clamp_(0, bins - 1)
    counts = torch.bincount(index, minlength=bins).double()
    return torch.cat([lo.reshape(1), hi.reshape(1), counts])


class ActivationHistograms:
    """Histograms of each hidden layer's activation output every `every` steps.

    Forward hooks are armed only for the forward pass of a sampling step, so other steps pay nothing.
    """

    def __init__(self, activations: list[nn.Module], names: list[str], every: int, bins: int) -> None:
        self.activations = activations
        self.names = names
        self.every = every
        self.bins = bins
        self._handles: list[RemovableHandle] = []
        self._captured: list[torch.Tensor] = []

    def wants(self, step: int) -> bool:
        return step == 1 or step % self.every == 0

    def arm(self) -> None:
        self._captured = []
        for module in self.activations:
            self._handles.append(module.register_forward_hook(self._capture))

    def _capture(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        self._captured.append(histogram(output, self.bins))

    def disarm_and_emit(self, step: int, emit: Emit) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if not self._captured:
            return
        rows = torch.stack(self._captured).tolist()  # the one device-to-host transfer of this step
        self._captured = []
        for name, row in zip(self.names, rows, strict=True):
            emit(
                {
                    "type": "histogram",
                    "step": step,
                    "tag": f"act/{name}",
                    "min": row[0],
                    "max": row[1],
                    "counts": [int(c) for c in row[2:]],
                }
            )
