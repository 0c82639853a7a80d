"""Verbs on jobs: submit (and watch), follow, list as a table of chosen columns, show, cancel, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from trainscope.cli.base import (
    AS_JSON,
    FAILED,
    IDENTIFIER,
    INTERRUPTED,
    REFUSED,
    client,
    fail,
    figure,
    guarded,
    main,
    read_json_object,
    setting,
    table,
    with_settings,
)
from trainscope.cli.progress import JobProgress
from trainscope.schemas.text import shown

STATUSES = ["queued", "running", "paused", "done", "failed", "cancelled", "diverged"]
FORMATS = click.Choice(["csv", "jsonl", "tensorboard"])
SUFFIXES = {"csv": "csv", "jsonl": "jsonl", "tensorboard": "tensorboard.tar.gz"}


def follow_to_end(api: Any, job: Any, cancel_on_exit: bool, as_json: bool) -> None:
    """Follow a job to its end with a progress line, from where it is now; exit with its outcome."""
    if job.status.terminal:
        report(job, as_json)
        return
    values = {**job.summary, "step": job.summary.get("step", 0)}
    progress = JobProgress(job.spec.optim.steps, job.spec.optim.batch_size, values)
    try:
        for event in api.follow(job.id, after=job.last_seq):
            progress.update(event)
    except KeyboardInterrupt:
        progress.finish()
        if cancel_on_exit:
            api.cancel(job.id)
            fail(INTERRUPTED, f"cancelled job {job.id}")
        fail(INTERRUPTED, f"detached; job {job.id} goes on (`trainscope follow {job.id}` re-attaches)")
    progress.finish()
    report(api.job(job.id), as_json)


def report(job: Any, as_json: bool) -> None:
    """A job's outcome on stdout, and the exit code it means."""
    if as_json:
        click.echo(job.model_dump_json())
    else:
        click.echo(f"{job.id} {job.status.value}: {shown(job.message)}")
    if job.status.value in ("failed", "diverged", "cancelled"):
        sys.exit(FAILED)


@main.command()
@click.argument("spec", type=click.File("r"), required=False)
@click.option("--set", "settings", multiple=True, metavar="PATH=VALUE", help="change one setting (repeatable)")
@click.option("--watch", is_flag=True, help="follow the job with a progress line until it ends")
@click.option("--cancel-on-exit", is_flag=True, help="with --watch: Ctrl-C cancels the job (else it goes on)")
@AS_JSON
@click.pass_context
@guarded
def submit(
    ctx: click.Context, spec: Any, settings: tuple[str, ...], watch: bool, cancel_on_exit: bool, as_json: bool
) -> None:
    """Submit a job from a spec file (`-`: standard input; none: the defaults) and `--set` changes."""
    body = read_json_object(spec, "spec")
    with client(ctx) as api:
        job = api.submit(with_settings(body, settings))
        if not watch:
            report(job, as_json)
            return
        click.echo(f"job {job.id} submitted", err=True)
        follow_to_end(api, job, cancel_on_exit, as_json)


@main.command()
@click.argument("job_id", type=IDENTIFIER)
@click.option("--cancel-on-exit", is_flag=True, help="Ctrl-C cancels the job (else it goes on)")
@AS_JSON
@click.pass_context
@guarded
def follow(ctx: click.Context, job_id: str, cancel_on_exit: bool, as_json: bool) -> None:
    """Re-attach to a job: its progress line from where it is now, until it ends (exit code as submit)."""
    with client(ctx) as api:
        follow_to_end(api, api.job(job_id), cancel_on_exit, as_json)


DEFAULT_COLUMNS = "status,step,train/loss,val/acc,name"


@main.command()
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--dataset", help="only runs on this dataset (spiral, digits...)")
@click.option("--lesson/--no-lesson", default=None, help="only lessons' runs, or none of them")
@click.option("--order", metavar="FIELD", help="sort by a figure or setting, - first for descending: -val/acc")
@click.option("--where", multiple=True, metavar="COND", help="val/acc>0.9, optim.optimizer=adam (repeatable)")
@click.option("--columns", default=DEFAULT_COLUMNS, help="figures and settings to show, e.g. optim.lr,val/acc")
@click.option("--limit", type=click.IntRange(1, 500), default=20)
@AS_JSON
@click.pass_context
@guarded
def jobs(
    ctx: click.Context,
    status: str | None,
    dataset: str | None,
    lesson: bool | None,
    order: str | None,
    where: tuple[str, ...],
    columns: str,
    limit: int,
    as_json: bool,
) -> None:
    """Runs as a table: newest first, or sorted by any figure or setting, filtered by ranges."""
    with client(ctx) as api:
        page = api.jobs(status, lesson, dataset, order, list(where), limit)
    if as_json:
        click.echo(page.model_dump_json())
        return
    chosen = [column.strip() for column in columns.split(",") if column.strip()]
    table(["id", *chosen], [[job.id, *(cell(job, column) for column in chosen)] for job in page.jobs])
    click.echo(f"{len(page.jobs)} of {page.total}", err=True)


def cell(job: Any, column: str) -> str:
    """A job's value in a column: its status or name, a summary figure, or a spec setting."""
    if column == "status":
        return str(job.status.value)
    if column == "name":
        return shown(job.name)
    if column in job.summary:
        return figure(job.summary[column], column)
    return figure(setting(job.spec.model_dump(mode="json"), column))


@main.command()
@click.argument("job_id", type=IDENTIFIER)
@AS_JSON
@click.pass_context
@guarded
def show(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """One job: its status, message, figures and spec."""
    with client(ctx) as api:
        job = api.job(job_id)
    if as_json:
        click.echo(job.model_dump_json())
        return
    click.echo(f"{job.id} {job.status.value}: {shown(job.message)}")
    if job.name:
        click.echo(f"  name: {shown(job.name)}")
    for key, value in sorted(job.summary.items()):
        click.echo(f"  {key}: {figure(value, key)}")
    click.echo(job.spec.model_dump_json(indent=2))


@main.command()
@click.argument("job_id", type=IDENTIFIER)
@AS_JSON
@click.pass_context
@guarded
def cancel(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Cancel a queued or running job."""
    with client(ctx) as api:
        job = api.cancel(job_id)
    click.echo(job.model_dump_json() if as_json else f"{job.id} {job.status.value}")


def export_to(output: Path | None, default: str) -> Path | None:
    """Where an export goes: a path (checked), or None for stdout (`-o -`)."""
    path = output or Path(default)
    if str(path) == "-":
        return None
    if not path.parent.is_dir():
        raise click.BadParameter(f"{path}: no folder {str(path.parent)!r}", param_hint="--output")
    return path


def written(path: Path | None, size: int) -> None:
    click.echo(f"{path or 'stdout'}: {size:,} bytes", err=True)


OUTPUT = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="default: trainscope-ID.SUFFIX; -: stdout"
)


@main.command()
@click.argument("job_id", type=IDENTIFIER)
@click.option("--format", "form", type=FORMATS, default="csv")
@OUTPUT
@click.pass_context
@guarded
def export(ctx: click.Context, job_id: str, form: str, output: Path | None) -> None:
    """Every stored point of a job, streamed into a file: csv (scalars), jsonl (every event) or tensorboard
    (a log directory as .tar.gz: `tar xzf` it and point `tensorboard --logdir` at the folder). A group's:
    `trainscope group export`."""
    from trainscope.client import NotFound

    path = export_to(output, f"trainscope-{job_id}.{SUFFIXES[form]}")
    with client(ctx) as api:
        try:
            size = api.export(job_id, form, path or sys.stdout.buffer)
        except NotFound as missing:
            hint = "; it is a group: `trainscope group export`" if is_group(api, job_id) else ""
            fail(REFUSED, f"HTTP 404: {missing.detail}{hint}")
    written(path, size)


def is_group(api: Any, group_id: str) -> bool:
    from trainscope.client import NotFound

    try:
        api.group(group_id)
    except NotFound:
        return False
    return True
