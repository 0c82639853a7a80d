"""A job's stored events exported losslessly (every stored point, not the thinned display), read a page
at a time so memory follows the page, not the job. No HTTP here: the route streams what these yield."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from itertools import chain
from typing import Literal

from trainscope.schemas.decode import decode, scalar_points, system_points
from trainscope.schemas.groups import GroupRun
from trainscope.store.base import JobRecord, RunStore, read_pages

ExportFormat = Literal["csv", "jsonl", "tensorboard"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "tensorboard": "application/gzip",
}
SUFFIXES = {"csv": "csv", "jsonl": "jsonl", "tensorboard": "tensorboard.tar.gz"}
CSV_COLUMNS = ("run", "tag", "step", "wall", "value")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_chunks(
    store: RunStore,
    runs: list[tuple[str, JobRecord]],
    form: ExportFormat,
    page_bytes: int,
    file_bytes: int = 4 * 2**20,
    grouped: bool = False,
) -> Iterator[str | bytes]:
    """One job's export, or a group's (`grouped`: each run named by its label, however many are left):
    text chunks, a page of stored events each; a TensorBoard archive (a folder per run of a group), as
    bytes, in event files of at most about `file_bytes`."""
    if form == "tensorboard":
        from trainscope.jobs.tensorboard import tensorboard_chunks  # imports tensorboard: only when asked

        return tensorboard_chunks(store, runs, page_bytes, file_bytes, grouped)
    if form == "csv":
        return chain([",".join(CSV_COLUMNS) + "\r\n"], *(csv_chunks(store, r, page_bytes, name) for name, r in runs))
    return chain(*(jsonl_chunks(store, record, page_bytes, name if grouped else None) for name, record in runs))


def jsonl_chunks(store: RunStore, record: JobRecord, page_bytes: int, run: str | None = None) -> Iterator[str]:
    """Every stored event, one JSON object per line, in seq order: the stored text itself (in a group's
    export with a "run" field in front)."""
    head = f'{{"run":{json.dumps(run)},' if run is not None else "{"
    for page in read_pages(store, record.id, 0, record.last_seq, page_bytes):
        yield "".join(f"{head}{event.body[1:]}\n" for event in page)


def csv_chunks(store: RunStore, record: JobRecord, page_bytes: int, run: str) -> Iterator[str]:
    """Every scalar point in long format (run, tag, step, wall, value), without the header, and the system
    series (system/samples_per_s...). A value is written as Python's repr of the stored float, which reads
    back bit-equal; the run's name is user text, written so that a spreadsheet shows it and never runs it."""
    run = spreadsheet_text(run)
    for page in read_pages(store, record.id, 0, record.last_seq, page_bytes, ("scalars", "system")):
        out = io.StringIO()
        writer = csv.writer(out)
        for event in page:
            body = decode(event.body)
            points = scalar_points(body) if body["type"] == "scalars" else [(body["step"], system_points(body))]
            for step, values in points:
                writer.writerows((run, tag, step, repr(body["wall"]), repr(value)) for tag, value in values.items())
        yield out.getvalue()


def spreadsheet_text(text: str) -> str:
    """Text a spreadsheet shows as text: a cell that starts with = + - @, a tab or a carriage return is
    a formula to Excel and LibreOffice (=HYPERLINK(...) sends the reader away), so it gets a leading
    apostrophe, as OWASP's CSV injection advice says. Only the CSV does this: JSONL and /scalars keep
    the text exact."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def run_names(runs: list[GroupRun]) -> list[str]:
    """A name for each run of a group: its label (with its part where a lesson has several), numbered
    where a variation repeats on further seeds."""
    parts = {run.part for run in runs}
    names = [f"{run.part}: {run.label}" if len(parts) > 1 else run.label for run in runs]
    seen: Counter[str] = Counter()
    numbered = []
    for name in names:
        seen[name] += 1
        numbered.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return numbered


def export_filename(identifier: str, form: ExportFormat) -> str:
    return f"trainscope-{identifier}.{SUFFIXES[form]}"  # an id only: a run's name is user text, not a file name
