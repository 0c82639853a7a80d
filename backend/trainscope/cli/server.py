"""Verbs that run on the server's machine: serve the app, and upgrade or inspect its database. They need
the server's packages (`pip install 'trainscope[server]'`); without them they say so in one line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from trainscope.cli.base import USAGE, fail, main

SERVER_PACKAGES = ("torch", "fastapi", "uvicorn", "sqlalchemy", "alembic")


def needs_server_packages() -> None:
    """A client-only install has none of the server's packages: one line saying how to get them."""
    import importlib.util

    missing = [name for name in SERVER_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        fail(USAGE, f"this needs the server's packages ({', '.join(missing)}): pip install 'trainscope[server]'")


def settings_from(options: dict[str, Any]) -> Any:
    """The app's Settings from TRAINSCOPE_* variables and the options given; a bad value is bad usage."""
    from pydantic import ValidationError

    from trainscope.config import Settings

    try:
        return Settings(**{key: value for key, value in options.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        raise click.UsageError(problems) from None


DATABASE_URL = click.option("--database-url", help="sqlite:///file.db (default) or a SQLAlchemy URL")


@main.command()
@click.option("--host", help="default: TRAINSCOPE_HOST, else 127.0.0.1")
@click.option("--port", type=click.IntRange(0, 65535), help="default: TRAINSCOPE_PORT, else 8000")
@click.option("--workers", type=click.IntRange(1, 64), help="worker processes (default: TRAINSCOPE_WORKERS, else 2)")
@DATABASE_URL
def serve(**options: Any) -> None:
    """Start the web app (settings also from TRAINSCOPE_* variables) and print its address."""
    needs_server_packages()
    import uvicorn

    from trainscope.app import create_app

    settings = settings_from(options)
    check_database(settings.database_url)
    print(f"Trainscope: http://{settings.host}:{settings.port}/", flush=True)
    # permessage-deflate doubles server CPU for our small messages (measured): off.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws_per_message_deflate=False,
        ws_max_size=settings.limits.max_ws_message_bytes,  # larger client messages are closed with 1009
        log_level="info",
    )


def check_database(url: str) -> None:
    """Open the database once before serving: a bad URL is one line, not the server's traceback."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except (SQLAlchemyError, ImportError, ValueError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise click.BadParameter(f"cannot open {url!r}: {reason}", param_hint="--database-url") from None


@main.group()
def db() -> None:
    """The database's schema, through the app's own settings (Alembic migrations shipped in the package)."""


@contextlib.contextmanager
def opened_store(options: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The database the settings name, checked and opened: (its URL, its store), closed after."""
    needs_server_packages()
    from trainscope.store.sql import SqlStore

    url = settings_from(options).database_url
    check_database(url)
    store = SqlStore(url)
    try:
        yield url, store
    finally:
        store.close()


@db.command()
@DATABASE_URL
def current(**options: Any) -> None:
    """The schema revision the database is at, and the newest this version knows."""
    with opened_store(options) as (url, store):
        at, newest = store.revisions()
    state = "up to date" if at == newest else "needs `trainscope db upgrade`"
    click.echo(f"{url}: at {at or 'no schema'}, newest {newest} ({state})")


@db.command()
@DATABASE_URL
def upgrade(**options: Any) -> None:
    """Create the tables, or bring them to the newest schema in place (the server also does this at start)."""
    with opened_store(options) as (url, store):
        before = store.revisions()[0]
        store.create_schema()
        after = store.revisions()[0]
    click.echo(f"{url}: {before or 'no schema'} -> {after}")
