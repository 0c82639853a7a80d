"""The worker's own logic, without a process: how a failure is worded, and each event, built as a model
of schemas/events.py where it is made, encoded once into what the store keeps."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import torch
from pydantic import TypeAdapter, ValidationError

from trainscope.jobs.wire import JobEvent
from trainscope.jobs.worker import encoding_emit, failure_message
from trainscope.schemas import Event, GradientVarianceEvent, HistogramEvent, JobSpec
from trainscope.schemas.decode import decode
from trainscope.training.driver import fit


def test_out_of_memory_is_said_plainly() -> None:
    assert failure_message(MemoryError("cannot allocate 8 GiB")).startswith("out of memory: MemoryError")
    assert failure_message(torch.OutOfMemoryError("CUDA out of memory")).startswith("out of memory:")
    cpu = RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: 9 GB")
    assert failure_message(cpu).startswith("out of memory:")


def test_other_failures_keep_their_last_line() -> None:
    assert failure_message(ValueError("bad input")) == "ValueError: bad input"


def test_a_real_failed_allocation_reads_as_out_of_memory() -> None:
    try:
        torch.empty(10**13, dtype=torch.uint8)  # 10 TB: refused at once by the allocator
    except RuntimeError as error:
        assert failure_message(error).startswith("out of memory:")
    else:
        raise AssertionError("a 10 TB allocation succeeded")


def test_an_event_is_checked_where_it_is_made_and_encoded_once() -> None:
    sent: list[JobEvent] = []
    emit = encoding_emit("job1", sent.append)
    emit(HistogramEvent(step=3, tag="act/layer1", min=0.0, max=1.0, counts=[1, 2]))
    body = decode(sent[0].body)  # encoded here, once
    assert sent[0].job_id == "job1" and "wall" in body and "seq" not in body and "job" not in body  # the pump numbers
    assert (sent[0].type, sent[0].step, sent[0].tag) == ("histogram", 3, "act/layer1")
    with pytest.raises(ValidationError, match="counts"):
        HistogramEvent(step=3, tag="act/layer1", min=0.0, max=1.0)  # type: ignore[call-arg]
    emit(GradientVarianceEvent(step=3, figures={"variance": float("nan")}))
    assert len(sent) == 1  # JSON has no NaN: left out, the run goes on


@pytest.mark.parametrize(
    "spec",
    [
        {"data": {"dataset": "plane", "features": ["x1", "x2", "x1_sq"]}, "optim": {"steps": 60}},
        {
            "data": {"kind": "digits"},
            "model": {"kind": "cnn2d"},
            "optim": {"steps": 30},
            "probes": {"unroll_conv": True},
        },
        {"data": {"kind": "surface", "objective": "beale"}, "model": {"kind": "params2d"}, "optim": {"steps": 30}},
    ],
)
def test_every_event_a_run_makes_passes_the_check(spec: dict[str, Any]) -> None:
    sent: list[JobEvent] = []
    result = fit(JobSpec.model_validate(spec), encoding_emit("job1", sent.append))
    assert result.status == "done" and len(sent) > 3
    stored = TypeAdapter(Event)
    for seq, message in enumerate(sent, 1):  # as the pump numbers it and a reader decodes it
        event = stored.validate_python({"job": "job1", "seq": seq, **decode(message.body)})
        assert (event.type, event.step) == (message.type, message.step)


def test_a_worker_imports_what_crosses_the_pipe_and_not_the_store_nor_the_pumps_messages() -> None:
    """What a worker sends and receives is wire.py's: plain values a pipe (or a Ray actor) can carry;
    the pump's requests hold asyncio futures and store records, which a worker has no use for."""
    code = "import sys, trainscope.jobs.worker; print([m for m in sys.modules if m.startswith('trainscope.')])"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    imported = run.stdout
    assert "trainscope.jobs.wire" in imported
    assert "trainscope.jobs.messages" not in imported and "trainscope.store" not in imported
