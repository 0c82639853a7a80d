"""docker-compose.yml is valid (Debian's docker-compose checks it without an engine)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid() -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.fail("docker-compose is missing: scripts/test installs Debian's package")
    result = subprocess.run([compose, "-f", str(ROOT / "docker-compose.yml"), "config"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "trainscope:" in result.stdout
    assert "127.0.0.1:8000:8000" in result.stdout or "host_ip: 127.0.0.1" in result.stdout


def test_dockerfile_pins_the_cpu_torch_before_the_app() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    torch_line = next(i for i, line in enumerate(lines) if "torch==" in line)
    app_line = next(i for i, line in enumerate(lines) if "pip install --no-cache-dir ." in line)
    assert torch_line < app_line
