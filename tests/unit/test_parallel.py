"""Data parallelism without a server: two ranks of batch B train exactly as one process of batch 2B, and
not as one of batch B; a batch's share; what a data-parallel spec may ask for (the live API tests run
ranks through the real job path, and kill one)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from trainscope.config import Limits
from trainscope.jobs.ranks import OtherRanks, rendezvous
from trainscope.jobs.wire import WorkerConfig
from trainscope.schemas import EventBase, JobSpec, ScalarsEvent, StatusEvent
from trainscope.schemas.rules import spec_errors
from trainscope.training.control import EmitPolicy
from trainscope.training.driver import fit
from trainscope.training.parallel import RankInfo, backend_for, shard

CONFIG = WorkerConfig(device="cpu", torch_threads=1, emit_interval_s=0.1, emit_max_steps=200, max_job_seconds=600)


def spec(batch: int, world: int = 1, **more: Any) -> JobSpec:
    return JobSpec.model_validate(
        {
            "device": "cpu",
            "data": {"dataset": "spiral", "n_points": 400},
            "optim": {"steps": 100, "batch_size": batch, "lr": 0.01},
            "distributed": {"world_size": world},
            **more,
        }
    )


def losses(events: list[EventBase]) -> list[float]:
    return [point.values["train/loss"] for e in events if isinstance(e, ScalarsEvent) for point in e.points]


def as_ranks(job: JobSpec) -> list[EventBase]:
    """Rank 0 here, the others spawned as a worker spawns them; rank 0's events."""
    world, address = job.distributed.world_size, rendezvous()
    infos = [RankInfo(rank, world, address, "gloo") for rank in range(world)]
    events: list[EventBase] = []
    with OtherRanks(infos[1:], job.model_dump_json(), None, CONFIG) as others:
        result = fit(job, events.append, None, EmitPolicy(), rank=infos[0])
    assert result.status == "done" and [p.exitcode for p in others.processes] == [0] * (world - 1)
    return events


def test_two_ranks_of_batch_b_train_as_one_process_of_2b_and_not_as_one_of_b() -> None:
    parallel = losses(as_ranks(spec(32, world=2)))
    alone_2b, alone_b = [], []
    fit(spec(32), alone_2b.append)
    fit(spec(16), alone_b.append)
    assert len(parallel) == 100 == len(losses(alone_2b))
    assert max(abs(a - b) for a, b in zip(parallel, losses(alone_2b), strict=True)) <= 1e-4
    assert max(abs(a - b) for a, b in zip(parallel, losses(alone_b), strict=True)) > 1e-2


def test_rank_0_reports_for_the_run_with_each_ranks_throughput() -> None:
    events = as_ranks(spec(48, world=3, optim={"steps": 40, "batch_size": 48, "eval_every": 20}))
    reported = [point.values for e in events if isinstance(e, ScalarsEvent) for point in e.points]
    rates = [values for values in reported if "rank0/samples_per_s" in values]
    assert rates and all({"rank1/samples_per_s", "rank2/samples_per_s"} <= set(values) for values in rates)
    assert all(value > 0 for values in rates for key, value in values.items() if key.startswith("rank"))
    assert [p.step for e in events if isinstance(e, ScalarsEvent) for p in e.points if "val/acc" in p.values] == [
        20,
        40,
    ]
    assert not any(isinstance(e, StatusEvent) for e in events)  # the worker says how the job runs and ends


def test_a_rank_takes_its_equal_share_of_every_tensor_of_a_batch() -> None:
    batch = (torch.arange(12).reshape(6, 2), torch.arange(6), None)
    first, second, third = (shard(batch, rank, 3) for rank in range(3))
    assert first[0].tolist() == [[0, 1], [2, 3]] and second[1].tolist() == [2, 3] and third[1].tolist() == [4, 5]
    assert first[2] is None and torch.equal(torch.cat([first[0], second[0], third[0]]), batch[0])


@pytest.mark.parametrize(
    ("changes", "loc", "kind"),
    [
        ({"distributed": {"world_size": 5}}, ("distributed", "world_size"), "less_than_equal"),
        ({"distributed": {"world_size": 3}}, ("optim", "batch_size"), "batch_not_shared"),
        ({"distributed": {"world_size": 1, "backend": "gloo"}}, ("distributed", "backend"), "one_rank"),
        ({"distributed": {"world_size": 2, "backend": "nccl"}}, ("distributed", "backend"), "nccl_on_cpu"),
        (
            {"distributed": {"world_size": 2}, "data": {"kind": "blobs"}, "model": {"kind": "kmeans"}},
            ("distributed", "world_size"),
            "not_data_parallel",
        ),
    ],
)
def test_what_a_data_parallel_spec_may_not_ask_for_is_refused_at_its_field(
    changes: dict[str, Any], loc: tuple[str, ...], kind: str
) -> None:
    job = JobSpec.model_validate({"device": "cpu", "optim": {"batch_size": 32}, **changes})
    errors = spec_errors(job, Limits())
    assert [(error.loc, error.kind) for error in errors] == [(loc, kind)], errors
    assert spec_errors(spec(32, world=2), Limits()) == [] and spec_errors(spec(32, world=4), Limits()) == []


@pytest.mark.gpu
def test_two_ranks_on_cuda_train_as_one_process_of_2b() -> None:
    """NCCL where each rank has a GPU of its own; with one GPU both ranks share it over gloo."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    world = 2
    backend = backend_for("auto", "cuda", world)
    assert backend == ("nccl" if torch.cuda.device_count() >= world else "gloo")
    job = spec(32, world=world).model_copy(update={"device": "cuda"})
    address = rendezvous()
    infos = [RankInfo(rank, world, address, backend) for rank in range(world)]
    events: list[EventBase] = []
    with OtherRanks(infos[1:], job.model_dump_json(), None, CONFIG):
        assert fit(job, events.append, None, EmitPolicy(), rank=infos[0]).status == "done"
    alone: list[EventBase] = []
    fit(spec(32).model_copy(update={"device": "cuda"}), alone.append)
    assert max(abs(a - b) for a, b in zip(losses(events), losses(alone), strict=True)) <= 1e-4
