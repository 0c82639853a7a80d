"""Verbs on uploaded tables: upload a CSV, list, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from trainscope.cli.base import AS_JSON, IDENTIFIER, REFUSED, client, fail, guarded, main, table
from trainscope.schemas.text import shown


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
@AS_JSON
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
@AS_JSON
@click.pass_context
@guarded
def list_datasets(ctx: click.Context, as_json: bool) -> None:
    """The uploaded tables, newest first."""
    with client(ctx) as api:
        tables = api.datasets()
    if as_json:
        click.echo(json.dumps([table.model_dump(mode="json") for table in tables]))
        return
    rows = []
    for found in tables:
        kind = f"{len(found.classes)} classes" if found.target == "class" else "values"
        rows.append([found.id, f"{found.n_rows:,}", str(len(found.columns)), kind, shown(found.name)])
    table(["id", "rows", "features", "label", "name"], rows)


@datasets.command("delete")
@click.argument("dataset_id", type=IDENTIFIER)
@click.pass_context
@guarded
def delete_dataset(ctx: click.Context, dataset_id: str) -> None:
    """Delete a table (runs trained on it keep their results)."""
    with client(ctx) as api:
        api.delete_dataset(dataset_id)
    click.echo(f"{dataset_id} deleted", err=True)
