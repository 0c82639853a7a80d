"""Every lesson in the catalogue, run through the real job path (POST /api/lessons/{id}/run on a live
server with real workers and SQLite), with its observation judged by the server.

The presets are already CI-sized (fixed seeds, digits or small 2-D data, at most a few hundred steps; each
lesson takes ~1-5 s in-process on a 2-core machine), so they run unchanged. The figures asserted below
were measured on those presets (the measured value is in each comment); each lesson is then judged again
with its roles swapped or a threshold past what was measured, to show its check can say "did not hold".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.live import LiveServer
from trainscope.jobs.groups import read_group
from trainscope.lessons.catalog import load_catalog
from trainscope.lessons.checks import evaluate
from trainscope.lessons.evidence import gather
from trainscope.store.sql import SqlStore

Figures = dict[str, float]

EXPECTED: dict[str, tuple[Callable[[Figures], bool], dict[str, Any]]] = {
    # (what the figures must show, params under which the same runs must NOT pass)
    "activations": (
        # sigmoid ratio 1.2e-5 vs relu 1.23 (tanh 2.04); relu reaches loss 1.5 at step 74, sigmoid never (-1)
        lambda f: (
            f["sigmoid first/last gradient ratio"] < 1e-3 < f["relu first/last gradient ratio"]
            and f["sigmoid steps to loss 1.5"] == -1
        ),
        {"slow": "relu", "fast": "sigmoid"},
    ),
    "dying-relu": (
        lambda f: f["relu dead fraction"] > 0.4 and f["leaky_relu dead fraction"] < 0.3,  # 0.57 vs 0.21
        {"relu": "leaky_relu", "leaky": "relu"},
    ),
    "nonlinearity": (
        # collapse exact to float32 rounding (~1e-8); straightness 1.0 vs 0.0002; accuracy 0.69 vs 0.98
        lambda f: f["collapsed vs network, max |difference|"] < 1e-5 and f["tanh validation accuracy"] > 0.95,
        {"min_accuracy": 0.999},
    ),
    "bias": (
        lambda f: abs(f["without bias: P(class 1) at the origin"] - 0.5) < 0.01,  # 0.504; accuracy 0.99 vs 0.48
        {"with_bias": "without bias", "without_bias": "with bias"},
    ),
    "learning-rate": (
        lambda f: f["lr 2 diverged"] == 1.0 and f["lr 0.002 final loss"] > 30 * f["best final loss"],  # 6.27 vs 0.094
        {"slow_factor": 100},
    ),
    "backprop": (lambda f: f["largest relative error"] < 1e-7, {"max_relative_error": 1e-12}),  # 5.4e-10
    "generalization": (
        # lowest val loss 0.39 at step 40, final 0.56; chosen run: test 0.856, fresh held-out 0.815
        lambda f: (
            f["early-stopping step (lowest validation loss)"] < 200
            and f["chosen run's test accuracy (what selection reports)"]
            > f["chosen run's fresh held-out accuracy (what it really does)"] + 0.02
        ),
        {"overfit": "1000 examples"},
    ),
    "regularization": (
        # gaps: none 0.56, dropout 0.52, weight decay 0.34; layer-1 weight std 0.098 vs 0.038 with decay
        lambda f: f["weight decay 0.01 weight/layer1 spread (std)"] < 0.5 * f["none weight/layer1 spread (std)"],
        {"plain": "weight decay 0.01", "regularized": ["none", "dropout 0.5"]},
    ),
    "batchnorm": (
        # loss 1.0 at step 28 with BN, never without; single-example train mode 0.12 vs eval 0.97
        lambda f: f["train mode, one example at a time, accuracy"] < 0.2 < 0.9 < f["eval mode accuracy"],
        {"mode_gap": 0.9},
    ),
    "optimizers": (
        # steps to 0.5: sgd never, momentum 85, rmsprop 51, adam 70; race final losses 2.8 / 6e-5 / 0.065 / 3e-4
        # Beale: sgd 0.087, the others below 1e-4
        lambda f: (
            f["adam steps to loss 0.5"] > 0
            and f["Race on the Rosenbrock function: adam final loss"] < 0.01
            and f["Race on the Beale function: adam final loss"] < 1e-4
        ),
        {"loss_threshold": 1e-4},
    ),
    "batch-size": (
        # variance 2.05 / 0.063 / 0.0020 at B = 1 / 32 / 1024: drop/growth 1.02 and 0.99
        lambda f: 0.7 < f["B=1->32: variance drop / batch growth"] < 1.4,
        {"tolerance": 1.01},
    ),
}


def test_every_lesson_is_covered() -> None:
    assert set(EXPECTED) == set(load_catalog())


@pytest.mark.parametrize("lesson_id", list(EXPECTED))
def test_lesson_observation_holds_on_its_preset(server: LiveServer, lesson_id: str) -> None:
    response = server.post(f"/api/lessons/{lesson_id}/run", {})
    assert response.status_code == 201, response.text
    group = server.wait_group(response.json()["id"], timeout=240)
    assert group["lesson"] == lesson_id
    verdict = group["verdict"]
    assert verdict["held"] is True, verdict
    shows, failing_params = EXPECTED[lesson_id]
    assert shows(verdict["figures"]), verdict["figures"]
    # every figure is named in Korean as well (the page's language toggle shows these)
    assert set(verdict["names_ko"]) == set(verdict["figures"])
    assert all(ko != en for en, ko in verdict["names_ko"].items())

    # the same stored runs, judged with roles swapped or a threshold past the measurement: not held
    lesson = load_catalog()[lesson_id]
    store = SqlStore(f"sqlite:///{server.database}")
    try:
        record = store.get_group(group["id"])
        assert record is not None
        params = {**lesson.observation.params, **failing_params}
        runs = read_group(store, record).runs
        assert evaluate(lesson.observation.check, gather(store, runs), params).held is False
    finally:
        store.close()
