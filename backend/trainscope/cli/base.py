"""What every verb shares: the `trainscope` group, the exit codes, the client the options name, errors
turned into one line and an exit code, tables with headers and figures rounded for people."""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from trainscope.schemas.text import shown

FAILED, USAGE, REFUSED, UNREACHABLE, INTERRUPTED = 1, 2, 3, 4, 130


class Identifier(click.ParamType[str]):
    """A job's, group's, table's or lesson's id: letters, digits, - and _ (never a path: `../jobs/X`)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not re.fullmatch(r"[\w-]{1,64}", str(value), re.ASCII):
            self.fail(f"{value!r} is not an id (letters, digits, - and _)", param, ctx)
        return str(value)


IDENTIFIER = Identifier()
AS_JSON = click.option("--json", "as_json", is_flag=True, help="print exact values as JSON, for scripts")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(package_name="trainscope")
@click.option("--url", help="the server (default: TRAINSCOPE_URL, else http://127.0.0.1:8000)")
@click.option("--token", help="for a server that has one (default: TRAINSCOPE_TOKEN)")
@click.pass_context
def main(ctx: click.Context, url: str | None, token: str | None) -> None:
    """Watch real neural networks learn: serve the web app, or drive a running server.

    Exit codes: 0 done; 1 a job failed, diverged or was cancelled, or a verdict did not hold; 2 bad usage;
    3 the server refused the request; 4 no server to talk to; 130 interrupted."""
    ctx.obj = {"url": url, "token": token}


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
        from trainscope.client import Invalid, Refused, Unreachable

        try:
            return function(*args, **kwargs)
        except Invalid as error:
            fail(REFUSED, "; ".join(f"{f.field or 'request'}: {f.reason}" for f in error.fields))
        except Refused as error:
            fail(REFUSED, f"HTTP {error.status}: {error.detail}")
        except Unreachable as error:
            fail(UNREACHABLE, f"{error}; start one with `trainscope serve` or set --url")
        except OSError as error:  # a file we were to read or write
            fail(USAGE, f"{error.filename or 'file'}: {error.strerror or error}")

    return run


def figure(value: Any, tag: str = "") -> str:
    """A number as people read it: accuracies as percentages, others to 4 significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return shown(json.dumps(value) if isinstance(value, list | dict) else str(value))
    if not math.isfinite(value):
        return str(value)
    if tag.endswith("acc"):
        return f"{value:.1%}"
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e9):
        return f"{int(value):,}"
    return f"{value:.4g}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell, a header row first; numbers to the right."""
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    numeric = [all(re.fullmatch(r"[-\d.,%e+-]*", row[i]) for row in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(w) if right else cell.ljust(w) for cell, w, right in zip(cells, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    click.echo(line(headers))
    for row in rows:
        click.echo(line(row))


def setting(spec: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a spec (`optim.lr`), or None."""
    node: Any = spec
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


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


def read_json_object(file: Any, what: str) -> dict[str, Any]:
    """A JSON object from a file option (`-`: standard input); anything else is bad usage."""
    try:
        body = json.load(file) if file is not None else {}
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError says the line and column
        raise click.BadParameter(f"not a JSON {what}: {error}", param_hint=what.upper()) from None
    if not isinstance(body, dict):
        raise click.BadParameter(f"a {what} is a JSON object", param_hint=what.upper())
    return body
