"""A real `trainscope serve` process on a free loopback port, and clients for it."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll until condition() is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def children_of(pid: int) -> list[int]:
    """The processes whose parent is pid (Linux: read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while being read
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def listening_hosts(pids: list[int]) -> set[str]:
    """The addresses these processes' TCP sockets listen on (Linux: /proc), e.g. {"127.0.0.1", "::"}."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:  # ended, or a link that went while being read
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    hosts = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                raw = bytes.fromhex(fields[1].split(":")[0][:width])
                # the kernel writes each 32-bit word in host (little-endian) order
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                address = ipaddress.ip_address(words)
                mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
                hosts.add(str(mapped or address))  # an IPv4 address as an IPv6 socket sees it: the IPv4 one
    return hosts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    database: Path
    workers: int = 2
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    log_dir: Path | None = None  # where the log goes (default: beside the database)
    program: list[str] = field(default_factory=lambda: [sys.executable, "-m", "trainscope.cli"])  # an installed one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> LiveServer:
        self.port = free_port()
        self.log_path = (self.log_dir or self.database.parent) / f"{self.database.stem}.{self.port}.log"
        # a SQLite file by default; env may name another database (PostgreSQL)
        env = {**os.environ, "TRAINSCOPE_DATABASE_URL": f"sqlite:///{self.database}", **self.env}
        command = [*self.program, "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(self._all_ready, timeout, f"{self.workers} warm workers (log: {self.log_path})", interval=0.2)
        except BaseException:  # a server that never got ready is not left behind (its workers then read EOF)
            self.process.kill()
            self.process.wait(30)
            raise
        return self

    def _all_ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}: {self.log()}")
        try:
            return bool(self.health()["ready_workers"] == self.workers)
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """End the server (SIGTERM: graceful; SIGKILL: as a crash) and wait for its workers to go."""
        if self.process is None or self.process.poll() is not None:
            return
        worker_pids = [w["pid"] for w in self._health_or_empty().get("workers", [])]
        children = children_of(self.process.pid)  # workers, process pools, their resource tracker
        self.process.send_signal(sig)
        self.process.wait(timeout)
        wait_for(lambda: not any(pid_alive(pid) for pid in worker_pids), timeout, "the workers to exit")
        # a stop, graceful or a crash, leaves no process of the server's behind
        wait_for(lambda: not any(pid_alive(pid) for pid in children), timeout, f"children {children} to exit")

    def _health_or_empty(self) -> dict[str, Any]:
        try:
            return self.health()
        except httpx.HTTPError:
            return {}

    # ---- REST ----
    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=10)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=10)

    def delete(self, path: str) -> httpx.Response:
        return httpx.delete(self.url + path, timeout=10)

    def health(self) -> dict[str, Any]:
        response = httpx.get(self.url + "/api/health", timeout=5)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        response = self.post("/api/jobs", spec)
        assert response.status_code == 201, response.text
        job: dict[str, Any] = response.json()
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def wait_status(self, job_id: str, statuses: set[str], timeout: float = 180) -> dict[str, Any]:
        return wait_for(
            lambda: (job := self.job(job_id))["status"] in statuses and job, timeout, f"job {job_id} in {statuses}"
        )

    def group(self, group_id: str) -> dict[str, Any]:
        response = self.get(f"/api/groups/{group_id}")
        assert response.status_code == 200, response.text
        group: dict[str, Any] = response.json()
        return group

    def wait_group(self, group_id: str, timeout: float = 120) -> dict[str, Any]:
        """The group once every run has ended (and, for a lesson, its verdict is in)."""

        def finished() -> dict[str, Any] | None:
            group = self.group(group_id)
            return group if group["finished"] else None

        return wait_for(finished, timeout, f"group {group_id} to finish", interval=0.2)

    def stored_events(self, job_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            after = events[-1]["seq"] if events else 0
            page = self.get(f"/api/jobs/{job_id}/events", after=after, limit=1000).json()["events"]
            if not page:
                return events
            events.extend(page)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our child, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@dataclass
class Viewer:
    """A websocket viewer that records every event and how the server closed the socket."""

    events: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    messages: int = 0


def watch(
    ws_url: str,
    job_id: str,
    after: int = 0,
    timeout: float = 60,
    viewer: Viewer | None = None,
    history: str = "full",
) -> Viewer:
    """Follow a job until the server closes the socket (or `timeout` passes, which fails)."""
    viewer = viewer or Viewer()
    deadline = time.monotonic() + timeout
    with connect(f"{ws_url}/ws/jobs/{job_id}?after={after}&history={history}", open_timeout=10) as ws:
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"viewer of {job_id} still open after {timeout} s")
                message = ws.recv(timeout=remaining)
                viewer.messages += 1
                viewer.events.extend(json.loads(message))
        except ConnectionClosed:
            pass
        assert ws.close_code is not None
        viewer.close_code, viewer.close_reason = ws.close_code, ws.close_reason or ""
    return viewer


def assert_gap_free(events: list[dict[str, Any]], first: int = 1) -> None:
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(first, first + len(seqs))), f"seqs not gap-free from {first}: {seqs[:20]}..."
