"""The slow loader (training/loader.py): the same batches in the same order whatever the loader, a step
that waits when its batches load as slowly as it computes, and loaders working ahead that hide the wait."""

from __future__ import annotations

from typing import Any

from trainscope.schemas import JobSpec
from trainscope.training.driver import fit

BASE: dict[str, Any] = {
    "data": {"dataset": "spiral", "n_points": 2000},
    "model": {"hidden": [80, 80], "activation": "relu"},  # past the tiny path, which a loader never takes
    "optim": {"batch_size": 64, "steps": 120, "eval_every": 40},
}


def run(loader: dict[str, Any]) -> tuple[dict[str, float], list[float]]:
    losses: list[float] = []

    def keep(event: Any) -> None:
        if event.type == "scalars":
            losses.extend(point.values["train/loss"] for point in event.points)

    result = fit(JobSpec.model_validate({**BASE, "loader": loader}), keep)
    assert result.status == "done"
    return result.summary, losses


def test_a_slow_loader_makes_the_step_wait_and_threads_loading_ahead_hide_it_with_the_same_batches() -> None:
    _, ready = run({})
    slow, slow_losses = run({"delay": 1.0})
    ahead, ahead_losses = run({"delay": 1.0, "prefetch": 2})
    assert slow_losses == ready and ahead_losses == ready  # the same batches, in the same order
    # shares of each run's own step time: the delay is a multiple of that run's compute, so load moves
    # both sides alike (an oversleep only adds to the wait)
    assert slow["loader/typical_wait_share"] > 0.3
    assert ahead["loader/typical_wait_share"] < slow["loader/typical_wait_share"] / 2
    assert slow["loader/wait_ms"] > 0 and slow["loader/compute_ms"] > 0  # reported as the run goes


def test_a_run_that_diverges_still_says_how_long_it_waited_for_data() -> None:
    spec = JobSpec.model_validate({**BASE, "loader": {"delay": 1.0}, "optim": {**BASE["optim"], "lr": 1e4}})
    result = fit(spec, lambda event: None)
    assert result.status == "diverged"
    assert result.summary["loader/wait_share"] > 0 and "loader/typical_wait_share" in result.summary
