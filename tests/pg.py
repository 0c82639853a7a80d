"""A throwaway PostgreSQL server for the tests: Debian's server binaries (scripts/test installs the
`postgresql` package when missing), a data folder in a temp directory, a free loopback port, trust
authentication, no fsync; stopped and deleted at the end. As root, it runs as the `postgres` user
(PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from tests.live import free_port


def server_binaries() -> Path | None:
    """The folder of pg_ctl and initdb, or None where PostgreSQL is not installed."""
    found = shutil.which("pg_ctl") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))), None)
    return Path(found).resolve().parent if found else None


class PostgresServer:
    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder, self.bin, self.port = folder, binaries, free_port()
        self.data = folder / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.created = 0

    def run(self, program: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / program), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> PostgresServer:
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "trainscope", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://trainscope@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a fresh, empty database on this server."""
        from sqlalchemy import create_engine, text

        self.created += 1
        name = f"test_{self.created}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
