"""The slot executor against a fake backend: the queue, dispatch to ready workers that fit, a worker's
death and its replacement, the hang watchdog and cancels, with no processes (the live API tests run the
local and the Ray backends)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.live import wait_for
from trainscope.jobs.executor import ExecutorReport, JobEnded
from trainscope.jobs.slots import MAX_FAILED_STARTS, Died, Report, SlotExecutor, Worker
from trainscope.jobs.wire import ControlJob, Heartbeat, JobIdle, Ready, RunJob, ToWorker, encode_event
from trainscope.schemas import CancelCommand, PauseCommand, StatusEvent


class FakeBackend:
    """Workers that do only what the test says; even indexes hold a GPU when `gpus` is set."""

    def __init__(self, gpus: bool = False) -> None:
        self.gpus = gpus
        self.spawned: list[Worker] = []
        self.sent: list[tuple[Worker, ToWorker]] = []
        self.killed: list[Worker] = []
        self.reports: dict[Worker, Report] = {}

    def spawn(self, index: int, report: Report) -> Worker:
        worker = Worker(index)
        self.spawned.append(worker)
        self.reports[worker] = report
        return worker

    def fits(self, worker: Worker, job: RunJob) -> bool:
        gpu = self.gpus and worker.index % 2 == 0
        return gpu if job.device == "cuda" else True

    def send(self, worker: Worker, message: ToWorker) -> bool:
        self.sent.append((worker, message))
        return True

    def kill(self, worker: Worker) -> None:
        self.killed.append(worker)
        self.reports[worker](worker, Died("killed by the test"))

    def release(self, worker: Worker) -> None:
        pass

    def stop(self, workers: list[Worker], timeout: float) -> None:
        pass

    def runs(self) -> list[tuple[int, str]]:
        return [(worker.index, message.job_id) for worker, message in self.sent if isinstance(message, RunJob)]


class Harness:
    def __init__(self, count: int = 2, hang_timeout_s: float = 60.0, gpus: bool = False) -> None:
        self.backend = FakeBackend(gpus)
        self.reports: list[ExecutorReport] = []
        self.executor = SlotExecutor(self.backend, count, hang_timeout_s, self.reports.append)

    def say(self, index: int, report: object) -> None:
        worker = self.executor.slots[index]
        self.backend.reports[worker](worker, report)  # type: ignore[arg-type]

    def ended(self) -> list[JobEnded]:
        return [report for report in self.reports if isinstance(report, JobEnded)]


@pytest.fixture
def harness() -> Iterator[Harness]:
    made = Harness()
    made.executor.start()
    yield made
    made.executor.stop()


def job(job_id: str, device: str = "auto") -> RunJob:
    return RunJob(job_id, "{}", None, device)


def test_waiting_jobs_go_to_ready_workers_oldest_first_and_events_pass_through(harness: Harness) -> None:
    for job_id in ("a", "b", "c"):
        harness.executor.submit(job(job_id))
    assert harness.backend.runs() == []  # no worker is ready yet
    harness.say(1, Ready({"cuda": False}))
    harness.say(0, Ready({"cuda": False}))
    assert harness.backend.runs() == [(1, "a"), (0, "b")]
    assert harness.executor.has_cuda() is False
    assert [w["job"] for w in harness.executor.workers()] == ["b", "a"]

    running = encode_event("a", StatusEvent(step=0, status="running", message=""))
    harness.say(1, running)
    harness.say(1, JobIdle("a"))
    assert harness.reports == [running, JobEnded("a")]
    assert harness.backend.runs()[2:] == [(1, "c")]  # the freed worker takes the next


def test_a_dead_workers_job_ends_with_the_cause_and_a_fresh_worker_takes_its_place(harness: Harness) -> None:
    harness.say(0, Ready({}))
    harness.executor.submit(job("a"))
    dead = harness.executor.slots[0]
    harness.say(0, Died("worker process killed by SIGKILL"))
    assert harness.ended() == [JobEnded("a", "worker process killed by SIGKILL")]
    fresh = harness.executor.slots[0]
    assert fresh is not dead and fresh in harness.backend.spawned and not fresh.ready
    harness.executor.submit(job("b"))
    harness.say(0, Ready({}))
    assert harness.backend.runs()[-1] == (0, "b")


def test_workers_that_die_before_they_are_ready_are_replaced_a_few_times_only(harness: Harness) -> None:
    for _ in range(MAX_FAILED_STARTS + 2):
        harness.say(1, Died("worker process exited with code 1"))
    assert len(harness.backend.spawned) == 2 + MAX_FAILED_STARTS


def test_a_silent_worker_is_killed_and_its_job_ended_as_hung() -> None:
    harness = Harness(hang_timeout_s=0.3)
    harness.executor.start()
    try:
        harness.say(0, Ready({}))
        harness.executor.submit(job("a"))
        harness.say(1, Ready({}))
        beating = threading.Event()

        def beat() -> None:  # worker 1 has a job too, and beats: never taken for hung
            while not beating.wait(0.05):
                harness.say(1, Heartbeat())

        harness.executor.submit(job("b"))
        threading.Thread(target=beat, daemon=True).start()
        wait_for(lambda: harness.ended(), 30, "the silent worker's job to end")
        beating.set()
        [ended] = harness.ended()
        assert ended.job_id == "a" and ended.failure == "worker hung: nothing heard for 0.3 s; killed"
        assert [w.index for w in harness.backend.killed] == [0]
    finally:
        harness.executor.stop()


def test_cancel_drops_a_waiting_job_and_asks_a_running_ones_worker(harness: Harness) -> None:
    harness.say(0, Ready({}))
    harness.executor.submit(job("running"))
    harness.executor.submit(job("waiting"))
    assert harness.executor.cancel("waiting") is True
    assert harness.executor.cancel("running") is False
    assert harness.executor.control("running", PauseCommand(action="pause"))
    assert not harness.executor.control("waiting", PauseCommand(action="pause"))  # no worker has it
    commands = [message for _, message in harness.backend.sent if isinstance(message, ControlJob)]
    assert commands == [ControlJob("running", CancelCommand()), ControlJob("running", PauseCommand(action="pause"))]
    harness.say(1, Ready({}))
    assert harness.backend.runs() == [(0, "running")]  # the dropped job never runs


def test_a_job_waits_for_a_worker_that_fits_it_while_later_ones_go_ahead() -> None:
    harness = Harness(count=2, gpus=True)  # worker 0 holds a GPU, worker 1 does not
    harness.executor.start()
    try:
        harness.say(0, Ready({"cuda": True}))
        harness.executor.submit(job("first"))  # auto: any worker
        harness.say(1, Ready({"cuda": False}))
        harness.executor.submit(job("on-gpu", "cuda"))
        harness.executor.submit(job("on-cpu", "cpu"))
        assert harness.backend.runs() == [(0, "first"), (1, "on-cpu")]
        harness.say(0, JobIdle("first"))
        assert harness.backend.runs()[2:] == [(0, "on-gpu")]
        assert harness.executor.has_cuda() is True
    finally:
        harness.executor.stop()


def unit(*job_ids: str) -> RunJob:
    """A lockstep group's runs, handed over as one unit (the first leads)."""
    first, *rest = (job(job_id) for job_id in job_ids)
    return RunJob(first.job_id, first.spec_json, stacked=tuple(rest))


def test_a_lockstep_group_holds_one_worker_until_its_last_run_ends_and_each_run_is_controlled(
    harness: Harness,
) -> None:
    harness.say(0, Ready({}))
    harness.executor.submit(unit("a", "b", "c"))
    harness.executor.submit(job("d"))
    assert harness.backend.runs() == [(0, "a")]  # one message carries the group
    assert harness.executor.control("c", PauseCommand(action="pause"))  # reaches its worker, for its run
    assert harness.backend.sent[-1][1] == ControlJob("c", PauseCommand(action="pause"))
    harness.say(0, JobIdle("a"))
    harness.say(0, JobIdle("b"))
    assert harness.backend.runs() == [(0, "a")]  # c still trains: the worker is not free
    assert not harness.executor.control("a", PauseCommand(action="pause"))  # a has ended
    harness.say(0, JobIdle("c"))
    assert harness.ended() == [JobEnded("a"), JobEnded("b"), JobEnded("c")]
    assert harness.backend.runs() == [(0, "a"), (0, "d")]


def test_a_lockstep_groups_dead_worker_ends_every_run_it_had_left(harness: Harness) -> None:
    harness.say(0, Ready({}))
    harness.executor.submit(unit("a", "b", "c"))
    harness.say(0, JobIdle("b"))
    harness.say(0, Died("worker process killed by SIGKILL"))
    assert harness.ended() == [
        JobEnded("b"),
        JobEnded("a", "worker process killed by SIGKILL"),
        JobEnded("c", "worker process killed by SIGKILL"),
    ]


def test_cancelling_a_waiting_run_of_a_lockstep_group_leaves_the_others_to_run(harness: Harness) -> None:
    harness.executor.submit(unit("a", "b", "c"))
    assert harness.executor.cancel("a") is True  # the first: the next leads
    assert harness.executor.cancel("c") is True
    harness.say(0, Ready({}))
    [sent] = [m for _, m in harness.backend.sent if isinstance(m, RunJob)]
    assert isinstance(sent, RunJob) and sent.job_ids == ("b",)
    harness.executor.submit(unit("x", "y"))
    assert harness.executor.cancel("x") and harness.executor.cancel("y")  # nothing left of it to run
    harness.say(1, Ready({}))
    assert len([m for _, m in harness.backend.sent if isinstance(m, RunJob)]) == 1
