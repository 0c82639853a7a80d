"""The database's disk fills up, for real: a tmpfs of a few MB under a live server. Below the free-space
floor running jobs stop (failed, saying why) and new ones answer 507, while delete and cancel still
work; with no floor and a disk that is truly full, a change is a 503 that says so, and SIGTERM still
stops the server within seconds."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_jobs_live import LONG, QUICK
from tests.live import LiveServer, assert_gap_free, wait_for

HEAVY = {**LONG, "pace": 0, "probes": {"histogram_every": 1, "layers_every": 1, "min_interval_s": 0}}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave_bytes: int) -> Path:
    """A file that takes the disk's free space but `leave_bytes` (all of it: 0)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as file:  # unbuffered: a write that finds no room fails at once
        block = b"\0" * 2**16
        try:
            while disk_free(disk) - len(block) >= leave_bytes:
                file.write(block)
            while leave_bytes == 0:
                file.write(b"\0" * 512)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def disk_free(disk: Path) -> int:
    return shutil.disk_usage(disk).free


def cpu_seconds(pid: int, over: float) -> float:
    """CPU time the process used in the next `over` seconds (a training worker: most of them)."""

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    before = used()
    time.sleep(over)
    return used() - before


def server_on(disk: Path, tmp_path: Path, floor: int) -> LiveServer:
    env = {"TRAINSCOPE_LIMITS__MIN_FREE_DISK_BYTES": str(floor), "TRAINSCOPE_COMMAND_TIMEOUT_S": "2"}
    return LiveServer(disk / "trainscope.db", workers=1, env=env, log_dir=tmp_path).start()  # log: not on it


def test_below_the_floor_jobs_stop_new_ones_wait_and_delete_and_cancel_still_work(
    small_disk: Path, tmp_path: Path
) -> None:
    server = server_on(small_disk, tmp_path, floor=4 * 2**20)
    try:
        ended = server.submit(QUICK)
        server.wait_status(ended["id"], {"done"})
        filler = fill(small_disk, leave_bytes=5 * 2**20)  # a MB above the floor
        heavy = server.submit(HEAVY)
        stopped = server.wait_status(heavy["id"], {"failed"}, timeout=120)
        assert "disk is nearly full" in stopped["message"], stopped["message"]
        assert_gap_free(server.stored_events(heavy["id"]))  # what was stored is whole

        refused = server.post("/api/jobs", QUICK)
        assert refused.status_code == 507 and "disk is nearly full" in refused.json()["detail"]
        assert server.delete(f"/api/jobs/{ended['id']}").status_code == 204  # room was kept to delete
        assert server.delete(f"/api/jobs/{heavy['id']}").status_code == 204
        filler.unlink()
        accepted = wait_for(lambda: (r := server.post("/api/jobs", QUICK)).status_code == 201 and r, 30, "room")
        assert server.wait_status(accepted.json()["id"], {"done", "failed"})["status"] == "done"
    finally:
        server.stop(signal.SIGKILL)


def test_a_truly_full_disk_is_a_503_that_says_so_and_sigterm_still_stops_the_server(
    small_disk: Path, tmp_path: Path
) -> None:
    server = server_on(small_disk, tmp_path, floor=0)
    try:
        running = server.submit(LONG)
        server.wait_status(running["id"], {"running"})
        fill(small_disk, leave_bytes=0)
        refused = server.post("/api/jobs", QUICK)
        assert refused.status_code == 503 and "full" in refused.json()["detail"], refused.text
        assert server.health()["status"] == "ok"
        [worker] = server.health()["workers"]
        wait_for(lambda: cpu_seconds(worker["pid"], over=1.0) < 0.05, 30, "the running job to stop training")
        assert server.health()["workers"][0]["pid"] == worker["pid"]  # stopped, not killed
        assert server.process is not None
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)  # before: it waited on the pump's retries, forever
        assert "stopping without storing what is pending" in server.log()
        assert time.monotonic() - started < 30
    finally:
        server.stop(signal.SIGKILL)
