"""The `trainscope` command: serve the app, and drive a server from a terminal (submit and watch jobs,
list, show, cancel, export, run lessons) through trainscope.client. `--json` prints what scripts read.

Exit codes: 0 done; 1 the job (or a lesson's run) failed, diverged or was cancelled, or a verdict did not
hold; 2 bad usage; 3 the server refused the request; 4 no server to talk to; 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from trainscope.schemas.text import shown

FAILED, USAGE, REFUSED, UNREACHABLE, INTERRUPTED = 1, 2, 3, 4, 130


class Identifier(click.ParamType[str]):
    """A job's, table's or lesson's id: letters, digits, - and _ (never a path: `../jobs/X`)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not re.fullmatch(r"[\w-]{1,64}", str(value), re.ASCII):
            self.fail(f"{value!r} is not an id (letters, digits, - and _)", param, ctx)
        return str(value)


IDENTIFIER = Identifier()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trainscope")
@click.option("--url", help="the server (default: TRAINSCOPE_URL, else http://127.0.0.1:8000)")
@click.option("--token", help="for a server that has one (default: TRAINSCOPE_TOKEN)")
@click.pass_context
def main(ctx: click.Context, url: str | None, token: str | None) -> None:
    """Watch real neural networks learn: serve the web app, or drive a running server."""
    ctx.obj = {"url": url, "token": token}


@main.command()
@click.option("--host")
@click.option("--port", type=click.IntRange(0, 65535))
@click.option("--workers", type=click.IntRange(1, 64), help="worker processes")
@click.option("--database-url", help="sqlite:///file.db (default) or a SQLAlchemy URL")
def serve(**options: Any) -> None:
    """Start the web app (settings also from TRAINSCOPE_* variables) and print its address."""
    import uvicorn
    from pydantic import ValidationError

    from trainscope.app import create_app
    from trainscope.config import Settings

    try:
        settings = Settings(**{key: value for key, value in options.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        raise click.UsageError(problems) from None
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


def client(ctx: click.Context) -> Any:
    """A client for the server the options or TRAINSCOPE_URL name; a bad URL or token is bad usage."""
    import httpx

    from trainscope.client import Client
    from trainscope.config import ClientSettings

    settings = ClientSettings()
    url = ctx.obj["url"] or settings.url
    token = ctx.obj["token"] or (settings.token.get_secret_value() if settings.token else None)
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise click.BadParameter(f"{url!r}: {error}", param_hint="--url") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise click.BadParameter(f"{url!r}: write http://HOST:PORT", param_hint="--url")
    if token is not None and not (token.isascii() and token.isprintable() and " " not in token and token):
        raise click.BadParameter("a token is printable ASCII, without spaces", param_hint="--token")
    return Client(url, token)


def fail(code: int, message: str) -> NoReturn:
    click.echo(f"trainscope: {message}", err=True)
    sys.exit(code)


def guarded(function: Any) -> Any:
    """Turn the client's errors into a message and an exit code."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        import httpx

        from trainscope.client import ServerError

        try:
            return function(*args, **kwargs)
        except ServerError as error:
            fail(REFUSED, describe_refusal(error.status, error.detail))
        except (httpx.TransportError, ConnectionError) as error:
            fail(UNREACHABLE, f"no server answered ({error}); start one with `trainscope serve` or set --url")
        except OSError as error:  # a file we were to read or write
            fail(USAGE, f"{error.filename or 'file'}: {error.strerror or error}")

    return run


def describe_refusal(status: int, detail: Any) -> str:
    if isinstance(detail, list):  # a 422: each field with its reason
        return "; ".join(f"{'.'.join(str(p) for p in d['loc'] if p != 'body')}: {d['msg']}" for d in detail)
    return f"HTTP {status}: {detail}"


def parse_setting(text: str) -> tuple[str, Any]:
    """`optim.lr=0.01` -> ("optim.lr", 0.01); a value is JSON where it parses (numbers, lists, true), else text."""
    path, sep, raw = text.partition("=")
    if not sep or not path:
        raise click.BadParameter(f"{text!r}: write PATH=VALUE, e.g. optim.lr=0.01")
    try:
        return path, json.loads(raw)
    except ValueError:
        return path, raw


def with_settings(spec: dict[str, Any], settings: tuple[str, ...]) -> dict[str, Any]:
    for path, value in map(parse_setting, settings):
        *parents, last = path.split(".")
        node = spec
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise click.BadParameter(f"{path}: {key} is not an object in this spec")
        node[last] = value
    return spec


class Progress:
    """One line of progress from a job's events: step/steps, loss, validation accuracy, samples/s, ETA.
    Redrawn in place on a terminal; on a pipe, a line at most every `every_s` seconds and the last."""

    def __init__(self, steps: int, batch: int, every_s: float = 1.0) -> None:
        self.steps, self.batch, self.every_s = steps, batch, every_s
        self.tty = sys.stderr.isatty()
        self.values: dict[str, float] = {}
        self.step, self.last_shown = 0, 0.0
        self.start: tuple[int, float] | None = None  # the first point seen: (step, wall)
        self.rate: float | None = None

    def update(self, event: dict[str, Any]) -> None:
        if event["type"] != "scalars" or not event["points"]:
            return
        for point in event["points"]:
            self.step = point["step"]
            self.values.update(point["values"])
        if self.start is None:
            self.start = (self.step, event["wall"])
        elif event["wall"] > self.start[1]:
            self.rate = (self.step - self.start[0]) / (event["wall"] - self.start[1])
        if time.monotonic() - self.last_shown >= (0.1 if self.tty else self.every_s):
            self.show()

    def line(self) -> str:
        done = self.step / self.steps if self.steps else 0.0
        bar = "#" * int(done * 20)
        parts = [f"step {self.step}/{self.steps} [{bar:<20}] {done:4.0%}"]
        if "train/loss" in self.values:
            parts.append(f"loss {self.values['train/loss']:.4g}")
        if "val/acc" in self.values:
            parts.append(f"val acc {self.values['val/acc']:.1%}")
        if self.rate:
            parts.append(f"{self.rate * self.batch:,.0f} samples/s")
            parts.append(f"ETA {max(self.steps - self.step, 0) / self.rate:.0f}s")
        return " · ".join(parts)

    def show(self, final: bool = False) -> None:
        self.last_shown = time.monotonic()
        end = "\n" if final or not self.tty else ""
        click.echo(("\r" if self.tty else "") + self.line(), err=True, nl=False)
        click.echo(end, err=True, nl=False)


def follow_to_end(api: Any, job: Any, cancel_on_exit: bool, as_json: bool) -> None:
    """Follow a job to its end with a progress line; exit with its outcome."""
    progress = Progress(job.spec.optim.steps, job.spec.optim.batch_size)
    try:
        for event in api.follow(job.id):
            progress.update(event)
    except KeyboardInterrupt:
        progress.show(final=True)
        if cancel_on_exit:
            api.cancel(job.id)
            fail(INTERRUPTED, f"cancelled job {job.id}")
        fail(INTERRUPTED, f"detached; job {job.id} goes on (`trainscope show {job.id}`)")
    progress.show(final=True)
    report(api.job(job.id), as_json)


def report(job: Any, as_json: bool) -> None:
    """A job's outcome on stdout, and the exit code it means."""
    if as_json:
        click.echo(job.model_dump_json())
    else:
        click.echo(f"{job.id} {job.status.value}: {job.message}")
    if job.status.value in ("failed", "diverged", "cancelled"):
        sys.exit(FAILED)


@main.command()
@click.argument("spec", type=click.File("r"), required=False)
@click.option("--set", "settings", multiple=True, metavar="PATH=VALUE", help="change one setting (repeatable)")
@click.option("--watch", is_flag=True, help="follow the job with a progress line until it ends")
@click.option("--cancel-on-exit", is_flag=True, help="with --watch: Ctrl-C cancels the job (else it goes on)")
@click.option("--json", "as_json", is_flag=True, help="print the job as JSON")
@click.pass_context
@guarded
def submit(
    ctx: click.Context, spec: Any, settings: tuple[str, ...], watch: bool, cancel_on_exit: bool, as_json: bool
) -> None:
    """Submit a job from a spec file (`-`: standard input; none: the defaults) and `--set` changes."""
    try:
        body = json.load(spec) if spec is not None else {}
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError says the line and column
        raise click.BadParameter(f"not a JSON spec: {error}", param_hint="SPEC") from None
    if not isinstance(body, dict):
        raise click.BadParameter("a job spec is a JSON object", param_hint="SPEC")
    with client(ctx) as api:
        job = api.submit(with_settings(body, settings))
        if not watch:
            report(job, as_json)
            return
        click.echo(f"job {job.id} submitted", err=True)
        follow_to_end(api, job, cancel_on_exit, as_json)


@main.command()
@click.option("--status", type=click.Choice(["queued", "running", "paused", "done", "failed", "cancelled", "diverged"]))
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@guarded
def jobs(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """List jobs, newest first."""
    with client(ctx) as api:
        page = api.jobs(status=status, limit=limit)
    if as_json:
        click.echo(page.model_dump_json())
        return
    for job in page.jobs:
        acc = job.summary.get("val/acc")
        figures = f"step {int(job.summary.get('step', 0))}" + (f" · val acc {acc:.1%}" if acc is not None else "")
        click.echo(f"{job.id}  {job.status.value:<9}  {figures:<28}  {shown(job.name)}")
    click.echo(f"{len(page.jobs)} of {page.total}", err=True)


@main.command()
@click.argument("job_id", type=IDENTIFIER)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@guarded
def show(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """One job: its status, message, summary and spec."""
    with client(ctx) as api:
        job = api.job(job_id)
    if as_json:
        click.echo(job.model_dump_json())
        return
    click.echo(f"{job.id} {job.status.value}: {shown(job.message)}")
    if job.name:
        click.echo(f"  name: {shown(job.name)}")
    for key, value in sorted(job.summary.items()):
        click.echo(f"  {key}: {value:.6g}")
    click.echo(job.spec.model_dump_json(indent=2))


@main.command()
@click.argument("job_id", type=IDENTIFIER)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@guarded
def cancel(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Cancel a queued or running job."""
    with client(ctx) as api:
        job = api.cancel(job_id)
    click.echo(job.model_dump_json() if as_json else f"{job.id} {job.status.value}")


@main.command()
@click.argument("job_id", type=IDENTIFIER)
@click.option("--format", "form", type=click.Choice(["csv", "jsonl", "tensorboard"]), default="csv", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="default: trainscope-ID.SUFFIX; -: stdout"
)
@click.pass_context
@guarded
def export(ctx: click.Context, job_id: str, form: str, output: Path | None) -> None:
    """Every stored point of a job, streamed into a file: csv (scalars), jsonl (every event) or tensorboard
    (a log directory as .tar.gz: `tar xzf` it and point `tensorboard --logdir` at the folder)."""
    from trainscope.jobs.exports import SUFFIXES

    path = output or Path(f"trainscope-{job_id}.{SUFFIXES[form]}")
    if str(path) != "-" and not path.parent.is_dir():
        raise click.BadParameter(f"{path}: no folder {str(path.parent)!r}", param_hint="--output")
    with client(ctx) as api:
        written = api.export(job_id, form, sys.stdout.buffer if str(path) == "-" else path)
    click.echo(f"{path}: {written:,} bytes", err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@guarded
def lessons(ctx: click.Context, as_json: bool) -> None:
    """The lessons: each one's id and question."""
    with client(ctx) as api:
        found = api.lessons()
    if as_json:
        click.echo(json.dumps(found))
        return
    for lesson in found:
        click.echo(f"{lesson['id']:<16} {lesson['question']['en']}")


@main.group()
def datasets() -> None:
    """Your own tables: upload a CSV, list, delete."""


def describe_table(table: Any) -> str:
    kind = f"{len(table.classes)} classes" if table.target == "class" else "values"
    return f"{table.id}  {table.n_rows:>7,} rows  {len(table.columns):>3} features  {kind:<11}  {shown(table.name)}"


@datasets.command("upload")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="default: the file's name")
@click.option("--label", help="the label column (default: the last)")
@click.option("--target", type=click.Choice(["class", "value"]), help="default: class for few whole numbers")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@guarded
def upload_dataset(
    ctx: click.Context, csv_file: Path, name: str | None, label: str | None, target: str | None, as_json: bool
) -> None:
    """Store a CSV (a first line of column names, then numbers); prints the id a spec names it by."""
    if not csv_file.is_file():
        raise click.BadParameter(f"{csv_file}: not a regular file", param_hint="CSV_FILE")
    with client(ctx) as api:
        largest = api.meta()["limits"]["max_upload_bytes"]
        if (size := csv_file.stat().st_size) > largest:  # refused before a byte is sent
            fail(REFUSED, f"{csv_file} is {size:,} bytes; this server takes at most {largest:,}")
        table = api.upload_dataset(csv_file, name, label, target)
    if as_json:
        click.echo(table.model_dump_json())
        return
    click.echo(describe_table(table))
    click.echo(f'use it as: --set data=\'{{"kind": "uploaded", "dataset": "{table.id}"}}\'', err=True)


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@guarded
def list_datasets(ctx: click.Context, as_json: bool) -> None:
    """The uploaded tables, newest first."""
    with client(ctx) as api:
        tables = api.datasets()
    if as_json:
        click.echo(json.dumps([table.model_dump(mode="json") for table in tables]))
        return
    for table in tables:
        click.echo(describe_table(table))


@datasets.command("delete")
@click.argument("dataset_id", type=IDENTIFIER)
@click.pass_context
@guarded
def delete_dataset(ctx: click.Context, dataset_id: str) -> None:
    """Delete a table (runs trained on it keep their results)."""
    with client(ctx) as api:
        api.delete_dataset(dataset_id)
    click.echo(f"{dataset_id} deleted", err=True)


@main.group()
def lesson() -> None:
    """Run a lesson."""


@lesson.command("run")
@click.argument("lesson_id", type=IDENTIFIER)
@click.option("--seed", type=int, help="run it on this seed instead of its preset")
@click.option("--json", "as_json", is_flag=True, help="print the judged group as JSON")
@click.pass_context
@guarded
def run_lesson(ctx: click.Context, lesson_id: str, seed: int | None, as_json: bool) -> None:
    """Run a lesson's experiments, wait for them and print its verdict (exit 1 if it did not hold)."""
    with client(ctx) as api:
        group = api.run_lesson(lesson_id, {"seed": seed} if seed is not None else {})
        click.echo(f"group {group.id}: {len(group.runs)} runs", err=True)
        group = api.wait_group(group.id)
    verdict = group.verdict
    if as_json:
        click.echo(group.model_dump_json())
    elif verdict is not None:
        click.echo(f"{lesson_id}: {'held' if verdict.held else 'did not hold'}")
        for figure in verdict.figures.values():
            click.echo(f"  {figure.en}: {figure.value if figure.value is not None else 'never'}")
    if verdict is None or not verdict.held:
        sys.exit(FAILED)


if __name__ == "__main__":
    main()
