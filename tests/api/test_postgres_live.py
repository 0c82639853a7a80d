"""The live API once more with PostgreSQL as the store (TRAINSCOPE_DATABASE_URL=postgresql+psycopg://…):
a job's whole life read back through REST, the websocket and an export, the runs list, deletion, an
uploaded table trained on, and a lesson judged from the evidence PostgreSQL holds."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer
from tests.pg import PostgresServer
from trainscope.client import Client

SPEC = {"data": {"dataset": "xor", "n_points": 200}, "optim": {"steps": 300, "eval_every": 50}, "pace": 2000}


@pytest.fixture(scope="module")
def pg_server(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"TRAINSCOPE_DATABASE_URL": postgres.new_database()}
    live = LiveServer(Path(tmp_path_factory.mktemp("pg")) / "unused.db", workers=2, env=env).start()
    yield live
    live.stop()


def test_a_jobs_life_on_postgresql(pg_server: LiveServer) -> None:
    assert not pg_server.database.exists()  # nothing went to a SQLite file
    with Client(pg_server.url) as client:
        job = client.submit(SPEC)
        followed = list(client.follow(job.id, raw=True))  # live events, then from the store on a second look
        assert [event["seq"] for event in followed] == list(range(1, client.job(job.id).last_seq + 1))
        assert followed == pg_server.stored_events(job.id)
        losses = client.scalars(job.id, "train/loss", max_points=1000)
        assert len(losses.steps) == 300
    rows = list(csv.DictReader(io.StringIO(pg_server.get(f"/api/jobs/{job.id}/export", format="csv").text)))
    assert [float(row["value"]) for row in rows if row["tag"] == "train/loss"] == losses.values
    assert httpx.patch(f"{pg_server.url}/api/jobs/{job.id}", json={"name": "xor on pg"}).status_code == 200
    listed = pg_server.get("/api/jobs", dataset="xor", status="done").json()
    assert listed["total"] >= 1 and listed["jobs"][0]["name"] == "xor on pg"
    assert pg_server.delete(f"/api/jobs/{job.id}").status_code == 204
    assert pg_server.get(f"/api/jobs/{job.id}").status_code == 404


def test_a_lesson_is_judged_from_postgresql(pg_server: LiveServer) -> None:
    response = pg_server.post("/api/lessons/bias/run", {})
    assert response.status_code == 201, response.text
    group = pg_server.wait_group(response.json()["id"])
    assert group["verdict"]["held"] is True


def test_an_uploaded_table_round_trips_through_postgresql_and_trains(pg_server: LiveServer) -> None:
    lines = ["a,b,label", *(f"{i / 10},{(i * 7) % 11 / 10},{int(i % 2)}" for i in range(80))]
    with Client(pg_server.url) as client:
        table = client.upload_dataset("\n".join(lines).encode(), name="parity on pg")
        assert [t.id for t in client.datasets()] == [table.id]
        job = client.wait(client.submit({"data": {"kind": "uploaded", "dataset": table.id}, "optim": {"steps": 50}}).id)
        assert job.status.value == "done"
        client.delete_dataset(table.id)
        assert client.datasets() == []
