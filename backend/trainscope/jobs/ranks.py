"""A data-parallel job's ranks on this machine: the worker that takes the job is rank 0 (it reports and
obeys the controller as for any job); ranks 1..N-1 are processes it spawns for the job alone and ends
with it. A rank that dies breaks the others' next collective, which fails the job saying which rank died;
the rest are then ended, and a rank whose worker is killed dies with it (Linux's parent-death signal)."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from trainscope.jobs.wire import WorkerConfig
from trainscope.schemas import JobSpec, UploadedRows

if TYPE_CHECKING:  # a worker imports torch only once it runs a job
    from trainscope.training.parallel import RankInfo

PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 10.0  # how long ranks get to leave the process group once the job has ended


def exit_words(exitcode: int | None) -> str:
    """How a process ended, in words: "killed by SIGKILL", "exited with code 1"."""
    if exitcode is None:
        return "vanished"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def rendezvous(host: str = "127.0.0.1") -> str:
    """A free port on `host` for rank 0's TCP store (taken again at once: a tiny race)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return f"tcp://{host}:{sock.getsockname()[1]}"


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the worker that spawned it goes (elsewhere: nothing)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def rank_main(
    info: RankInfo, spec_json: str, rows: UploadedRows | None, config: WorkerConfig, warm: Any = None
) -> None:
    """A rank after the first: train its share, silently (rank 0 reports for the run). `warm`, an event
    set once torch is imported, tells rank 0 the rank is about to join."""
    die_with_parent()
    import torch

    from trainscope.schemas import UploadedData
    from trainscope.training.control import EmitPolicy
    from trainscope.training.driver import fit

    if warm is not None:
        warm.set()

    torch.set_num_threads(config.torch_threads)
    spec = JobSpec.model_validate_json(spec_json)
    if isinstance(spec.data, UploadedData) and rows is not None:
        spec = spec.model_copy(update={"data": spec.data.with_rows(rows)})
    fit(spec, lambda event: None, None, EmitPolicy(config.emit_interval_s, config.emit_max_steps), rank=info)


class OtherRanks:
    """Ranks 1..N-1 of a job, spawned on entry and ended on exit, whatever happened."""

    def __init__(self, infos: list[RankInfo], spec_json: str, rows: UploadedRows | None, config: WorkerConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self.warm = [context.Event() for _ in infos]
        self.processes: list[BaseProcess] = [
            context.Process(
                target=rank_main, args=(info, spec_json, rows, config, warm), name=f"trainscope-rank-{i + 1}"
            )
            for i, (info, warm) in enumerate(zip(infos, self.warm, strict=True))
        ]

    def __enter__(self) -> OtherRanks:
        for process in self.processes:
            process.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        for process in self.processes:
            process.join(STOP_GRACE_S if kind is None else 0.5)
            if process.is_alive():
                process.kill()
                process.join(STOP_GRACE_S)

    def started(self) -> bool:
        """Whether every rank is warm (about to join the process group)."""
        return all(event.is_set() for event in self.warm)

    def wait_for_a_death(self, timeout: float = 2.0) -> None:
        """After a collective broke: give a rank that is dying the moment to be seen dead."""
        deadline = time.monotonic() + timeout
        while not self.dead() and all(process.is_alive() for process in self.processes):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.pid is not None]

    def dead(self) -> str:
        """Which rank died and how, or ""."""
        for rank, process in enumerate(self.processes, 1):
            if process.exitcode not in (None, 0):
                return f"rank {rank} of the job's data-parallel ranks {exit_words(process.exitcode)}"
        return ""
