"""The `trainscope` command: serve the app, and drive a server from a terminal (submit, follow and list
jobs, sweep groups, export, run lessons, upload tables) through trainscope.client. `--json` prints the
exact values scripts read; tables and progress lines are rounded for people."""

from __future__ import annotations

from trainscope.cli import datasets, groups, jobs, server  # noqa: F401 (each registers its verbs on main)
from trainscope.cli.base import main

__all__ = ["main"]
