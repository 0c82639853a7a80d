"""Where a run's tensors live: the device a job's choice means in this process, and binding a worker to
one GPU."""

from __future__ import annotations

import torch


def resolve_device(choice: str) -> torch.device:
    """The device a job's choice means here: on CUDA, this process's current device (bind_cuda), by index,
    so that its events say which of the machine's GPUs it ran on."""
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("this job asks for CUDA but the worker has no CUDA device")
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def bind_cuda(index: int) -> None:
    """Make cuda:index this process's device (settings.devices): every job it runs on CUDA goes there."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if index >= count:
        raise RuntimeError(
            f"cuda:{index} was asked for (TRAINSCOPE_DEVICES), but this machine has {count} CUDA devices"
        )
    torch.cuda.set_device(index)
