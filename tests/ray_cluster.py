"""A throwaway Ray cluster on loopback for the tests that run jobs on the Ray executor: one head node
started by `ray start --block` (the one process we own: SIGTERM to it stops every process it started),
with token authentication, and no usage reports sent anywhere."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.live import free_port, wait_for


def ray_environment(token: str) -> dict[str, str]:
    """What the head, and every server that joins it, need in their environment."""
    return {
        "RAY_USAGE_STATS_ENABLED": "0",
        # Ray takes this machine's outward address for its nodes unless told it is a one-machine cluster:
        # then every process of it listens and connects on 127.0.0.1 only
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
    }


@dataclass
class RayCluster:
    folder: Path
    cpus: int = 8  # logical: how many one-CPU actors it places at once, not cores
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(32))
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return ray_environment(self.token)

    def start(self, timeout: float = 120) -> RayCluster:
        self.port = free_port()
        ray = Path(sys.executable).with_name("ray")
        command = [str(ray), "start", "--head", "--block", f"--port={self.port}", f"--num-cpus={self.cpus}"]
        command += ["--num-gpus=0", "--include-dashboard=false", "--disable-usage-stats"]
        self.log = open(self.folder / "ray-head.log", "wb")  # noqa: SIM115 (the head writes to it while it runs)
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._listening, timeout, f"the Ray head on {self.address} (log: {self.folder / 'ray-head.log'})")
        return self

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"ray start exited with {self.process.returncode}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self, timeout: float = 60) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.log is not None:
            self.log.close()
