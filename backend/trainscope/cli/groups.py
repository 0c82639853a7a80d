"""Verbs on groups of matched runs (a sweep from a grid or variations file) and on lessons."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from trainscope.cli.base import (
    AS_JSON,
    FAILED,
    IDENTIFIER,
    INTERRUPTED,
    client,
    fail,
    figure,
    guarded,
    main,
    parse_setting,
    read_json_object,
    table,
    with_settings,
)
from trainscope.cli.jobs import FORMATS, OUTPUT, SUFFIXES, export_to, written
from trainscope.cli.progress import Line, group_line
from trainscope.schemas.text import shown


@main.group()
def group() -> None:
    """Groups of matched runs: create one from a grid or variations file, list, show, follow, export."""


def show_group(found: Any, as_json: bool) -> None:
    """A group's runs as a table, and a lesson's verdict with its figures."""
    if as_json:
        click.echo(found.model_dump_json())
        return
    title = f"{found.id}  {shown(found.name or found.lesson or '')}".rstrip()
    click.echo(f"{title}  ({'finished' if found.finished else 'running'}; differ in {', '.join(found.differs) or '-'})")
    rows = []
    for run in found.runs:
        job = run.job
        summary = job.summary if job else {}
        status = job.status.value if job else "deleted"
        step = figure(summary.get("step"))
        loss, acc = figure(summary.get("train/loss")), figure(summary.get("val/acc"), "acc")
        rows.append([shown(run.label), run.job_id, status, step, loss, acc])
    table(["run", "job", "status", "step", "train/loss", "val/acc"], rows)
    if (verdict := found.verdict) is not None:
        click.echo(f"verdict: {'held' if verdict.held else 'did not hold'}")
        for tag, item in verdict.figures.items():
            click.echo(f"  {item.en}: {figure(item.value, tag) if item.value is not None else 'never'}")


def outcome(found: Any) -> None:
    """Exit 1 when a run failed or was cancelled, or a lesson's verdict did not hold."""
    ended_badly = any(run.job and run.job.status.value in ("failed", "cancelled") for run in found.runs)
    if ended_badly or (found.lesson and (found.verdict is None or not found.verdict.held)):
        sys.exit(FAILED)


def follow_group_to_end(api: Any, group_id: str, as_json: bool) -> None:
    line = Line()
    try:
        for found in api.follow_group(group_id):
            line.draw(group_line(found), final=found.finished)
    except KeyboardInterrupt:
        line.draw(line.drawn, final=True)
        fail(INTERRUPTED, f"detached; group {group_id} goes on (`trainscope group follow {group_id}`)")
    show_group(found, as_json)
    outcome(found)


@group.command("create")
@click.argument("file", type=click.File("r"), required=False)
@click.option("--set", "settings", multiple=True, metavar="PATH=VALUE", help="change a base setting (repeatable)")
@click.option("--grid", "axes", multiple=True, metavar="PATH=[V,...]", help="one axis of a grid: optim.lr=[0.01,0.1]")
@click.option("--name", help="the group's name")
@click.option("--watch", is_flag=True, help="follow the group until every run has ended")
@AS_JSON
@click.pass_context
@guarded
def create_group(
    ctx: click.Context,
    file: Any,
    settings: tuple[str, ...],
    axes: tuple[str, ...],
    name: str | None,
    watch: bool,
    as_json: bool,
) -> None:
    """Create a group from a JSON file ({"base": SPEC, "grid": {"optim.lr": [...]}} or "variations": [{"label":
    ..., "changes": {...}}]; `-`: standard input) and `--set`/`--grid` changes."""
    body = read_json_object(file, "group")
    body["base"] = with_settings(dict(body.get("base") or {}), settings)
    for path, values in map(parse_setting, axes):
        if not isinstance(values, list) or not values:
            raise click.BadParameter(f"{path}: write a JSON list of values, e.g. [0.01,0.1]", param_hint="--grid")
        body.setdefault("grid", {})[path] = values
    if name is not None:
        body["name"] = name
    with client(ctx) as api:
        found = api.create_group(body["base"], body.get("grid"), body.get("variations"), body.get("name", ""))
        click.echo(f"group {found.id}: {len(found.runs)} runs", err=True)
        if watch:
            follow_group_to_end(api, found.id, as_json)
        else:
            show_group(found, as_json)


@group.command("list")
@click.option("--lesson", help="only this lesson's groups")
@click.option("--limit", type=click.IntRange(1, 200), default=20)
@AS_JSON
@click.pass_context
@guarded
def list_groups(ctx: click.Context, lesson: str | None, limit: int, as_json: bool) -> None:
    """Groups, newest first, with a lesson's verdict."""
    with client(ctx) as api:
        found = api.groups(lesson, limit)
    if as_json:
        click.echo(json.dumps([item.model_dump(mode="json") for item in found]))
        return
    rows = []
    for item in found:
        verdict = "-" if item.verdict is None else ("held" if item.verdict.held else "did not hold")
        state = "finished" if item.finished else "running"
        rows.append([item.id, str(len(item.runs)), state, verdict, shown(item.name or item.lesson or "")])
    table(["id", "runs", "state", "verdict", "name"], rows)


@group.command("show")
@click.argument("group_id", type=IDENTIFIER)
@AS_JSON
@click.pass_context
@guarded
def show(ctx: click.Context, group_id: str, as_json: bool) -> None:
    """A group's runs and, for a lesson, its verdict."""
    with client(ctx) as api:
        show_group(api.group(group_id), as_json)


@group.command("follow")
@click.argument("group_id", type=IDENTIFIER)
@AS_JSON
@click.pass_context
@guarded
def follow(ctx: click.Context, group_id: str, as_json: bool) -> None:
    """Follow a group with a progress line until every run has ended; then its table and verdict."""
    with client(ctx) as api:
        follow_group_to_end(api, group_id, as_json)


@group.command("export")
@click.argument("group_id", type=IDENTIFIER)
@click.option("--format", "form", type=FORMATS, default="csv")
@OUTPUT
@click.pass_context
@guarded
def export(ctx: click.Context, group_id: str, form: str, output: Path | None) -> None:
    """Every run of a group in one file, each named by its label (csv, jsonl or tensorboard)."""
    path = export_to(output, f"trainscope-{group_id}.{SUFFIXES[form]}")
    with client(ctx) as api:
        written(path, api.export_group(group_id, form, path or sys.stdout.buffer))


@main.command()
@AS_JSON
@click.pass_context
@guarded
def lessons(ctx: click.Context, as_json: bool) -> None:
    """The lessons: each one's id and question."""
    with client(ctx) as api:
        found = api.lessons()
    if as_json:
        click.echo(json.dumps(found))
        return
    table(["id", "question"], [[lesson["id"], lesson["question"]["en"]] for lesson in found])


@main.group()
def lesson() -> None:
    """Run a lesson."""


@lesson.command("run")
@click.argument("lesson_id", type=IDENTIFIER)
@click.option("--seed", type=int, help="run it on this seed instead of its preset")
@AS_JSON
@click.pass_context
@guarded
def run_lesson(ctx: click.Context, lesson_id: str, seed: int | None, as_json: bool) -> None:
    """Run a lesson's experiments, follow them and print its verdict (exit 1 if it did not hold)."""
    with client(ctx) as api:
        found = api.run_lesson(lesson_id, {"seed": seed} if seed is not None else {})
        click.echo(f"group {found.id}: {len(found.runs)} runs", err=True)
        follow_group_to_end(api, found.id, as_json)
