"""The worker's own logic, without a process: how a failure is worded."""

from __future__ import annotations

import torch

from trainscope.jobs.worker import failure_message


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
