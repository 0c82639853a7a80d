"""Exports on a live server: every stored point of a finished run, as CSV in long format and as JSON
Lines of its events, streamed; read back, they equal what the REST reads return."""

from __future__ import annotations

import base64
import csv
import io
import json
import tarfile
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.live import LiveServer

SPEC = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 300, "eval_every": 50}}


@pytest.fixture(scope="module")
def finished(server: LiveServer) -> dict[str, object]:
    job = server.submit(SPEC)
    server.wait_status(job["id"], {"done"})
    # a name with a comma and quotes: user text, which CSV must carry intact (a line break is refused)
    httpx.patch(f"{server.url}/api/jobs/{job['id']}", json={"name": 'moons, "first" try'}).raise_for_status()
    return server.job(job["id"])


def test_csv_holds_every_scalar_point_bit_equal_to_the_scalars_read(server: LiveServer, finished: dict) -> None:
    response = server.get(f"/api/jobs/{finished['id']}/export", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="trainscope-{finished["id"]}.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["run"] for row in rows} == {'moons, "first" try'}
    for tag in ("train/loss", "val/loss", "val/acc", "lr"):
        series = server.get(f"/api/jobs/{finished['id']}/scalars", tag=tag, max_points=1000).json()
        exported = [row for row in rows if row["tag"] == tag]
        assert [int(row["step"]) for row in exported] == series["steps"], tag
        assert [float(row["value"]) for row in exported] == series["values"], tag  # exactly, not approximately
    assert len([row for row in rows if row["tag"] == "train/loss"]) == 300  # every step, not a thinned curve
    assert all(float(row["wall"]) > 1e9 for row in rows)
    system = [e for e in server.stored_events(finished["id"]) if e["type"] == "system"]
    throughput = [(int(row["step"]), float(row["value"])) for row in rows if row["tag"] == "system/samples_per_s"]
    assert throughput and throughput == [(e["step"], e["samples_per_s"]) for e in system if "samples_per_s" in e]
    assert any(row["tag"] == "system/memory_peak_mb" and float(row["value"]) > 10 for row in rows)


def test_jsonl_is_every_stored_event_in_seq_order(server: LiveServer, finished: dict) -> None:
    response = server.get(f"/api/jobs/{finished['id']}/export", format="jsonl")
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [event["seq"] for event in lines] == list(range(1, finished["last_seq"] + 1))
    assert lines == server.stored_events(finished["id"])
    assert lines[-1]["type"] == "status" and lines[-1]["status"] == "done"


def test_a_bad_format_or_an_unknown_job_is_refused(server: LiveServer, finished: dict) -> None:
    response = server.get(f"/api/jobs/{finished['id']}/export", format="xml")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "format"]
    assert server.get("/api/jobs/nosuchjob/export").status_code == 404


def test_a_tensorboard_log_directory_reads_back_exactly_in_tensorboards_own_reader(
    server: LiveServer, tmp_path: Path
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    spec = {**SPEC, "probes": {"histogram_every": 100, "embedding_every": 100, "min_interval_s": 0}}
    job = server.submit(spec)
    server.wait_status(job["id"], {"done"})
    response = server.get(f"/api/jobs/{job['id']}/export", format="tensorboard")
    assert response.headers["content-type"] == "application/gzip"
    assert f'filename="trainscope-{job["id"]}.tensorboard.tar.gz"' in response.headers["content-disposition"]
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        tar.extractall(tmp_path, filter="data")
    logdir = tmp_path / job["id"]
    reader = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    reader.Reload()
    stored = server.stored_events(job["id"])

    scalar_tags = [
        tag for tag in reader.Tags()["tensors"] if reader.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
    ]
    assert {"train/loss", "val/loss", "val/acc", "lr", "system/samples_per_s", "system/memory_peak_mb"} <= set(
        scalar_tags
    )
    for tag in scalar_tags:
        read = [(t.step, make_ndarray(t.tensor_proto).item()) for t in reader.Tensors(tag)]
        if tag.startswith("system/"):
            field = tag.removeprefix("system/")
            expected = [(e["step"], e[field]) for e in stored if e["type"] == "system" and e.get(field) is not None]
        else:
            series = server.get(f"/api/jobs/{job['id']}/scalars", tag=tag, max_points=10_000).json()
            expected = list(zip(series["steps"], series["values"], strict=True))
        assert read == expected, tag  # every point, bit for bit (float64 in, float64 out)
    device = reader.Tensors("system/device")[0].tensor_proto.string_val[0].decode()
    assert device == next(e["device"] for e in stored if e["type"] == "system")

    histograms = [e for e in stored if e["type"] == "histogram"]
    assert histograms and set(reader.Tags()["histograms"]) == {e["tag"] for e in histograms}
    for event in histograms:
        read = next(h for h in reader.Histograms(event["tag"]) if h.step == event["step"]).histogram_value
        assert (read.min, read.max) == (event["min"], event["max"])
        assert list(read.bucket) == event["counts"] and read.num == sum(event["counts"])
    assert {"spec", "_hparams_/session_start_info"} <= set(reader.Tags()["tensors"])  # the spec as text and hparams
    text = reader.Tensors("spec")[0].tensor_proto.string_val[0].decode()
    assert json.loads(text.strip("`\n")) == server.job(job["id"])["spec"]
    assert (logdir / "projector_config.pbtxt").read_text().count("embedding.tsv") == 1
    embedding = [e for e in stored if e["type"] == "embedding"][-1]
    assert embedding["step"] == SPEC["optim"]["steps"] and embedding["width"] == 8  # the last hidden layer
    vectors = np.frombuffer(base64.b64decode(embedding["vectors"]), "<f4").reshape(embedding["n"], embedding["width"])
    assert np.array_equal(np.loadtxt(logdir / "embedding.tsv", dtype=np.float32), vectors)  # its raw activations
    header, *rows = [line.split("\t") for line in (logdir / "labels.tsv").read_text().splitlines()]
    assert header == ["label", "split"]  # with more than one column, TensorBoard's header line
    splits = embedding["columns"]["split"]
    assert rows == [[str(label), split] for label, split in zip(embedding["labels"], splits, strict=True)]
    assert rows[0][1] == "validation" and rows[-1][1] == "training"
    earlier = [e for e in stored if e["type"] == "embedding"][:-1]
    assert earlier and all(e.get("vectors") is None for e in earlier)  # a classifier's layer: with the last only


def test_a_group_exports_as_one_file_each_run_named_by_its_label(server: LiveServer, tmp_path: Path) -> None:
    group = server.post(
        "/api/groups",
        {"base": {**SPEC, "optim": {"steps": 60, "eval_every": 20}}, "grid": {"model.activation": ["relu", "tanh"]}},
    ).json()
    server.wait_group(group["id"])
    rows = list(csv.DictReader(io.StringIO(server.get(f"/api/groups/{group['id']}/export", format="csv").text)))
    assert {row["run"] for row in rows} == {"activation=relu", "activation=tanh"}
    assert len([row for row in rows if row["tag"] == "train/loss"]) == 2 * 60
    lines = server.get(f"/api/groups/{group['id']}/export", format="jsonl").text.splitlines()
    assert {json.loads(line)["run"] for line in lines} == {"activation=relu", "activation=tanh"}
    archive = server.get(f"/api/groups/{group['id']}/export", format="tensorboard")
    with tarfile.open(fileobj=io.BytesIO(archive.content)) as tar:
        folders = {Path(name).parts[1] for name in tar.getnames() if ".tfevents." in name}
    assert folders == {"01_activation=relu", "02_activation=tanh"}  # TensorBoard: a run per folder
    assert server.get("/api/groups/nosuchgroup/export").status_code == 404
