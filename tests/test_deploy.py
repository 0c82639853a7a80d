"""Deployment: docker-compose.yml is valid (Debian's docker-compose checks it without an engine), the
Dockerfile pins CPU torch first, and the package it installs carries its data files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.live import LiveServer
from trainscope.lessons.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "backend" / "trainscope" / "frontend"


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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as the Dockerfile and pip users install it, non-editable. Built from a copy of what the
    Dockerfile copies, so no build/ cache of an earlier build can hide a missing file."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "source"
    shutil.copytree(ROOT / "backend", source / "backend", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "-q", str(source), "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-w", str(tmp_path)], check=True, capture_output=True)
    (built,) = tmp_path.glob("trainscope-*.whl")
    return built


def test_the_built_package_ships_the_lesson_catalogue_the_migrations_and_the_page(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    page = {name.split("/frontend/", 1)[1] for name in names if "/frontend/" in name}
    in_checkout = {str(p.relative_to(FRONTEND)) for p in FRONTEND.rglob("*") if p.is_file()}
    assert page == in_checkout and "index.html" in page
    assert "trainscope/py.typed" in names  # type checkers read the package's own annotations
    shipped = {Path(name).stem for name in names if "/lessons/catalog/" in name}
    assert shipped == set(load_catalog())
    migrations = {Path(name).name for name in names if "/store/migrations/" in name}
    assert {"env.py", "0001_first_schema.py", "0002_groups_and_job_columns.py"} <= migrations  # Alembic's


def test_an_installed_wheel_serves_its_page_and_lessons(wheel: Path, tmp_path: Path) -> None:
    """Installed into a folder of its own (dependencies from this environment), away from the checkout:
    the server it starts must find the page inside the package."""
    target = tmp_path / "installed"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", str(target)]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True)
    env = {"PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import trainscope; print(trainscope.__file__)"],
        env={**os.environ, **env},
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(target))  # the wheel's copy, not the checkout's
    server = LiveServer(tmp_path / "wheel.db", workers=1, env=env).start()
    try:
        for path, marker in (("/", "<script"), ("/lessons.html", "<script"), ("/js/main.js", "import")):
            response = server.get(path)
            assert response.status_code == 200 and marker in response.text, path
        assert server.get("/api/lessons").json()["count"] == len(load_catalog())
    finally:
        server.stop()
