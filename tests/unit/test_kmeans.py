"""The k-means kind: Lloyd's iterations against scikit-learn's from the same starting centres, stepped by
the driver with no optimizer, and the elbow of the designed blobs."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans

from tests.recorded import recorder
from trainscope.schemas import JobSpec
from trainscope.training.control import EmitPolicy, NoControl
from trainscope.training.driver import Driver, fit
from trainscope.training.tasks.kmeans import KMeansTask


def kmeans(data: dict[str, Any], k: int, steps: int = 50, **model: Any) -> JobSpec:
    return JobSpec.model_validate(
        {"data": data, "model": {"kind": "kmeans", "k": k, **model}, "optim": {"steps": steps}}
    )


@pytest.mark.parametrize(
    ("data", "k", "init"),
    [({"kind": "blobs", "centers": 5, "spread": 0.6}, 5, "kmeans++"), ({"kind": "digits"}, 10, "random")],
)
def test_lloyds_iterations_reach_scikit_learns_inertia_from_the_same_start(
    data: dict[str, Any], k: int, init: str
) -> None:
    run = Driver(kmeans(data, k, seeding=init), lambda event: None, NoControl(), EmitPolicy(max_steps=1000))
    task = run.task
    assert isinstance(task, KMeansTask) and run.optimizer is None  # no gradient: the driver has no optimizer
    start = task.model.centres.clone().numpy()
    result = run.run()
    points = task.split.x_train.numpy().astype(np.float64)
    reference = KMeans(k, init=start.astype(np.float64), n_init=1, max_iter=50, tol=0, algorithm="lloyd").fit(points)
    assert result.summary["inertia"] == pytest.approx(reference.inertia_, rel=0.01)
    found = task.model.centres.numpy()
    assert np.abs(np.sort(found, axis=0) - np.sort(reference.cluster_centers_, axis=0)).max() < 1e-3


def test_a_centre_moves_to_the_mean_of_its_points_and_the_path_is_reported_each_step() -> None:
    events: list[dict[str, Any]] = []
    spec = kmeans({"kind": "blobs", "centers": 3}, 3, steps=5)
    run = Driver(spec, recorder(events), NoControl(), EmitPolicy())
    task = run.task
    assert isinstance(task, KMeansTask)
    points = task.split.x_train
    before = task.model.centres.clone()
    row = run.train_step(1, last=False).tolist()  # the loss, then each centre's x and y before the step
    assert row[1:] == pytest.approx(before.reshape(-1).tolist())
    assignment = torch.cdist(points.double(), before.double()).argmin(1)
    means = torch.stack([points[assignment == i].mean(0) for i in range(3)])
    torch.testing.assert_close(task.model.centres, means)
    result = fit(spec, recorder(events))
    tags = {tag for e in events if e["type"] == "scalars" for p in e["points"] for tag in p["values"]}
    assert {f"centroid/{i}/{axis}" for i in range(3) for axis in "xy"} <= tags and "lr" not in tags
    assert result.status == "done" and "dataset" in {e["type"] for e in events}


def test_the_designed_blobs_have_their_elbow_at_their_count() -> None:
    inertia = [
        fit(kmeans({"kind": "blobs", "centers": 4}, k, steps=30), lambda event: None).summary["inertia"]
        for k in range(1, 7)
    ]
    drops = [before / after for before, after in itertools.pairwise(inertia)]
    assert drops.index(max(drops)) == 2  # from 3 centres to 4: the largest fall
    assert max(drops[3:]) < 1.3  # past 4, a centre more barely helps


def test_on_digits_the_centres_are_shown_as_images_beside_examples() -> None:
    spec = kmeans({"kind": "digits"}, 10, steps=5)
    spec.probes.min_interval_s = 0
    events: list[dict[str, Any]] = []
    fit(spec, recorder(events))
    pictures = {e["tag"]: e for e in events if e["type"] == "images"}
    assert set(pictures) == {"inputs", "centroids"}
    assert (pictures["centroids"]["n"], pictures["centroids"]["height"], pictures["centroids"]["width"]) == (10, 8, 8)
    assert not any(
        "centroid/" in tag for e in events if e["type"] == "scalars" for p in e["points"] for tag in p["values"]
    )


def test_greedy_seeding_starts_one_centre_in_each_designed_blob_on_every_seed() -> None:
    """scikit-learn's greedy k-means++ (2 + log k candidates a centre, the best kept): with one draw a
    centre, seed 5 started two centres in one blob and Lloyd's iterations never left that minimum."""
    for seed in range(15):
        task = KMeansTask(kmeans({"kind": "blobs"}, 4).model_copy(update={"seed": seed}), torch.device("cpu"))
        designed = torch.tensor(task.spec.data.centre_points())  # type: ignore[union-attr]
        _, blob = torch.cdist(task.model.centres, designed).min(1)
        assert sorted(blob.tolist()) == [0, 1, 2, 3], seed
