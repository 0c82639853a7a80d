"""What a training step holds, measured in a run (training/memory.py estimates the same parts from the
spec): the parameters, their gradients, the optimizer's state (tensors shaped like a parameter: Adam's
step counters left out), the tensors autograd saves for backward (storages counted once, the parameters'
left out) and, on CUDA, the step's peak allocation. The driver measures a run's first step when its spec
asks (probes.memory): that step creates the optimizer's state, as every later one holds it."""

from __future__ import annotations

from types import TracebackType

import torch


def nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


class StepMemory:
    """A context around one training step: what autograd saves within it, and its peak on CUDA."""

    def __init__(self, params: list[torch.Tensor], device: torch.device) -> None:
        self.params, self.device = params, device
        self.own = {p.untyped_storage().data_ptr() for p in params}
        self.saved: dict[int, int] = {}  # storage -> its bytes
        self.hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor)

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in self.own:
            self.saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    def __enter__(self) -> StepMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self.hooks.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.hooks.__exit__(kind, error, trace)

    def measured(self, optimizer: torch.optim.Optimizer | None) -> dict[str, float]:
        """Bytes of each part after the step (its peak too, on CUDA)."""
        state = optimizer.state if optimizer is not None else {}
        figures = {
            "parameters": float(sum(nbytes(p) for p in self.params)),
            "gradients": float(sum(nbytes(p.grad) for p in self.params if p.grad is not None)),
            "optimizer_state": float(
                sum(
                    nbytes(value)
                    for p in self.params
                    for value in state.get(p, {}).values()
                    if isinstance(value, torch.Tensor) and value.shape == p.shape
                )
            ),
            "saved_for_backward": float(sum(self.saved.values())),
        }
        if self.device.type == "cuda":
            figures["peak"] = float(torch.cuda.max_memory_allocated(self.device))
        return figures
