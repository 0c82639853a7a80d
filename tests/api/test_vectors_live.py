"""A skip-gram run through the live server, then its stored vectors asked: a word's neighbours and an
analogy at the newest and at an earlier snapshot, checked against the vectors the run streamed; unknown
words, missing vectors and bad queries answered with their reasons; a t-SNE of a snapshot on demand."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from tests.live import LiveServer
from trainscope.client import Client, Invalid
from trainscope.schemas.decode import floats

SPEC = {
    "data": {"kind": "corpus", "language": "en"},
    "model": {"kind": "skipgram", "dimension": 16},
    "optim": {"optimizer": "adam", "lr": 0.01, "batch_size": 256, "steps": 400},
    "probes": {"embedding_every": 100, "min_interval_s": 0},
    "seed": 3,
}


@pytest.fixture(scope="module")
def words_job(server: LiveServer) -> dict[str, Any]:
    job = server.submit(SPEC)
    assert server.wait_status(job["id"], {"done", "failed"})["status"] == "done"
    return job


def cosines(event: dict[str, Any], query: np.ndarray) -> dict[str, float]:
    vectors = floats(event["vectors"]).reshape(event["n"], event["width"])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return dict(zip(event["names"], unit @ (query / np.linalg.norm(query)), strict=True))


def unit_of(event: dict[str, Any], word: str) -> np.ndarray:
    vector = floats(event["vectors"]).reshape(event["n"], event["width"])[event["names"].index(word)]
    return vector / np.linalg.norm(vector)


def test_neighbours_and_analogies_are_answered_from_the_stored_vectors_at_any_step(
    server: LiveServer, words_job: dict[str, Any]
) -> None:
    snapshots = [e for e in server.stored_events(words_job["id"]) if e["type"] == "embedding"]
    assert [e["step"] for e in snapshots] == [1, 100, 200, 300, 400]

    answer = server.get(f"/api/jobs/{words_job['id']}/neighbours", of="man", top=5).json()
    assert answer["step"] == 400 and answer["tag"] == "embeddings" and answer["steps"] == [1, 100, 200, 300, 400]
    expected = cosines(snapshots[-1], unit_of(snapshots[-1], "man"))
    expected.pop("man")
    best = sorted(expected, key=lambda w: -expected[w])[:5]
    assert [n["name"] for n in answer["neighbours"]] == best
    assert [n["cosine"] for n in answer["neighbours"]] == pytest.approx([expected[w] for w in best], abs=1e-6)
    assert {n["label"] for n in answer["neighbours"][:3]} == {"people"}  # a person's nearest are people

    early = server.get(f"/api/jobs/{words_job['id']}/neighbours", of="man", step=150).json()
    assert early["step"] == 100  # the newest snapshot at or before the step asked
    at_100 = cosines(snapshots[1], unit_of(snapshots[1], "man"))
    assert early["neighbours"][0]["cosine"] == pytest.approx(max(c for w, c in at_100.items() if w != "man"))

    analogy = server.get(f"/api/jobs/{words_job['id']}/neighbours", of=["king", "woman"], minus=["man"], top=3).json()
    last = snapshots[-1]
    query = unit_of(last, "king") + unit_of(last, "woman") - unit_of(last, "man")
    expected = {w: c for w, c in cosines(last, query).items() if w not in ("king", "woman", "man")}
    assert analogy["neighbours"][0]["name"] == max(expected, key=expected.__getitem__)


def test_bad_queries_are_answered_with_their_reasons(server: LiveServer, words_job: dict[str, Any]) -> None:
    unknown = server.get(f"/api/jobs/{words_job['id']}/neighbours", of=["king", "<b>zebra</b>"])
    assert unknown.status_code == 422
    (error,) = unknown.json()["detail"]
    assert error["loc"] == ["query", "of", 1] and error["type"] == "unknown_point" and "<b>zebra</b>" in error["msg"]
    assert server.get(f"/api/jobs/{words_job['id']}/neighbours").status_code == 422  # `of` is required
    assert server.get(f"/api/jobs/{words_job['id']}/neighbours", of="man", top=0).status_code == 422
    assert server.get("/api/jobs/nope/neighbours", of="man").status_code == 404
    other_tap = server.get(f"/api/jobs/{words_job['id']}/neighbours", of="man", tag="hidden/0")
    assert other_tap.status_code == 404 and "no stored vectors of hidden/0" in other_tap.json()["detail"]


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_a_map_of_a_snapshot_is_made_on_demand(server: LiveServer, words_job: dict[str, Any], method: str) -> None:
    """t-SNE (scikit-learn's) or UMAP (umap-learn's, installed with the test set-up): the same picture twice."""
    url = f"{server.url}/api/jobs/{words_job['id']}/projection"
    # the first is slow on a loaded machine: a process of its own starts, imports, and numba compiles UMAP
    query = {"method": method, "step": 400, "perplexity": 10, "neighbours": 10}
    answer = httpx.get(url, params=query, timeout=240).json()
    last = [e for e in server.stored_events(words_job["id"]) if e["type"] == "embedding"][-1]
    points = np.array(answer["points"]).reshape(-1, 2)
    assert answer["method"] == method and answer["step"] == 400 and points.shape == (last["n"], 2)
    assert (answer["perplexity"], answer["neighbours"]) == ((10, None) if method == "tsne" else (None, 10))
    assert np.isfinite(points).all() and points.std(0).min() > 0  # spread out, not collapsed
    again = httpx.get(url, params=query, timeout=240).json()
    assert again["points"] == answer["points"]  # seeded by the job's seed
    assert server.get(f"/api/jobs/{words_job['id']}/projection", method="pca").status_code == 422
    assert "umap" in server.get("/api/meta").json()["projections"]


def test_the_client_asks_the_same_questions(server: LiveServer, words_job: dict[str, Any]) -> None:
    """Client.neighbours and Client.projection: the server's answers, typed; a bad word is its 422."""
    job_id = words_job["id"]
    with Client(server.url, timeout_s=240) as client:
        analogy = client.neighbours(job_id, ["king", "woman"], minus=["man"], top=3, step=300)
        raw = server.get(f"/api/jobs/{job_id}/neighbours", of=["king", "woman"], minus=["man"], top=3, step=300)
        assert analogy.model_dump(mode="json") == raw.json() and analogy.step == 300
        first = server.get(f"/api/jobs/{job_id}/neighbours", of="man").json()["neighbours"][0]["name"]
        assert client.neighbours(job_id, "man").neighbours[0].name == first
        picture = client.projection(job_id, "tsne", perplexity=10, step=400)
        query = {"method": "tsne", "perplexity": 10, "step": 400}
        assert (
            picture.points
            == httpx.get(f"{server.url}/api/jobs/{job_id}/projection", params=query, timeout=240).json()["points"]
        )
        with pytest.raises(Invalid) as refused:
            client.neighbours(job_id, ["king", "zebra"])
        assert refused.value.fields[0].field == "query.of.1" and "zebra" in refused.value.fields[0].reason
