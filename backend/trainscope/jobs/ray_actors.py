"""The Ray executor: the same warm workers, queue and watchdog as the local one (slots.py), each worker a
Ray actor on a cluster (`TRAINSCOPE_RAY_ADDRESS`, or one started here when unset). An actor runs the
worker loop (worker.py) on a thread of its own between two queues; the server streams what it sends
through a generator method, in order, and feeds it through another. Ray is an optional extra
(`pip install 'trainscope[ray]'`); the cluster's nodes need trainscope installed, as the server has.

Each actor asks Ray for one CPU (`settings.workers` of them) or, for jobs on CUDA, one GPU
(`settings.ray_gpu_workers` more): a job goes to an actor that holds what its spec's device needs."""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from trainscope.config import Settings
from trainscope.jobs.executor import OnReport
from trainscope.jobs.slots import Died, Report, SlotExecutor, Worker, worker_config
from trainscope.jobs.wire import RunJob, StopWorker, ToWorker, WorkerConfig
from trainscope.jobs.worker import worker_main

log = logging.getLogger(__name__)

_END = object()  # the worker loop has returned: the report stream ends


class InOrder:
    """An actor's inbox: messages numbered by the server, handed to the worker loop in that order
    (a threaded actor may run two calls of `send` out of order)."""

    def __init__(self) -> None:
        self._ready: deque[Any] = deque()
        self._early: dict[int, Any] = {}
        self._next = 0
        self._arrived = threading.Condition()

    def put(self, seq: int, message: Any) -> None:
        with self._arrived:
            self._early[seq] = message
            while self._next in self._early:
                self._ready.append(self._early.pop(self._next))
                self._next += 1
            self._arrived.notify_all()

    def poll(self, timeout: float | None = 0.0) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: bool(self._ready), timeout)

    def recv(self) -> Any:
        with self._arrived:
            self._arrived.wait_for(lambda: bool(self._ready))
            return self._ready.popleft()


class StreamOut:
    """An actor's outbox: what the worker loop sends, drained by the server's `reports` stream."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()

    def send(self, message: Any) -> None:
        self.queue.put(message)


class ActorWorker:
    """The body of a worker actor (made a Ray actor class by `ray.remote` when the executor starts)."""

    def __init__(self, config: WorkerConfig) -> None:
        self.inbox = InOrder()
        self.outbox = StreamOut()
        threading.Thread(target=self._run, args=(config,), daemon=True, name="worker-loop").start()

    def _run(self, config: WorkerConfig) -> None:
        try:
            worker_main(self.inbox, self.outbox, config)
        finally:
            self.outbox.send(_END)

    def send(self, seq: int, message: ToWorker) -> None:
        self.inbox.put(seq, message)

    def reports(self) -> Iterator[Any]:
        """Everything the worker loop sends, until it returns."""
        while (message := self.outbox.queue.get()) is not _END:
            yield message


@dataclass(eq=False)
class ActorHandle(Worker):
    actor: Any = None
    gpu: bool = False
    sent: int = 0  # messages numbered so far
    lock: threading.Lock | None = None
    reader: threading.Thread | None = None


class RayActors:
    """Starts, feeds and kills worker actors; a thread per actor reads its report stream."""

    def __init__(self, config: WorkerConfig, address: str | None, cpu_workers: int, max_ranks: int = 1) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray reports usage to its makers otherwise
        # Ray's C++ failure handler dumps a stack for every SIGTERM and makes the server's clean exit abort
        os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
        # a call after the shutdown (a stream still being read) must fail, not join whatever cluster it finds
        os.environ.setdefault("RAY_ENABLE_AUTO_CONNECT", "0")
        if address is None:  # a cluster of this one machine: Ray then listens on 127.0.0.1 only (read on import)
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError:
            raise RuntimeError("TRAINSCOPE_EXECUTOR=ray needs Ray: pip install 'trainscope[ray]'") from None
        self.ray = ray
        self.config = config
        self.address = address
        self.cpu_workers = cpu_workers  # the first indexes hold a CPU each, the rest a GPU
        # a cluster started here counts CPUs for every worker's largest data-parallel job, as the local
        # executor lets each of its workers spawn that many ranks (logical CPUs: Ray's places, not cores)
        self.cluster_cpus = cpu_workers * max_ranks
        self.started_here = False
        self.actor_class: Any = None

    def connect(self) -> None:
        """Join the cluster (or start one on this machine, on loopback only) once."""
        ray = self.ray
        if not ray.is_initialized():
            if self.address is None:  # address "local": a new cluster, never one found lying about in /tmp
                ray.init(address="local", num_cpus=self.cluster_cpus, include_dashboard=False, log_to_driver=False)
                self.started_here = True
            else:
                ray.init(address=self.address, log_to_driver=False)
        self.actor_class = ray.remote(max_concurrency=4)(ActorWorker)

    def spawn(self, index: int, report: Report) -> Worker:
        if self.actor_class is None:
            self.connect()
        gpu = index >= self.cpu_workers
        actor = self.actor_class.options(num_cpus=0 if gpu else 1, num_gpus=1 if gpu else 0).remote(self.config)
        handle = ActorHandle(index, actor=actor, gpu=gpu, lock=threading.Lock())
        handle.reader = threading.Thread(target=self._read, args=(handle, report), name=f"actor-reader-{index}")
        handle.reader.daemon = True
        handle.reader.start()
        return handle

    def _read(self, handle: ActorHandle, report: Report) -> None:
        cause = "worker actor stopped"
        try:
            for ref in handle.actor.reports.remote():
                report(handle, self.ray.get(ref))
        except Exception as error:  # the actor, its process or its node died
            cause = f"Ray actor died: {str(error).strip().splitlines()[0]}"
        report(handle, Died(cause))

    def fits(self, worker: Worker, job: RunJob) -> bool:
        assert isinstance(worker, ActorHandle)
        return worker.gpu if job.device == "cuda" else job.device == "auto" or not worker.gpu

    def send(self, worker: Worker, message: ToWorker) -> bool:
        assert isinstance(worker, ActorHandle) and worker.lock is not None
        with worker.lock:  # numbered in the order sent
            worker.actor.send.remote(worker.sent, message)
            worker.sent += 1
        return True  # a dead actor's death is reported by its stream

    def kill(self, worker: Worker) -> None:
        assert isinstance(worker, ActorHandle)
        self.ray.kill(worker.actor, no_restart=True)

    def release(self, worker: Worker) -> None:
        pass  # Ray frees a dead actor's resources

    def stop(self, workers: list[Worker], timeout: float) -> None:
        for worker in workers:
            self.send(worker, StopWorker())
        handles = [worker for worker in workers if isinstance(worker, ActorHandle) and worker.reader is not None]
        for worker in handles:  # each says how its job ended, then its stream ends
            worker.reader.join(timeout)  # type: ignore[union-attr]
        for worker in handles:
            self.kill(worker)
        for worker in handles:  # a stream read after the shutdown would start Ray again
            worker.reader.join(timeout)  # type: ignore[union-attr]
        if self.started_here:
            self.ray.shutdown()


def ray_executor(settings: Settings, on_report: OnReport) -> SlotExecutor:
    backend = RayActors(worker_config(settings), settings.ray_address, settings.workers, settings.limits.max_world_size)
    count = settings.workers + settings.ray_gpu_workers
    return SlotExecutor(backend, count, settings.hang_timeout_s, on_report)


# ---- a data-parallel job's ranks as actors ---------------------------------------------------------

PLACEMENT_TIMEOUT_S = 60.0  # how long a job waits for the cluster to hold its ranks; then it fails, saying so
STOP_GRACE_S = 10.0  # how long ranks get to leave the process group once the job has ended


def node_address() -> str:
    """This node's address in its Ray cluster (127.0.0.1 in a one-machine one): where rank 0 listens."""
    import ray

    address: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
    return address


class RankActor:
    """A rank after the first, as an actor (made one by `ray.remote` where it is placed), warm once made."""

    def __init__(self) -> None:
        import torch  # noqa: F401  (what a rank pays before it can join: ~2 s; paid before `started`)

        import trainscope.training.driver  # noqa: F401

    def pid(self) -> int:
        return os.getpid()

    def run(self, info: Any, spec_json: str, rows: Any, config: WorkerConfig) -> None:
        from trainscope.jobs.ranks import rank_main

        rank_main(info, spec_json, rows, config)


class RayRanks:
    """Ranks 1..N-1 of a job whose rank 0 is a worker actor: one actor each, placed together by a placement
    group (one CPU, or one GPU, per bundle), started on entry and killed, with their group, on exit."""

    def __init__(self, infos: list[Any], spec_json: str, rows: Any, config: WorkerConfig, gpus: bool) -> None:
        import ray

        self.ray, self.infos, self.spec_json, self.rows, self.config = ray, infos, spec_json, rows, config
        self.bundle = {"CPU": 1.0, **({"GPU": 1.0} if gpus else {})}
        self.actors: list[Any] = []
        self.runs: list[Any] = []
        self.pids: list[int] = []

    def __enter__(self) -> RayRanks:
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        ray = self.ray
        self.group = placement_group([self.bundle] * len(self.infos), strategy="PACK")
        try:
            ray.get(self.group.ready(), timeout=PLACEMENT_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            self.__exit__(RuntimeError)
            wanted = f"{len(self.infos)} x {self.bundle}"
            raise RuntimeError(
                f"the Ray cluster did not hold this job's other ranks ({wanted}) within {PLACEMENT_TIMEOUT_S:g} s"
            ) from None
        rank_class = ray.remote(RankActor)
        for index in range(len(self.infos)):
            placed = PlacementGroupSchedulingStrategy(self.group, placement_group_bundle_index=index)
            options = {"num_cpus": self.bundle["CPU"], "num_gpus": self.bundle.get("GPU", 0)}
            self.actors.append(rank_class.options(scheduling_strategy=placed, **options).remote())
        self.pids = ray.get([actor.pid.remote() for actor in self.actors])
        self.runs = [
            actor.run.remote(info, self.spec_json, self.rows, self.config)
            for actor, info in zip(self.actors, self.infos, strict=True)
        ]
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        from ray.util.placement_group import remove_placement_group

        if kind is None and self.runs:
            self.ray.wait(self.runs, num_returns=len(self.runs), timeout=STOP_GRACE_S)
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        remove_placement_group(self.group)

    def started(self) -> bool:
        """Every rank is warm once its actor answered (on entry)."""
        return True

    def wait_for_a_death(self, timeout: float = 2.0) -> None:
        """After a collective broke: give a rank that is dying the moment to be seen dead."""
        self.ray.wait(self.runs, num_returns=1, timeout=timeout)

    def dead(self) -> str:
        """Which rank died and how, or "": an actor that died before one that raised (as the others do
        once a rank is gone)."""
        finished, _ = self.ray.wait(self.runs, num_returns=len(self.runs), timeout=0)
        failures: list[tuple[bool, int, str]] = []
        for rank, run in enumerate(self.runs, 1):
            if run in finished:
                try:
                    self.ray.get(run)
                except Exception as error:  # its actor, process or node died, or the rank raised
                    died = isinstance(error, self.ray.exceptions.RayActorError)
                    failures.append((not died, rank, str(error).strip().splitlines()[0]))
        if not failures:
            return ""
        _, rank, first = min(failures)
        return f"rank {rank} of the job's data-parallel ranks failed on Ray: {first}"
