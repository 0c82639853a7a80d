"""A job's stored events exported losslessly (every stored point, not the thinned display), read a page
at a time so memory follows the page, not the job. No HTTP here: the route streams what these yield."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Literal

from trainscope.schemas.decode import decode, scalar_points
from trainscope.store.base import JobRecord, RunStore, read_pages

ExportFormat = Literal["csv", "jsonl", "tensorboard"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "tensorboard": "application/gzip",
}
SUFFIXES = {"csv": "csv", "jsonl": "jsonl", "tensorboard": "tensorboard.tar.gz"}
CSV_COLUMNS = ("run", "tag", "step", "wall", "value")


def export_chunks(store: RunStore, record: JobRecord, form: ExportFormat, page_bytes: int) -> Iterator[str | bytes]:
    """The export in chunks: text, a page of stored events each; a TensorBoard archive, as bytes."""
    if form == "tensorboard":
        from trainscope.jobs.tensorboard import tensorboard_chunks  # imports tensorboard: only when asked

        return tensorboard_chunks(store, record, page_bytes)
    return csv_chunks(store, record, page_bytes) if form == "csv" else jsonl_chunks(store, record, page_bytes)


def jsonl_chunks(store: RunStore, record: JobRecord, page_bytes: int) -> Iterator[str]:
    """Every stored event, one JSON object per line, in seq order: the stored text itself."""
    for page in read_pages(store, record.id, 0, record.last_seq, page_bytes):
        yield "".join(f"{event.body}\n" for event in page)


def csv_chunks(store: RunStore, record: JobRecord, page_bytes: int) -> Iterator[str]:
    """Every scalar point in long format (run, tag, step, wall, value), the run named as in the runs
    list. A value is written as Python's repr of the stored float, which reads back bit-equal."""
    run = record.name or record.id
    yield ",".join(CSV_COLUMNS) + "\r\n"
    for page in read_pages(store, record.id, 0, record.last_seq, page_bytes, ("scalars",)):
        out = io.StringIO()
        writer = csv.writer(out)
        for event in page:
            body = decode(event.body)
            for step, values in scalar_points(body):
                writer.writerows((run, tag, step, repr(body["wall"]), repr(value)) for tag, value in values.items())
        yield out.getvalue()


def export_filename(record: JobRecord, form: ExportFormat) -> str:
    return f"trainscope-{record.id}.{SUFFIXES[form]}"  # the id only: a run's name is user text, not a file name
