"""Shared fixtures: one live server for the API and browser tests (warm workers cost seconds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.installed import build_wheel
from tests.live import LiveServer
from tests.pg import PostgresServer, server_binaries
from tests.ray_cluster import RayCluster


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("server") / "trainscope.db", workers=2).start()
    yield live
    live.stop()


Preset = Callable[[str], dict[str, Any]]  # a lesson's id -> its judged preset group


@pytest.fixture(scope="session")
def preset_group(server: LiveServer) -> Preset:
    """A lesson's preset run on the shared server, judged: run once for every test that reads it (the
    lesson's own judgement and its page), each run ~1-9 s on two workers."""
    finished: dict[str, dict[str, Any]] = {}

    def preset(lesson_id: str) -> dict[str, Any]:
        if lesson_id not in finished:
            response = server.post(f"/api/lessons/{lesson_id}/run", {})
            assert response.status_code == 201, response.text
            finished[lesson_id] = server.wait_group(response.json()["id"], timeout=240)
        return finished[lesson_id]

    return preset


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    cluster = RayCluster(tmp_path_factory.mktemp("ray")).start()
    yield cluster
    cluster.stop()


def ray_env(cluster: RayCluster) -> dict[str, str]:
    """A server's environment for running its jobs as actors on the test cluster."""
    return {"TRAINSCOPE_EXECUTOR": "ray", "TRAINSCOPE_RAY_ADDRESS": cluster.address, **cluster.env}


@pytest.fixture(scope="session")
def ray_server(tmp_path_factory: pytest.TempPathFactory, ray_cluster: RayCluster) -> Iterator[LiveServer]:
    """A server like `server` whose two workers are actors on a Ray cluster."""
    live = LiveServer(tmp_path_factory.mktemp("ray-server") / "jobs.db", workers=2, env=ray_env(ray_cluster))
    yield live.start()
    live.stop()


@pytest.fixture(params=["local", "ray"])
def executor(request: pytest.FixtureRequest) -> str:
    """Which executor runs a job-life test's jobs (each such test runs on both)."""
    return str(request.param)


@pytest.fixture
def job_server(executor: str, request: pytest.FixtureRequest) -> LiveServer:
    """The shared server on the executor asked for."""
    server: LiveServer = request.getfixturevalue("server" if executor == "local" else "ray_server")
    return server


EXAMPLE_KIND = Path(__file__).resolve().parents[1] / "examples" / "trainscope-polynomial"


@pytest.fixture(scope="session")
def polynomial_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server beside which pip installed the example kind's own distribution (examples/), as a user would
    install a kind someone published: on the server's path, the package itself untouched."""
    folder = tmp_path_factory.mktemp("example-kind")
    source, site = folder / "source", folder / "site"
    shutil.copytree(EXAMPLE_KIND, source)  # the build's own files stay out of the checkout
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*install, "--target", str(site), str(source)], check=True, capture_output=True)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    live = LiveServer(folder / "jobs.db", workers=1, env={"PYTHONPATH": path}).start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as pip users and the Dockerfile install it, non-editable (tests/installed.py)."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parents[1] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server, started once for the tests that ask for it (in a folder of its own:
    as root it runs as the postgres user, who may not enter pytest's private temp tree)."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's server is not installed (scripts/test installs Debian's postgresql package)")
    folder = Path(tempfile.mkdtemp(prefix="trainscope-pg-"))
    server = PostgresServer(folder, binaries).start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)
