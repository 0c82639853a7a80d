"""Deployment: the compose files are valid alone and together (Debian's docker-compose checks them without
an engine), the Dockerfile pins torch first (CPU unless told a CUDA build), the package carries its data
files, and its plain install is a light client."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.installed import closure, copy_in, declared, fresh_venv, tree_bytes
from tests.live import LiveServer
from trainscope.lessons.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "backend" / "trainscope" / "frontend"


def compose_config(*files: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose files merged as docker-compose reads them (Debian's docker-compose checks them without
    an engine)."""
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.fail("docker-compose is missing: scripts/test installs Debian's package")
    command = [compose, *(arg for name in files for arg in ("-f", str(ROOT / name))), "config"]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_the_compose_files_are_valid_alone_and_together() -> None:
    app = compose_config("docker-compose.yml")["services"]["trainscope"]
    assert app["ports"] in (["127.0.0.1:8000:8000/tcp"], ["127.0.0.1:8000:8000"]) and "deploy" not in app
    with_postgres = compose_config("docker-compose.yml", "docker-compose.postgres.yml")["services"]
    assert with_postgres["trainscope"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in with_postgres["postgres"]["healthcheck"]["test"]
    assert with_postgres["trainscope"]["environment"]["TRAINSCOPE_DATABASE_URL"].startswith("postgresql+psycopg://")
    with_gpu = compose_config("docker-compose.yml", "docker-compose.gpu.yml")["services"]["trainscope"]
    (device,) = with_gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"] and device["driver"] == "nvidia"
    assert with_gpu["build"]["args"]["TORCH_VARIANT"].startswith("cu")
    everything = compose_config("docker-compose.yml", "docker-compose.postgres.yml", "docker-compose.gpu.yml")
    assert set(everything["services"]) == {"trainscope", "postgres"}


def test_the_ray_file_runs_jobs_on_a_head_and_a_worker_node_sharing_a_token_it_never_holds() -> None:
    files = ("docker-compose.yml", "docker-compose.ray.yml")
    with pytest.raises(AssertionError, match="RAY_AUTH_TOKEN"):
        compose_config(*files, env={"RAY_AUTH_TOKEN": ""})  # no token, no cluster
    services = compose_config(*files, env={"RAY_AUTH_TOKEN": "t0ken"})["services"]
    assert set(services) == {"trainscope", "ray-head", "ray-worker"}
    app = services["trainscope"]
    assert app["environment"]["TRAINSCOPE_EXECUTOR"] == "ray"
    assert app["environment"]["TRAINSCOPE_RAY_ADDRESS"] == "ray-head:6379"
    assert app["build"]["args"]["EXTRAS"] == "server,ray"
    assert app["depends_on"]["ray-head"] == {"condition": "service_healthy"}
    shell, flag, script = app["command"]  # the app is a node too: Ray's driver needs a raylet beside it
    assert (shell, flag) == ("sh", "-c") and script.startswith("ray start --address=ray-head:6379 --num-cpus=0")
    for name in ("trainscope", "ray-head", "ray-worker"):
        service = services[name]
        assert service["image"] == "trainscope:ray" and service["environment"]["RAY_AUTH_TOKEN"] == "t0ken"
        assert "ports" not in service or name == "trainscope"  # the cluster is reached inside the network only
        assert service["build"]["args"]["EXTRAS"] == "server,ray"  # built here, never pulled
    assert "--head" in services["ray-head"]["command"] and "--num-cpus=0" in services["ray-head"]["command"]
    assert "--address=ray-head:6379" in services["ray-worker"]["command"]


def test_dockerfile_pins_the_cpu_torch_before_the_app_unless_told_a_cuda_build() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert "ARG TORCH_VARIANT=cpu" in lines
    torch_line = next(i for i, line in enumerate(lines) if "torch==" in line)
    assert lines[torch_line].endswith("--index-url https://download.pytorch.org/whl/${TORCH_VARIANT}")
    app_line = next(i for i, line in enumerate(lines) if 'pip install --no-cache-dir ".[${EXTRAS}]"' in line)
    assert torch_line < app_line and "ARG EXTRAS=server" in lines


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


def test_the_plain_install_is_a_light_client_without_torch_that_drives_a_server(
    wheel: Path, tmp_path: Path, server: LiveServer
) -> None:
    """`pip install trainscope`: only the dependencies the wheel declares (copied in, with what they pull
    in), and the client and CLI work against a live server; serving says what it needs."""
    python, site = fresh_venv(tmp_path / "client", wheel)
    dependencies = closure(declared(wheel))
    assert not {"torch", "numpy", "fastapi", "sqlalchemy"} & set(dependencies)
    copy_in(dependencies, site)
    size_mb = tree_bytes(site) / 2**20
    print(f"client-only install: {size_mb:.1f} MiB in site-packages, {len(dependencies)} dependencies")
    assert size_mb < 40  # torch alone is ~700 MiB
    probe = "import sys, trainscope, trainscope.client, trainscope.cli, importlib.util; print(trainscope.__file__); "
    probe += "print(sorted(m for m in ('torch', 'numpy', 'fastapi', 'sqlalchemy') if m in sys.modules)); "
    probe += "print(importlib.util.find_spec('torch'))"
    imported = subprocess.run([python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    where, heavy, torch = imported.stdout.splitlines()
    assert where.startswith(str(site)) and heavy == "[]" and torch == "None"
    cli = str(python.parent / "trainscope")
    listed = subprocess.run([cli, "--url", server.url, "jobs"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and listed.stdout.split()[:2] == ["id", "status"], listed.stderr
    serving = subprocess.run([cli, "serve"], capture_output=True, text=True, timeout=60)
    assert serving.returncode == 2 and "pip install 'trainscope[server]'" in serving.stderr
