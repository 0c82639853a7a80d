"""A job as a TensorBoard log directory, written with TensorBoard's own record format: every scalar
point as a float64 tensor summary (TensorBoard's older `simple_value` is float32 and would round 5% of
our points), the system series (system/samples_per_s...) and the device as text, every histogram
snapshot (our fixed bins as TensorBoard buckets), the spec as text and as hparams, and the newest
embedding for the projector (the layer's own activations where the run sent them, else its PCA; TSV
files and a projector_config.pbtxt). Imported only when such an export is asked for (tensorboard's
import costs ~1 s).

Streamed as a .tar.gz from its first page of events, with no temp folder: a tar member must know its
size before its header, so a run's events become numbered event files of at most `file_bytes` each,
held in memory while they fill (TensorBoard reads every events file of a folder, in name order). An
export's memory is a page of events plus one file; a client that leaves stops it at the next chunk."""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.types_pb2 import DT_DOUBLE
from tensorboard.plugins.hparams.summary_v2 import hparams_pb
from tensorboard.plugins.projector import ProjectorConfig
from tensorboard.plugins.text.summary import text_pb
from tensorboard.summary.writer.record_writer import RecordWriter

from trainscope.schemas.decode import decode, floats, scalar_points, system_points
from trainscope.store.base import JobRecord, RunStore, read_pages

TENSORBOARD_TYPES = ("scalars", "system", "histogram", "embedding")
SCALAR = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))


class Chunks:
    """What tarfile writes, kept until the export hands it on (a file object with write() only)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def tensorboard_chunks(
    store: RunStore, runs: list[tuple[str, JobRecord]], page_bytes: int, file_bytes: int, grouped: bool
) -> Iterator[bytes]:
    """The runs' log directories as a gzipped tar, a chunk per file written: one job's events in a
    folder named by its id, or a group's runs each in a folder of `runs/` named after it (TensorBoard
    shows each folder as a run; a group with no run left is an archive with an empty `runs/`)."""
    chunks = Chunks()
    with tarfile.open(fileobj=chunks, mode="w|gz") as tar:  # type: ignore[call-overload]
        top = "runs" if grouped else runs[0][1].id
        add_folder(tar, top)
        folders = folder_names([name for name, _ in runs]) if grouped else [""]
        for folder, (_, record) in zip(folders, runs, strict=True):
            path = f"{top}/{folder}".rstrip("/")
            if folder:
                add_folder(tar, path)
            pages = read_pages(store, record.id, 0, record.last_seq, page_bytes, TENSORBOARD_TYPES)
            events = (decode(stored.body) for page in pages for stored in page)
            for name, data in log_files(events, record.spec, record.created_at.timestamp(), file_bytes):
                add_file(tar, f"{path}/{name}", data)
                if chunks.parts:
                    yield chunks.take()
    yield chunks.take()  # the rest and the gzip trailer


def add_folder(tar: tarfile.TarFile, path: str) -> None:
    info = tarfile.TarInfo(path)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
    tar.addfile(info)


def add_file(tar: tarfile.TarFile, path: str, data: bytes) -> None:
    info = tarfile.TarInfo(path)
    info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def write_events(events: Iterable[dict[str, Any]], spec: dict[str, Any], started: float, logdir: Path) -> None:
    """Events as a TensorBoard log directory on disk (a lesson's check reads it back)."""
    logdir.mkdir(parents=True, exist_ok=True)
    for name, data in log_files(events, spec, started, file_bytes=2**62):
        (logdir / name).write_bytes(data)


def log_files(
    events: Iterable[dict[str, Any]], spec: dict[str, Any], started: float, file_bytes: int
) -> Iterator[tuple[str, bytes]]:
    """A run's log directory as (file name, contents), made as the events come (scalars, histograms and
    embeddings; others are skipped): event files of about `file_bytes` at most, then the projector's."""
    part = 0
    buffer = io.BytesIO()
    # TensorBoard's record writer, without its event-file writer's queue and thread (measured: ~7x
    # slower for a long run's points) and without the server's host name in the file name
    records = RecordWriter(buffer)

    def add(event: Event) -> None:
        records.write(event.SerializeToString())

    def file_name() -> str:
        return f"events.out.tfevents.{int(started)}.trainscope.{part:05d}"

    add(Event(wall_time=started, file_version="brain.Event:2"))
    add(Event(wall_time=started, step=0, summary=spec_summary(spec)))
    newest_embedding: dict[str, Any] | None = None
    device = ""
    for event in events:
        if event["type"] == "scalars":
            for step, values in scalar_points(event):
                add(Event(wall_time=event["wall"], step=step, summary=scalars_summary(values)))
        elif event["type"] == "system":
            add(Event(wall_time=event["wall"], step=event["step"], summary=scalars_summary(system_points(event))))
            if event["device"] != device:  # once, and again if it ever changed
                device = event["device"]
                add(Event(wall_time=event["wall"], step=event["step"], summary=text_pb("system/device", device)))
        elif event["type"] == "histogram":
            value = Summary.Value(tag=event["tag"], histo=histogram_proto(event))
            add(Event(wall_time=event["wall"], step=event["step"], summary=Summary(value=[value])))
        elif event["type"] == "embedding":
            newest_embedding = event
        if buffer.tell() >= file_bytes:
            yield file_name(), buffer.getvalue()
            part += 1
            buffer.seek(0)
            buffer.truncate()
            add(Event(wall_time=started, file_version="brain.Event:2"))  # each file read as version 2
    yield file_name(), buffer.getvalue()
    if newest_embedding is not None:
        yield from projector_files(newest_embedding)


def scalars_summary(values: dict[str, float]) -> Summary:
    """Scalars as TensorBoard's scalars plugin reads them, each an exact float64."""
    points = [
        Summary.Value(tag=tag, metadata=SCALAR, tensor=TensorProto(dtype=DT_DOUBLE, double_val=[value]))
        for tag, value in values.items()
    ]
    return Summary(value=points)


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
    from tensorboard.util.tensor_util import make_ndarray

    reader = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    reader.Reload()
    tags = reader.Tags()
    scalar_tags = [tag for tag in tags["tensors"] if reader.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"]
    scalars = {tag: [(t.step, make_ndarray(t.tensor_proto).item()) for t in reader.Tensors(tag)] for tag in scalar_tags}
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


def projector_files(event: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """The newest embedding snapshot for TensorBoard's projector (which makes its own PCA, t-SNE and UMAP):
    the layer's activations where the run sent them, else the 3 principal components; labels as TSV."""
    raw = event.get("vectors") is not None
    vectors = floats(event["vectors"] if raw else event["points"]).reshape(event["n"], -1)
    table = io.BytesIO()
    np.savetxt(table, vectors, delimiter="\t", fmt="%.9g")  # float32 in 9 digits: exact
    yield "embedding.tsv", table.getvalue()
    yield "labels.tsv", metadata_table(event).encode()
    config = ProjectorConfig()
    embedding = config.embeddings.add()
    what = f"{event['width']} units" if raw else "3 principal components"
    embedding.tensor_name = f"{event['tag']} at step {event['step']} ({what})"
    embedding.tensor_path, embedding.metadata_path = "embedding.tsv", "labels.tsv"
    yield "projector_config.pbtxt", str(config).encode()


def metadata_table(event: dict[str, Any]) -> str:
    """The projector's metadata: one label a line; with a name or more columns, a header line and a
    column each (TensorBoard's own rule), tabs and line breaks in text made spaces."""
    classes = event.get("classes")
    labels = [classes[label] if classes and 0 <= label < len(classes) else label for label in event["labels"]]
    names = {"name": event["names"]} if event.get("names") else {}
    columns = {"label": labels, **names, **(event.get("columns") or {})}
    if len(columns) == 1:
        return "".join(f"{cell(label)}\n" for label in labels)
    rows = ["\t".join(columns), *("\t".join(cell(c[i]) for c in columns.values()) for i in range(len(labels)))]
    return "".join(f"{row}\n" for row in rows)


def cell(value: object) -> str:
    return " ".join(str(value).split())
