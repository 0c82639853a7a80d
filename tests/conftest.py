"""Shared fixtures: one live server for the API and browser tests (warm workers cost seconds)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.installed import build_wheel
from tests.live import LiveServer
from tests.pg import PostgresServer, server_binaries


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("server") / "trainscope.db", workers=2).start()
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
