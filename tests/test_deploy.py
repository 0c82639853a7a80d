"""Deployment: docker-compose.yml is valid (Debian's docker-compose checks it without an engine), the
Dockerfile pins CPU torch first, and the package it installs carries its data files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from trainscope.lessons.catalog import load_catalog

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


def test_the_built_package_ships_the_lesson_catalogue_and_the_migrations(tmp_path: Path) -> None:
    """The Docker image installs the package non-editably: data files must be in the wheel. Built from a
    copy of what the Dockerfile copies, so no build/ cache of an earlier build can hide a missing file."""
    source = tmp_path / "source"
    shutil.copytree(ROOT / "backend", source / "backend", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "-q", str(source), "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("trainscope-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    shipped = {Path(name).stem for name in names if "/lessons/catalog/" in name}
    assert shipped == set(load_catalog())
    migrations = {Path(name).name for name in names if "/store/migrations/" in name}
    assert {"env.py", "0001_first_schema.py", "0002_groups_and_job_columns.py"} <= migrations  # Alembic's
