"""The worker's own logic, without a process: how a failure is worded."""

from __future__ import annotations

import torch

from trainscope.jobs.worker import failure_message


def test_out_of_memory_is_said_plainly() -> None:
    assert failure_message(MemoryError("cannot allocate 8 GiB")).startswith("out of memory: MemoryError")
    assert failure_message(torch.OutOfMemoryError("CUDA out of memory")).startswith("out of memory:")


def test_other_failures_keep_their_last_line() -> None:
    assert failure_message(ValueError("bad input")) == "ValueError: bad input"
