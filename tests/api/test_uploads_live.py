"""A user's own CSV against a live server: uploaded, listed, trained on by a job, a group and a lesson,
drawn before a run, deleted; every bad file a 422 that names its line and column."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.live import LiveServer
from trainscope.config import Limits


def moons_csv(n: int = 240) -> bytes:
    """Two interleaved half-moons, as a person would export them: a header, then x, y, label."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=0.1, random_state=3)
    lines = ["x,y,label", *(f"{a:.5f},{b:.5f},{label}" for (a, b), label in zip(x, y, strict=True))]
    return ("\n".join(lines) + "\n").encode()


def upload(server: LiveServer, data: bytes, **params: Any) -> httpx.Response:
    headers = {"Content-Type": "text/csv"}
    return httpx.post(server.url + "/api/datasets", content=data, params=params, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def moons(server: LiveServer) -> dict[str, Any]:
    response = upload(server, moons_csv(), name="my moons.csv")
    assert response.status_code == 201, response.text
    table: dict[str, Any] = response.json()
    return table


def uploaded(table: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "uploaded", "dataset": table["id"], "val_fraction": 0.25}


def test_an_upload_is_described_listed_and_read_back(server: LiveServer, moons: dict[str, Any]) -> None:
    assert {k: moons[k] for k in ("name", "n_rows", "columns", "label", "target", "classes")} == {
        "name": "my moons.csv",
        "n_rows": 240,
        "columns": ["x", "y"],
        "label": "label",
        "target": "class",
        "classes": [0.0, 1.0],
    }
    assert moons["size_bytes"] == len(moons_csv())
    assert moons["id"] in [d["id"] for d in server.get("/api/datasets").json()["datasets"]]
    assert server.get(f"/api/datasets/{moons['id']}").json() == moons


def test_a_job_trains_on_the_table_and_draws_its_boundary_where_the_preview_drew_its_points(
    server: LiveServer, moons: dict[str, Any]
) -> None:
    preview = server.post("/api/datasets/preview", {"data": uploaded(moons), "seed": 4})
    assert preview.status_code == 200, preview.text
    job = server.submit(
        {"seed": 4, "data": uploaded(moons), "model": {"hidden": [16, 16]}, "optim": {"steps": 400, "lr": 0.03}}
    )
    done = server.wait_status(job["id"], {"done", "failed"})
    assert done["status"] == "done", done["message"]
    assert done["summary"]["val/acc"] > 0.9
    data = done["spec"]["data"]  # what the table holds, filled in by the server
    assert (data["n_rows"], data["n_features"], data["n_classes"]) == (240, 2, 2)
    assert job["id"] in [j["id"] for j in server.get("/api/jobs", dataset="uploaded").json()["jobs"]]
    events = server.stored_events(job["id"])
    dataset = next(e for e in events if e["type"] == "dataset")
    assert dataset["train"] == preview.json()["train"] and dataset["val"] == preview.json()["val"]
    assert next(e for e in events if e["type"] == "boundary")["output"] == "p_class1"


def test_a_group_and_a_lesson_run_on_the_table(server: LiveServer, moons: dict[str, Any]) -> None:
    body = {"base": {"data": uploaded(moons), "optim": {"steps": 60}}, "grid": {"optim.lr": [0.01, 0.1]}}
    group = server.post("/api/groups", body)
    assert group.status_code == 201, group.text
    lesson = server.post("/api/lessons/nonlinearity/run", {"overrides": {"data": uploaded(moons), "optim.steps": 60}})
    assert lesson.status_code == 201, lesson.text
    for made in (group.json(), lesson.json()):
        finished = server.wait_group(made["id"])
        assert [run["job"]["status"] for run in finished["runs"]] == ["done"] * len(finished["runs"])
        assert {run["job"]["spec"]["data"]["dataset"] for run in finished["runs"]} == {moons["id"]}


def test_a_bad_file_is_refused_naming_the_line_and_column(server: LiveServer) -> None:
    response = upload(server, b"x,y,label\n1,2,0\n3,4,1\n5,oops,0\n7,8,1\n", name="bad")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", 4, "y"] and error["msg"] == "line 4, column 'y': 'oops' is not a number"
    assert error["ctx"] == {"line": 4, "column": "y", "value": "oops"}
    missing = upload(server, moons_csv(), name="t", label="species")
    assert [d["loc"] for d in missing.json()["detail"]] == [["query", "label"]]
    assert [d["loc"] for d in upload(server, moons_csv()).json()["detail"]] == [["query", "name"]]


def test_a_file_too_large_is_413_and_a_form_upload_is_415_before_anything_is_stored(server: LiveServer) -> None:
    before = server.get("/api/datasets").json()["count"]
    too_large = upload(server, b"x,y\n" + b"1,0\n" * (Limits().max_upload_bytes // 4), name="big")
    assert too_large.status_code == 413 and str(Limits().max_upload_bytes) in too_large.json()["detail"]
    form = httpx.post(server.url + "/api/datasets?name=f", files={"file": ("t.csv", moons_csv())}, timeout=10)
    assert form.status_code == 415 and "Content-Type: text/csv" in form.json()["detail"]
    assert server.get("/api/datasets").json()["count"] == before


def test_a_deleted_table_is_gone_for_new_jobs_and_previews(server: LiveServer) -> None:
    table = upload(server, moons_csv(40), name="short-lived").json()
    assert server.delete(f"/api/datasets/{table['id']}").status_code == 204
    assert server.get(f"/api/datasets/{table['id']}").status_code == 404
    assert server.delete(f"/api/datasets/{table['id']}").status_code == 404
    for path, body in (("/api/jobs", {"data": uploaded(table)}), ("/api/datasets/preview", {"data": uploaded(table)})):
        response = server.post(path, body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "data", "dataset"]
        assert response.json()["detail"][0]["type"] == "unknown_dataset"


def test_the_tables_limits_apply_to_jobs_on_it(server: LiveServer) -> None:
    values = np.random.default_rng(0).normal(size=(30, 5))
    table = b"a,b,c,d,target\n" + b"".join(b"%f,%f,%f,%f,%f\n" % tuple(row) for row in values)
    stored = upload(server, table, name="regression").json()
    assert (stored["target"], stored["columns"]) == ("value", ["a", "b", "c", "d"])
    response = server.post("/api/jobs", {"data": uploaded(stored), "optim": {"batch_size": 100}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "optim", "batch_size"]  # 22 training rows
    response = server.post(
        "/api/jobs", {"data": uploaded(stored), "optim": {"batch_size": 8}, "probes": {"query_points": [[0, 0]]}}
    )
    assert {d["type"] for d in response.json()["detail"]} == {"only_2d", "only_classification"}
    server.delete(f"/api/datasets/{stored['id']}")


def test_class_names_become_classes_a_job_learns(server: LiveServer) -> None:
    rng = np.random.default_rng(5)
    rows = [
        (rng.normal(centre, 0.3), rng.normal(-centre, 0.3), name)
        for centre, name in [(-1, "setosa"), (1, "virginica")]
        for _ in range(40)
    ]
    table = upload(
        server, b"a,b,species\n" + b"".join(b"%f,%f,%s\n" % (x, y, n.encode()) for x, y, n in rows), name="names"
    )
    assert table.status_code == 201, table.text
    assert (table.json()["classes"], table.json()["target"]) == (["setosa", "virginica"], "class")
    job = server.submit({"data": uploaded(table.json()), "optim": {"steps": 150, "batch_size": 16}})
    done = server.wait_status(job["id"], {"done", "failed"})
    assert done["status"] == "done" and done["summary"]["val/acc"] > 0.9
    server.delete(f"/api/datasets/{table.json()['id']}")


@pytest.fixture
def three_tables_server(tmp_path: Path) -> Iterator[LiveServer]:
    env = {"TRAINSCOPE_LIMITS__MAX_DATASETS": "3", "TRAINSCOPE_UPLOAD_SLOTS": "1", "TRAINSCOPE_UPLOAD_QUEUE": "30"}
    live = LiveServer(tmp_path / "tables.db", workers=1, env=env).start()
    yield live
    live.stop(signal.SIGKILL)


def test_uploads_at_once_take_turns_and_never_pass_max_datasets(three_tables_server: LiveServer) -> None:
    server = three_tables_server
    assert upload(server, moons_csv(), name="first").status_code == 201
    with ThreadPoolExecutor(20) as pool:  # counted when stored, not when asked: 20 at once, 2 places left
        answers = list(pool.map(lambda i: upload(server, moons_csv(), name=f"t{i}"), range(20)))
    assert sorted(answer.status_code for answer in answers) == [201] * 2 + [507] * 18
    assert server.get("/api/datasets").json()["count"] == 3
    gone = server.get("/api/datasets").json()["datasets"][0]["id"]
    assert server.delete(f"/api/datasets/{gone}").status_code == 204
    assert server.delete(f"/api/datasets/{gone}").status_code == 404
    assert upload(server, moons_csv(), name="again").status_code == 201
