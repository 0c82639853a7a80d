"""A worker's loop: warm up once, then run the jobs it is sent, one at a time.

Imports training/, the spec models and what crosses a process boundary (jobs/wire.py), never the web
layer nor the store. It takes RunJob, ControlJob and StopWorker from its inbox and sends Ready, JobEvent,
Heartbeat and JobIdle to its outbox: a pair of pipes in a local worker process, a pair of queues in a
Ray actor. A thread of its own beats every `heartbeat_s`, whatever the training loop is doing: the
server judges a worker hung by that, so a job that spends a while without events (building MNIST-1D
takes ~2.7 s, much longer on a loaded machine) or a worker starved by load is never taken for hung.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from trainscope.jobs.wire import (
    ControlJob,
    Heartbeat,
    JobEvent,
    JobIdle,
    Ready,
    RunJob,
    StopWorker,
    WorkerConfig,
    encode_event,
)
from trainscope.schemas import CancelCommand, Command, EventBase, JobStatus, StatusEvent

log = logging.getLogger(__name__)


def warm_up(torch_threads: int, cuda_index: int | None = None) -> dict[str, Any]:
    """Import torch and the datasets, bind the worker's CUDA device, and build one optimizer: the first
    torch.optim constructor lazily imports torch._dynamo (~1.3 s here), a cost no job should pay."""
    import torch
    from threadpoolctl import threadpool_limits

    import trainscope.training.datasets  # noqa: F401  (scikit-learn's import, ~1.2 s)
    from trainscope.training.devices import bind_cuda
    from trainscope.training.driver import fit  # noqa: F401

    torch.set_num_threads(torch_threads)
    # the tiny path's matrix products are NumPy's (training/tiny.py): its BLAS gets the same threads, not
    # one per core beside every other worker's
    threadpool_limits(torch_threads, user_api="blas")
    if cuda_index is not None:
        bind_cuda(cuda_index)
    layer = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(layer.parameters(), fused=True)  # the kernel make_optimizer's steps use
    layer(torch.zeros(1, 2)).sum().backward()
    optimizer.step()
    cuda = torch.cuda.is_available()
    return {
        "pid": os.getpid(),
        "torch": torch.__version__,
        "cuda": cuda,
        "device_name": torch.cuda.get_device_name() if cuda else "cpu",
        "cuda_index": torch.cuda.current_device() if cuda else None,
    }


class _ServerStopping(Exception):
    pass


class Inbox(Protocol):
    """Where a worker's messages come from (a multiprocessing Connection is one)."""

    def poll(self, timeout: float | None = 0.0) -> bool: ...

    def recv(self) -> Any: ...


class Sink(Protocol):
    def send(self, obj: Any) -> None: ...


class Outbox:
    """The events channel, shared by the training loop and the heartbeat thread: one send at a time (a
    Connection's send is not thread-safe; interleaved writes would corrupt both messages)."""

    def __init__(self, events: Sink) -> None:
        self.events = events
        self.lock = threading.Lock()

    def send(self, message: object) -> None:
        with self.lock:
            self.events.send(message)


def beat(outbox: Outbox, every_s: float) -> None:
    """Say this process is alive every `every_s`, until the server has gone."""
    try:
        while True:
            outbox.send(Heartbeat())
            time.sleep(every_s)
    except (OSError, EOFError):
        return


class SharedInbox:
    """The worker's inbox while it runs jobs: each job's commands (one job's, or a lockstep group's runs'),
    kept for it until its trainer asks."""

    def __init__(self, tasks: Inbox, job_ids: list[str]) -> None:
        self.tasks = tasks
        self.held: dict[str, list[Command]] = {job_id: [] for job_id in job_ids}

    def read(self, wait: float) -> None:
        ready = self.tasks.poll(wait)
        while ready:
            message = self.tasks.recv()
            if isinstance(message, StopWorker):
                raise _ServerStopping
            if isinstance(message, ControlJob) and message.job_id in self.held:
                self.held[message.job_id].append(message.command)
            ready = self.tasks.poll()

    def control(self, job_id: str) -> InboxControl:
        return InboxControl(self, job_id)


class InboxControl:
    """The trainer's Control: the commands for its job from the worker's inbox."""

    def __init__(self, inbox: SharedInbox, job_id: str) -> None:
        self.inbox, self.job_id = inbox, job_id

    def poll(self, wait: float) -> list[Command]:
        inbox, held = self.inbox, self.inbox.held
        inbox.read(0)
        if wait and not held[self.job_id]:  # another job's command may end the wait early: callers poll again
            inbox.read(wait)
        commands, held[self.job_id] = held[self.job_id], []
        return commands


def failure_message(error: BaseException) -> str:
    """One line for the job's status; out-of-memory says so plainly and frees what the cache holds."""
    last = traceback.format_exception_only(error)[-1].strip()
    # CUDA raises OutOfMemoryError; torch's CPU allocator a RuntimeError that says so
    cpu_allocator = isinstance(error, RuntimeError) and "can't allocate memory" in str(error)
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError" or cpu_allocator:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # so the next job on this worker starts with the memory back
        return f"out of memory: {last[:300]}"
    return last


def encoding_emit(job_id: str, send: Callable[[JobEvent], None]) -> Callable[[EventBase], None]:
    """An emit that encodes each event where it is made, once (the events are the models of
    schemas/events.py, checked as they were built); the server's pump only numbers the text."""

    def emit(event: EventBase) -> None:
        try:
            message = encode_event(job_id, event)
        except ValueError:  # a figure that came out non-finite: the event is left out, the run goes on
            log.warning("job %s: dropped a %s event with a non-finite number", job_id, getattr(event, "type", "?"))
            return
        send(message)

    return emit


def run_job(
    message: RunJob, config: WorkerConfig, tasks: Inbox, events: Outbox, policy: Any, inbox: SharedInbox | None = None
) -> None:
    from trainscope.schemas import JobSpec

    if message.stacked and inbox is None:
        run_stacked(message, config, tasks, events, policy)
        return
    job_id = message.job_id
    emit = encoding_emit(job_id, events.send)
    try:
        control = (inbox or SharedInbox(tasks, [job_id])).control(job_id)
        result = train(
            server_device(JobSpec.model_validate_json(message.spec_json), config),
            message,
            config,
            emit,
            control,
            policy,
        )
        emit(
            StatusEvent(
                step=result.step, status=JobStatus(result.status), message=result.message, detail=result.summary
            )
        )
    except _ServerStopping:
        emit(StatusEvent(step=0, status=JobStatus.failed, message="the server stopped during the run"))
        raise
    except Exception as error:  # a job's failure must never take the worker down
        emit(StatusEvent(step=0, status=JobStatus.failed, message=failure_message(error)))
    finally:
        events.send(JobIdle(job_id))


def with_rows(spec: Any, message: RunJob) -> Any:
    """The spec with the rows of the uploaded table it names (a worker has no store: they come with the job)."""
    from trainscope.schemas import UploadedData

    if isinstance(spec.data, UploadedData) and message.rows is not None:
        return spec.model_copy(update={"data": spec.data.with_rows(message.rows)})
    return spec


def server_device(spec: Any, config: WorkerConfig) -> Any:
    """The spec with the server's device policy applied: it decides where "auto" runs (left to itself, on
    the CPU for a net small enough for the tiny path, else on CUDA where there is one)."""
    if spec.device != "auto":
        return spec
    if config.device != "auto":
        return spec.model_copy(update={"device": config.device})
    import torch

    from trainscope.training.stacking import auto_device

    return spec.model_copy(update={"device": auto_device(spec, torch.cuda.is_available())})


def run_stacked(message: RunJob, config: WorkerConfig, tasks: Inbox, events: Outbox, policy: Any) -> None:
    """A lockstep group's runs trained as one stacked model (training/lockstep.py), each with its own
    events, commands and final status; one after another should this worker's device not stack them."""
    from trainscope.schemas import JobSpec
    from trainscope.training.devices import resolve_device
    from trainscope.training.lockstep import fit_stacked
    from trainscope.training.stacking import stack_reason

    members = [replace(message, stacked=()), *message.stacked]
    job_ids = [member.job_id for member in members]
    inbox = SharedInbox(tasks, job_ids)
    emits = [encoding_emit(job_id, events.send) for job_id in job_ids]
    alone, ended = False, set[str]()

    def end(run: int, result: Any) -> None:
        """A run's final status and its end, as soon as it ends: the others may train on."""
        status = JobStatus(result.status)
        emits[run](StatusEvent(step=result.step, status=status, message=result.message, detail=result.summary))
        ended.add(job_ids[run])
        events.send(JobIdle(job_ids[run]))

    try:
        specs = [server_device(JobSpec.model_validate_json(member.spec_json), config) for member in members]
        device = resolve_device(specs[0].device)
        alone = stack_reason(specs, device.type) is not None
        if not alone:
            said = f"running on {device}, stacked with {len(members) - 1} matched runs as one model"
            for job_id, emit in zip(job_ids, emits, strict=True):
                detail = {
                    "device": str(device),
                    "pid": os.getpid(),
                    "stacked_with": [j for j in job_ids if j != job_id],
                }
                emit(StatusEvent(step=0, status=JobStatus.running, message=said, detail=detail))
            trained = [with_rows(spec, member) for spec, member in zip(specs, members, strict=True)]
            fit_stacked(trained, emits, [inbox.control(job_id) for job_id in job_ids], policy, end)
    except _ServerStopping:
        for job_id, emit in zip(job_ids, emits, strict=True):
            if job_id not in ended:
                emit(StatusEvent(step=0, status=JobStatus.failed, message="the server stopped during the run"))
        raise
    except Exception as error:  # a job's failure must never take the worker down
        for job_id, emit in zip(job_ids, emits, strict=True):
            if job_id not in ended:
                emit(StatusEvent(step=0, status=JobStatus.failed, message=failure_message(error)))
    finally:
        if not alone:
            for job_id in job_ids:
                if job_id not in ended:
                    events.send(JobIdle(job_id))
    if alone:  # each run says its own end
        for member in members:
            run_job(member, config, tasks, events, policy, inbox)


def train(spec: Any, message: RunJob, config: WorkerConfig, emit: Any, control: Any, policy: Any) -> Any:
    """The job's run: here, or as rank 0 of `distributed.world_size` ranks with the others spawned for it.
    Says it runs (with its device, and its ranks' processes), then trains."""
    from trainscope.training.devices import resolve_device
    from trainscope.training.driver import fit

    device = resolve_device(spec.device)
    detail: dict[str, Any] = {"device": str(device), "pid": os.getpid()}
    rows_spec = with_rows(spec, message)
    world = spec.distributed.world_size
    if world == 1:
        emit(StatusEvent(step=0, status=JobStatus.running, message=f"running on {device}", detail=detail))
        return fit(rows_spec, emit, control, policy)

    from trainscope.jobs.ranks import OtherRanks, rendezvous
    from trainscope.training.parallel import RankInfo, backend_for

    backend = backend_for(spec.distributed.backend, spec.device, world)
    on_ray = config.ranks == "ray"  # this worker is an actor: the others are actors too, placed by Ray
    if on_ray:
        from trainscope.jobs.ray_actors import RayRanks, node_address
    address = rendezvous(node_address() if on_ray else "127.0.0.1")
    infos = [RankInfo(rank, world, address, backend) for rank in range(world)]
    others: Any
    if on_ray:
        others = RayRanks(infos[1:], spec.model_dump_json(), message.rows, config, gpus=device.type == "cuda")
    else:
        others = OtherRanks(infos[1:], spec.model_dump_json(), message.rows, config)
    with others:
        detail |= {"ranks": world, "backend": backend, "rank_pids": [os.getpid(), *others.pids]}
        said = f"running on {device} as {world} data-parallel ranks ({backend})"
        emit(StatusEvent(step=0, status=JobStatus.running, message=said, detail=detail))
        try:
            held = wait_for_ranks(others, control)
            if held is None:
                from trainscope.training.control import FitResult

                return FitResult("cancelled", 0, "cancelled while its ranks started")
            return fit(rows_spec, emit, Replaying(held, control), policy, rank=infos[0])
        except Exception as error:
            others.wait_for_a_death()
            if dead := others.dead():  # what broke the collective, rather than how it broke
                raise RuntimeError(dead) from error
            raise


def wait_for_ranks(others: Any, control: InboxControl) -> list[Command] | None:
    """Wait for the other ranks to be warm, listening to the controller meanwhile (a rank dying as it
    starts fails the job at once, not at the process group's join timeout). The commands that came, or
    None when one was to cancel."""
    held: list[Command] = []
    while not others.started():
        if dead := others.dead():
            raise RuntimeError(dead)
        held += control.poll(0.1)
        if any(isinstance(command, CancelCommand) for command in held):
            return None
    return held


class Replaying:
    """A Control that first hands over the commands held while the ranks started."""

    def __init__(self, held: list[Command], control: InboxControl) -> None:
        self.held, self.control = held, control

    def poll(self, wait: float) -> list[Command]:
        if self.held:
            held, self.held = self.held, []
            return held + self.control.poll(0)
        return self.control.poll(wait)


def worker_main(tasks: Inbox, events: Sink, config: WorkerConfig) -> None:
    try:
        if config.nice:
            os.nice(config.nice)
        outbox = Outbox(events)
        outbox.send(Ready(warm_up(config.torch_threads, config.cuda_index)))
        threading.Thread(target=beat, args=(outbox, config.heartbeat_s), daemon=True, name="heartbeat").start()
        from trainscope.training.control import EmitPolicy

        policy = EmitPolicy(config.emit_interval_s, config.emit_max_steps, config.max_job_seconds)
        while True:
            message = tasks.recv()
            if isinstance(message, StopWorker):
                return
            if isinstance(message, RunJob):
                run_job(message, config, tasks, outbox, policy)
            # a control command for a job that already ended is ignored
    except (EOFError, OSError, _ServerStopping, KeyboardInterrupt):
        return  # the server went away or asked us to stop
