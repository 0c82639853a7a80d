"""The whole CNN written out as an MLP of Linear and ReLU layers: the same outputs, far more parameters."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from trainscope.schemas import JobSpec
from trainscope.schemas.events import UnrolledNetworkEvent
from trainscope.training.datasets import load_split
from trainscope.training.models import build_model
from trainscope.training.unrolled import as_mlp, unrolled_network

CPU = torch.device("cpu")


def unrolled(spec: dict[str, Any]) -> tuple[UnrolledNetworkEvent | None, nn.Module, Any]:
    job = JobSpec.model_validate({"seed": 3, **spec})
    model, split = build_model(job), load_split(job.data, job.seed, CPU)  # type: ignore[arg-type]
    return unrolled_network(model, split, 0), model, split


@pytest.mark.parametrize(
    "spec",
    [
        # the lesson's CNN: three convolutions, each max pooled, on 16x16 images
        {
            "data": {"kind": "digits", "canvas": 16, "shift": 4},
            "model": {
                "kind": "cnn2d",
                "conv": [{"channels": 8}, {"channels": 16}, {"channels": 16}],
                "hidden": [32],
                "activation": "relu",
            },
        },
        # sequences, odd lengths (pooling drops the last position), batch norm in eval mode, average pooling
        {
            "data": {"kind": "mnist1d", "samples": 300},
            "model": {
                "kind": "cnn1d",
                "conv": [{"channels": 3, "kernel": 5}, {"channels": 4, "pool": "avg"}, {"channels": 4}],
                "batch_norm": True,
                "activation": "relu",
            },
        },
        # no ReLU before the pooling: its inputs take both signs, so max(a, b) needs b's negative part too
        {"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "conv": [{"channels": 4}], "activation": "identity"}},
    ],
)
def test_a_cnn_is_an_mlp_with_the_same_outputs(spec: dict[str, Any]) -> None:
    event, model, split = unrolled(spec)
    assert event is not None
    figures = event.figures
    assert figures["max_abs_diff"] < 1e-6 * max(figures["largest_output"], 1.0)
    assert figures["mlp_parameters"] > 10 * figures["cnn_parameters"]
    assert figures["cnn_parameters"] == sum(p.numel() for p in model.parameters())
    widths = event.data.widths
    assert widths[0] == split.x_val.shape[1] and widths[-1] == 10


def test_the_written_out_network_has_only_linear_and_relu_layers() -> None:
    job = JobSpec.model_validate(
        {
            "data": {"kind": "digits"},
            "model": {"kind": "cnn2d", "conv": [{"channels": 4}, {"channels": 4}], "activation": "relu"},
        }
    )
    mlp = as_mlp(build_model(job), (1, 8, 8))
    assert mlp is not None
    kinds = [type(module) for module in mlp]
    assert set(kinds) == {nn.Linear, nn.ReLU}
    assert kinds[::2] == [nn.Linear] * len(kinds[::2]) and kinds[1::2] == [nn.ReLU] * len(kinds[1::2])
    # per convolution its ReLU and, for max pooling of 2x2 windows, two levels of pairwise maxes; then
    # the dense head's ReLUs
    assert len(kinds[1::2]) == 2 * (1 + 2) + len(job.model.hidden)


def test_a_cnn_with_another_activation_or_a_plain_mlp_is_not_written_out() -> None:
    tanh, _, _ = unrolled({"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "activation": "tanh"}})
    plain, _, _ = unrolled({"data": {"kind": "digits"}, "model": {"hidden": [8]}})
    assert tanh is None and plain is None
