"""The Ray executor's parts that need no cluster: an actor's inbox keeps the server's order whatever order
its calls run in, and a server asked for Ray without it installed says how to get it (the live API tests
run jobs on a real Ray cluster)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from trainscope.jobs.ray_actors import ActorHandle, InOrder, RayActors
from trainscope.jobs.wire import RunJob, WorkerConfig

DEVICES = ("cpu", "cuda", "auto")


def test_an_actors_inbox_hands_messages_over_in_the_order_they_were_numbered() -> None:
    inbox = InOrder()
    inbox.put(1, "second")
    assert not inbox.poll(0.01)  # the first has not arrived: nothing may be read yet
    inbox.put(2, "third")
    inbox.put(0, "first")
    assert inbox.poll() and [inbox.recv() for _ in range(3)] == ["first", "second", "third"]
    assert not inbox.poll(0.0)


def test_a_waiting_read_wakes_when_its_message_arrives() -> None:
    inbox = InOrder()
    threading.Timer(0.05, inbox.put, args=(0, "late")).start()
    assert inbox.poll(30.0) and inbox.recv() == "late"


def test_asking_for_ray_without_it_installed_is_a_clear_startup_error() -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if it were not installed
        "from trainscope.config import Settings\n"
        "from trainscope.jobs.executor import make_executor\n"
        "try:\n"
        "    make_executor(Settings(executor='ray'), print)\n"
        "except RuntimeError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "TRAINSCOPE_EXECUTOR=ray needs Ray: pip install 'trainscope[ray]'"


def test_a_job_goes_to_an_actor_holding_what_its_device_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first `workers` actors hold a CPU each, the rest a GPU: a cuda job fits only those, a cpu job
    only the others, an auto job either (placing them asks Ray for nothing until the executor starts)."""
    for name in ("RAY_USAGE_STATS_ENABLED", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"):  # what it sets, put back after
        monkeypatch.setenv(name, "0")
    config = WorkerConfig(device="auto", torch_threads=1, emit_interval_s=0.1, emit_max_steps=200, max_job_seconds=60)
    backend = RayActors(config, address=None, cpu_workers=2)
    cpu, gpu = ActorHandle(1, gpu=False), ActorHandle(2, gpu=True)
    fits = {device: [backend.fits(w, RunJob("j", "{}", None, device)) for w in (cpu, gpu)] for device in DEVICES}
    assert fits == {"cpu": [True, False], "cuda": [False, True], "auto": [True, True]}
