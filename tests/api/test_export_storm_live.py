"""45 TensorBoard exports of a long job, each abandoned by its client after a second, against a server
with one export turn and two waiting: the page's health check answers throughout, the rest are
refused with Retry-After, the abandoned ones stop, and nothing is left in the temp folder."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer, wait_for
from tests.stored import store_long_job

STORM = 45
ABANDON_AFTER_S = 1.0


@pytest.fixture
def stored_server(tmp_path: Path) -> Iterator[LiveServer]:
    database = tmp_path / "storm.db"
    store_long_job(database, megabytes=6, job_id="long")  # ~10 s of TensorBoard export here, whole
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {"TRAINSCOPE_EXPORT_SLOTS": "1", "TRAINSCOPE_EXPORT_QUEUE": "2", "TMPDIR": str(temp)}
    live = LiveServer(database, workers=1, env=env).start()
    yield live
    live.stop(signal.SIGKILL)


def abandoned_export(port: int, statuses: list[str]) -> None:
    """Ask for the export, read what comes for a second, then hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET /api/jobs/long/export?format=tensorboard HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        )
        sock.settimeout(ABANDON_AFTER_S)
        received = b""
        deadline = time.monotonic() + ABANDON_AFTER_S
        try:
            while time.monotonic() < deadline and (data := sock.recv(65536)):
                received += data
        except TimeoutError:
            pass
    statuses.append(received.split(b"\r\n\r\n", 1)[0].decode(errors="replace"))  # status line and headers


def export_processes(parent: int) -> list[int]:
    """The server's children that make exports."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if ppid == parent and b"export_process" in command:
            found.append(int(stat.parent.name))
    return found


def test_abandoned_exports_never_starve_health_stop_when_left_and_leave_no_temp_folder(
    stored_server: LiveServer, tmp_path: Path
) -> None:
    server = stored_server
    health_seconds: list[float] = []
    storm_over = threading.Event()

    def check_health() -> None:
        with httpx.Client(timeout=10) as client:
            while not storm_over.is_set():
                started = time.monotonic()
                assert client.get(f"{server.url}/api/health").status_code == 200
                health_seconds.append(time.monotonic() - started)
                time.sleep(0.05)

    prober = threading.Thread(target=check_health)
    prober.start()
    statuses: list[str] = []
    storm = [threading.Thread(target=abandoned_export, args=(server.port, statuses)) for _ in range(STORM)]
    for thread in storm:
        thread.start()
    for thread in storm:
        thread.join(30)
    # the abandoned ones stop: every turn is free again long before 45 whole exports could have run,
    # and no export process is left
    wait_for(lambda: server.health()["exports"] == 0, 60, "the abandoned exports to stop")
    assert server.process is not None
    wait_for(lambda: not export_processes(server.process.pid), 30, "the export processes to end")
    storm_over.set()
    prober.join(30)

    assert len(statuses) == STORM
    refused = [status for status in statuses if status.startswith("HTTP/1.1 503 ")]
    assert any(status.startswith("HTTP/1.1 200 ") for status in statuses) and refused, statuses
    assert all("retry-after: 10" in status.lower() for status in refused)
    assert max(health_seconds) < 1.0, f"health took {max(health_seconds):.2f} s during the storm"
    assert len(health_seconds) > 10
    left = [path.name for path in (tmp_path / "temp").iterdir() if not path.name.startswith("torchinductor")]
    assert not left  # no archive was built on disk, none left behind (the workers' torch keeps its cache)
    busy = httpx.get(f"{server.url}/api/jobs/long/export", params={"format": "csv"}, timeout=60)
    assert busy.status_code == 200 and busy.text.startswith("run,tag,step")  # the turns were given back
