"""Probes against references: histogram counts vs numpy.histogram; hooks only on sampling steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainscope.schemas import JobSpec
from trainscope.training.models import build_model
from trainscope.training.probes import ActivationHistograms, histogram


@pytest.mark.parametrize("bins", [2, 7, 30, 100])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_histogram_counts_equal_numpy(bins: int, seed: int) -> None:
    values = torch.randn(64, 33, generator=torch.Generator().manual_seed(seed)) * 3 + 1
    row = histogram(values, bins).tolist()
    lo, hi, counts = row[0], row[1], row[2:]
    expected, _edges = np.histogram(values.numpy().astype(np.float64), bins=bins, range=(lo, hi))
    assert (lo, hi) == (values.min().item(), values.max().item())
    assert counts == expected.tolist()
    assert sum(counts) == values.numel()


def test_histogram_of_a_constant_matches_numpy_widening() -> None:
    values = torch.zeros(50)  # e.g. a dead ReLU layer
    row = histogram(values, 10).tolist()
    expected, edges = np.histogram(values.numpy(), bins=10)
    assert (row[0], row[1]) == (edges[0], edges[-1]) == (-0.5, 0.5)
    assert row[2:] == expected.tolist()


def test_histogram_on_known_values() -> None:
    row = histogram(torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0]), 2).tolist()
    assert row == [0.0, 1.0, 2.0, 3.0]  # 0.5 opens the upper bin; the maximum closes it


def test_hooks_are_armed_only_for_sampling_steps() -> None:
    spec = JobSpec.model_validate({"model": {"hidden": [4, 4, 4]}})
    model = build_model(spec)
    probe = ActivationHistograms(list(model.activations), model.layer_names(), every=10, bins=5)
    assert [s for s in range(1, 31) if probe.wants(s)] == [1, 10, 20, 30]
    events: list[dict[str, object]] = []
    probe.arm()
    model(torch.randn(8, 2))
    probe.disarm_and_emit(10, events.append)
    assert [e["tag"] for e in events] == ["act/layer1", "act/layer2", "act/layer3"]
    assert all(sum(e["counts"]) == 8 * 4 for e in events)  # type: ignore[arg-type]
    assert all(not m._forward_hooks for m in model.activations)
    model(torch.randn(8, 2))
    probe.disarm_and_emit(11, events.append)
    assert len(events) == 3  # nothing captured while disarmed
