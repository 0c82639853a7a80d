"""A job as a TensorBoard log directory, written with TensorBoard's own event-file writer: every scalar
point, every histogram snapshot (our fixed bins as TensorBoard buckets), the spec as text and as
hparams, and the newest embedding for the projector (TSV files and a projector_config.pbtxt). Imported
only when such an export is asked for (tensorboard's import costs ~1 s). Streamed
to the client as a .tar.gz; events are read a page at a time and the writer's queue is bounded, so
memory follows the page, not the job (the directory and the archive take disk in a temp folder)."""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
from tensorboard.plugins.hparams.summary_v2 import hparams_pb
from tensorboard.plugins.projector import ProjectorConfig
from tensorboard.plugins.text.summary import text_pb
from tensorboard.summary.writer.record_writer import RecordWriter

from trainscope.schemas.decode import decode, floats, scalar_points
from trainscope.store.base import JobRecord, RunStore, read_pages

TENSORBOARD_TYPES = ("scalars", "histogram", "embedding")
ARCHIVE_CHUNK_BYTES = 2**20


def tensorboard_chunks(store: RunStore, runs: list[tuple[str, JobRecord]], page_bytes: int) -> Iterator[bytes]:
    """The runs' log directories as a gzipped tar, a chunk at a time: one run's events at the top, or a
    folder per run of a group, named after it (TensorBoard shows each folder as a run). The temp folder
    goes with the last chunk."""
    folder = Path(tempfile.mkdtemp(prefix="trainscope-tb-"))
    try:
        logdir = folder / "logdir"
        names = folder_names([name for name, _ in runs]) if len(runs) > 1 else [""]
        for name, (_, record) in zip(names, runs, strict=True):
            write_logdir(store, record, logdir / name, page_bytes)
        archive = folder / "logdir.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(logdir, arcname=runs[0][1].id if len(runs) == 1 else "runs")
        with archive.open("rb") as data:
            while chunk := data.read(ARCHIVE_CHUNK_BYTES):
                yield chunk
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_logdir(store: RunStore, record: JobRecord, logdir: Path, page_bytes: int) -> None:
    """One stored job as a log directory, its events read a page at a time."""
    pages = read_pages(store, record.id, 0, record.last_seq, page_bytes, TENSORBOARD_TYPES)
    events = (decode(stored.body) for page in pages for stored in page)
    write_events(events, record.spec, record.created_at.timestamp(), logdir)


def write_events(events: Iterable[dict[str, Any]], spec: dict[str, Any], started: float, logdir: Path) -> None:
    """Events (scalars, histograms, embeddings; others are skipped) as a TensorBoard log directory."""
    logdir.mkdir(parents=True, exist_ok=True)
    newest_embedding: dict[str, Any] | None = None
    # TensorBoard's record writer, without its event-file writer's queue and thread (measured: ~7x
    # slower for a long run's points) and without the server's host name in the file name
    with (logdir / f"events.out.tfevents.{int(started)}.trainscope").open("wb") as file:
        records = RecordWriter(file)

        def add(event: Event) -> None:
            records.write(event.SerializeToString())

        add(Event(wall_time=started, file_version="brain.Event:2"))
        add(Event(wall_time=started, step=0, summary=spec_summary(spec)))
        for event in events:
            if event["type"] == "scalars":
                for step, values in scalar_points(event):
                    points = [Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()]
                    add(Event(wall_time=event["wall"], step=step, summary=Summary(value=points)))
            elif event["type"] == "histogram":
                value = Summary.Value(tag=event["tag"], histo=histogram_proto(event))
                add(Event(wall_time=event["wall"], step=event["step"], summary=Summary(value=[value])))
            elif event["type"] == "embedding":
                newest_embedding = event
    if newest_embedding is not None:
        write_projector(logdir, newest_embedding)


def histogram_proto(event: dict[str, Any]) -> HistogramProto:
    """Our fixed bins as TensorBoard's buckets; the sums TensorBoard shows are the bins' estimate."""
    counts = event["counts"]
    edges = np.linspace(event["min"], event["max"], len(counts) + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    return HistogramProto(
        min=event["min"],
        max=event["max"],
        num=float(sum(counts)),
        sum=float(np.dot(centres, counts)),
        sum_squares=float(np.dot(centres**2, counts)),
        bucket_limit=edges[1:].tolist(),
        bucket=[float(c) for c in counts],
    )


def read_back(logdir: Path) -> tuple[dict[str, list[tuple[int, float]]], dict[str, list[tuple[int, list[float]]]]]:
    """What TensorBoard's own reader finds in a log directory: each scalar tag's (step, value) and each
    histogram tag's (step, bucket counts)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    reader = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    reader.Reload()
    tags = reader.Tags()
    scalars = {tag: [(s.step, s.value) for s in reader.Scalars(tag)] for tag in tags["scalars"]}
    histograms = {
        tag: [(h.step, list(h.histogram_value.bucket)) for h in reader.Histograms(tag)] for tag in tags["histograms"]
    }
    return scalars, histograms


def folder_names(names: list[str]) -> list[str]:
    """Path-safe, distinct folder names for runs (a label is user text: no separators, no dot-dot)."""
    safe = [re.sub(r"[^\w.,=+-]+", "_", name).strip("._") or "run" for name in names]
    return [f"{i:02d}_{name}"[:100] for i, name in enumerate(safe, start=1)]


def spec_summary(spec: dict[str, Any]) -> Summary:
    """The spec as a text summary (its JSON) and as TensorBoard hparams (every setting a plain value)."""

    text = text_pb("spec", f"```\n{json.dumps(spec, indent=2)}\n```")
    hparams = hparams_pb({path: value for path, value in flat_settings(spec)})
    return Summary(value=[*text.value, *hparams.value])


def flat_settings(spec: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, bool | int | float | str]]:
    """("optim.lr", 0.03), ... for every plain setting; lists as their JSON text."""
    for key, value in spec.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flat_settings(value, f"{path}.")
        elif isinstance(value, bool | int | float | str):
            yield path, value
        elif value is not None:
            yield path, json.dumps(value)


def write_projector(logdir: Path, event: dict[str, Any]) -> None:
    """The newest embedding snapshot for TensorBoard's projector: vectors and labels as TSV."""

    vectors = floats(event["points"]).reshape(event["n"], event["dims"])
    np.savetxt(logdir / "embedding.tsv", vectors, delimiter="\t", fmt="%.9g")
    (logdir / "labels.tsv").write_text("".join(f"{label}\n" for label in event["labels"]))
    config = ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = f"{event['tag']} at step {event['step']}"
    embedding.tensor_path, embedding.metadata_path = "embedding.tsv", "labels.tsv"
    (logdir / "projector_config.pbtxt").write_text(str(config))
