"""Data parallelism for the driver: a run as `world_size` ranks (processes), each holding the whole model
and a 1/world_size share of every batch. The model is wrapped in torch's DistributedDataParallel, which
averages the ranks' gradients during backward, so every rank takes the same optimizer step: N ranks of
batch B train as one process of batch N*B (up to float summation order).

Rank 0 is the run a viewer sees: it reports, probes and obeys the controller. The others follow it: once
a step, one all-reduce carries every rank's loss row (so rank 0 reports the whole batch's loss), rank 0's
"report now" (time-based, so only it may decide) and each rank's busy time; at a report, one broadcast
carries rank 0's commands (pause, step, set_lr, cancel) and whether its time is up. Everything else the
ranks decide alike, from the same steps and the same rows."""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from trainscope.schemas import Command


@dataclass(frozen=True)
class RankInfo:
    """Where a rank stands: its number, how many there are, and the rendezvous (rank 0's TCP store)."""

    rank: int
    world: int
    address: str  # tcp://127.0.0.1:PORT
    backend: str  # gloo or nccl


def backend_for(choice: str, device: str, world: int) -> str:
    """nccl when every rank has a GPU of its own, else gloo (on the CPU, or ranks sharing one GPU), unless
    the spec chose."""
    if choice != "auto":
        return choice
    on_gpu = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    return "nccl" if on_gpu and torch.cuda.device_count() >= world else "gloo"


def rank_device(device: torch.device, rank: int) -> torch.device:
    """One GPU per rank (rank r on GPU r); ranks on the CPU share it."""
    if device.type == "cuda":
        return torch.device("cuda", rank % torch.cuda.device_count())
    return device


def shard(batch: Any, rank: int, world: int) -> Any:
    """This rank's share of a batch: rows [rank*n/world, (rank+1)*n/world) of every tensor in it."""
    if isinstance(batch, torch.Tensor):
        size = batch.shape[0] // world
        return batch[rank * size : (rank + 1) * size]
    if isinstance(batch, tuple | list):
        return type(batch)(shard(part, rank, world) for part in batch)
    return batch  # None: a batch with no tensors (nothing to share)


JOIN_TIMEOUT_S = 60.0  # every rank must join within this (they are started and warm before they try)


class Ranks:
    """This process's place among the ranks of a run, once joined (see `joined`), and the group its
    collectives go through."""

    def __init__(self, info: RankInfo, device: torch.device, group: Any) -> None:
        self.rank, self.world, self.device, self.group = info.rank, info.world, device, group
        self.busy = [0.0] * info.world  # seconds each rank spent in its steps since the last read

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def shard(self, batch: Any) -> Any:
        return shard(batch, self.rank, self.world)

    def wrap(self, model: nn.Module) -> nn.Module:
        """The model under DDP: its forward through this averages the gradients in backward."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids, process_group=self.group)

    def step(self, row: torch.Tensor, report_now: bool, busy_s: float) -> tuple[torch.Tensor, bool]:
        """The whole batch's row (the ranks' mean) and whether rank 0 said to report now; one all-reduce."""
        extra = torch.zeros(1 + self.world, device=row.device)
        extra[0] = float(report_now and self.leader)
        extra[1 + self.rank] = busy_s
        shared = torch.cat([row.detach().reshape(-1).float(), extra])
        dist.all_reduce(shared, group=self.group)
        values = shared[row.numel() :].tolist()  # a device read per step: the collective synced already
        for rank, seconds in enumerate(values[1:]):
            self.busy[rank] += seconds
        return (shared[: row.numel()] / self.world).reshape(row.shape).to(row.dtype), values[0] > 0

    def rates(self, samples: int) -> dict[str, float]:
        """Samples/s of each rank's own share since the last call, by its busy time (rank 0 reports them)."""
        share = samples / self.world
        rates = {f"rank{rank}/samples_per_s": share / busy for rank, busy in enumerate(self.busy) if busy > 0}
        self.busy = [0.0] * self.world
        return rates


class FollowRank0:
    """The Control every rank obeys: rank 0's commands, and its clock, shared in one broadcast per poll
    (every rank polls at the same points of the run, so the broadcasts match)."""

    def __init__(self, ranks: Ranks, control: Any, time_up: Callable[[], bool], out_of_time: type[Exception]) -> None:
        self.ranks, self.control, self.time_up, self.out_of_time = ranks, control, time_up, out_of_time

    def poll(self, wait: float) -> list[Command]:
        said: list[Any] = [self.control.poll(wait), self.time_up()] if self.ranks.leader else [None, None]
        dist.broadcast_object_list(said, src=0, group=self.ranks.group)
        commands, late = said
        if late:
            raise self.out_of_time
        return list(commands)


@contextlib.contextmanager
def joined(info: RankInfo, device: torch.device, timeout_s: float) -> Iterator[Ranks]:
    """Join the run's process group and leave it at the end. Every rank must join within JOIN_TIMEOUT_S
    (so a rank that died starting fails the run soon); a collective then waits at most `timeout_s`: a
    paused run waits in one for its next command."""
    device = rank_device(device, info.rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if info.address.startswith("tcp://127.0.0.1:"):  # ranks of one machine talk over loopback only
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group(
        info.backend,
        init_method=info.address,
        rank=info.rank,
        world_size=info.world,
        timeout=datetime.timedelta(seconds=min(JOIN_TIMEOUT_S, timeout_s)),
    )
    try:
        group = dist.new_group(list(range(info.world)), timeout=datetime.timedelta(seconds=timeout_s))
        yield Ranks(info, device, group)
    finally:
        dist.destroy_process_group()
