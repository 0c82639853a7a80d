"""The lesson measurements against what they must find on hand-checkable cases."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tests.recorded import recorder
from trainscope.schemas import JobSpec
from trainscope.training.analyses import (
    bn_modes,
    chain_rule_gradients,
    gradient_check,
    gradient_variance,
    linear_collapse,
    query_points,
)
from trainscope.training.datasets import load_split
from trainscope.training.driver import fit
from trainscope.training.models import build_model

CPU = torch.device("cpu")


def setup(spec: dict[str, object]) -> tuple[object, object]:
    job = JobSpec.model_validate({"seed": 3, **spec})
    assert not isinstance(job.data, type(None))
    return build_model(job), load_split(job.data, job.seed, CPU)  # type: ignore[arg-type]


def test_gradient_check_agrees_with_autograd() -> None:
    model, split = setup({"data": {"kind": "digits"}, "model": {"hidden": [16, 16], "activation": "tanh"}})
    event = gradient_check(model, split, 0)  # type: ignore[arg-type]
    assert len(event.data.checks) == 3  # one weight per linear layer
    assert event.figures["max_relative_error"] < 1e-6


class TanhWithWrongBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.tanh(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * 2 * (1 - torch.tanh(x) ** 2)  # twice the true derivative


class WrongTanh(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = TanhWithWrongBackward.apply(x)
        return result


def test_gradient_check_catches_a_wrong_gradient() -> None:
    model, split = setup({"model": {"hidden": [4], "activation": "tanh"}})
    model.net[1] = WrongTanh()  # type: ignore[attr-defined,index]
    checks = gradient_check(model, split, 0).data.checks  # type: ignore[arg-type]
    assert checks[0].relative > 0.3  # below the activation, autograd is off by 2x
    assert checks[1].relative < 1e-6  # the read-out's gradient does not pass through it


def test_identity_net_collapses_to_one_affine_map() -> None:
    model, split = setup({"model": {"hidden": [5, 7], "activation": "identity"}})
    event = linear_collapse(model, split, 0)  # type: ignore[arg-type]
    assert event is not None
    assert event.figures["max_abs_diff"] < 1e-5
    assert event.figures["prediction_agreement"] == 1.0
    assert torch.tensor(event.data.weight).shape == (2, 2)  # classes x inputs
    tanh_model, _ = setup({"model": {"hidden": [5], "activation": "tanh"}})
    assert linear_collapse(tanh_model, split, 0) is None  # type: ignore[arg-type]


def test_batch_norm_single_examples_in_train_mode_ignore_their_input() -> None:
    model, split = setup({"data": {"kind": "digits"}, "model": {"hidden": [16], "batch_norm": True}})
    event = bn_modes(model, split, 0)  # type: ignore[arg-type]
    assert event is not None
    # a batch of one normalizes every unit to beta: one prediction for every example, ~1 class in 10 right
    assert event.figures["train_mode_single_acc"] < 0.2
    no_bn, _ = setup({"model": {"hidden": [4]}})
    assert bn_modes(no_bn, split, 0) is None  # type: ignore[arg-type]


def test_gradient_variance_falls_as_one_over_batch_size_and_to_zero_at_the_whole_set() -> None:
    model, split = setup({"data": {"kind": "digits"}, "model": {"hidden": [16]}})

    def variance(batch_size: int) -> float:
        return float(gradient_variance(model, split, batch_size, 0, seed=1).figures["variance"])  # type: ignore[arg-type]

    n = len(split.x_train)
    small, large, half = variance(4), variance(64), variance(n // 2)
    # (N-B)/(B(N-1)) in expectation: 16x from 4 to 64 before the finite-population factor; 64 draws each
    # leave some sampling error
    expected = (n - 4) / 4 / ((n - 64) / 64)
    assert expected / 2 < small / large < expected * 2
    # drawn without replacement as training draws: half the set has ~half the variance 1/B predicts
    assert 0.25 < half / (small * 4 / (n // 2)) < 0.75
    assert variance(n) < 1e-9 * small  # the whole set is the full batch


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "leaky_relu", "identity"])
@pytest.mark.parametrize("bias", [True, False])
def test_the_chain_rule_written_out_equals_autograd_for_every_weight(activation: str, bias: bool) -> None:
    model, split = setup(
        {
            "data": {"kind": "digits"},
            "model": {"hidden": [16, 8], "activation": activation, "bias": bias, "leaky_slope": 0.3},
        }
    )
    twin = model.double()  # type: ignore[attr-defined]
    x, y = split.x_train[:50].double(), split.y_train[:50]  # type: ignore[attr-defined]
    torch.nn.functional.cross_entropy(twin(x), y).backward()
    with torch.no_grad():
        by_hand = chain_rule_gradients(twin, x, y)
    assert by_hand is not None
    for mine, layer in zip(by_hand, twin.linears(), strict=True):
        torch.testing.assert_close(mine, layer.weight.grad, rtol=1e-10, atol=1e-14)


def test_the_chain_rule_by_hand_catches_a_wrong_derivative_and_declines_what_it_does_not_write_out() -> None:
    model, split = setup({"model": {"hidden": [4], "activation": "tanh"}})
    model.net[1] = WrongTanh()  # type: ignore[attr-defined,index]
    assert chain_rule_gradients(model, split.x_train, split.y_train) is None  # type: ignore[arg-type,attr-defined]
    gelu, _ = setup({"model": {"hidden": [4], "activation": "gelu"}})
    assert "chain_rule_max_error" not in gradient_check(gelu, split, 0).figures  # type: ignore[arg-type]
    bn, _ = setup({"model": {"hidden": [4], "batch_norm": True}})
    assert chain_rule_gradients(bn, split.x_train, split.y_train) is None  # type: ignore[arg-type,attr-defined]


def test_query_points_are_exact_and_a_bias_free_net_gives_even_odds_at_the_origin() -> None:
    model, _ = setup({"data": {"offset": [2.0, 2.0]}, "model": {"hidden": [8], "bias": False, "activation": "relu"}})
    probs = query_points(model, [(0.0, 0.0), (1.0, 2.0)], 7).data.probs  # type: ignore[arg-type]
    assert probs[0] == [0.5, 0.5]  # every logit is exactly 0 there
    assert probs[1] != [0.5, 0.5]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_lesson_measurements_run_on_cuda() -> None:
    job = JobSpec.model_validate({"data": {"kind": "digits"}, "model": {"hidden": [16, 8], "activation": "tanh"}})
    cuda = torch.device("cuda")
    model, split = build_model(job).to(cuda), load_split(job.data, 0, cuda)  # type: ignore[arg-type]
    figures = gradient_check(model, split, 0).figures
    assert figures["max_relative_error"] < 1e-6 and figures["chain_rule_max_error"] < 1e-12
    points = JobSpec.model_validate({"model": {"hidden": [4], "bias": False}})
    assert query_points(build_model(points).to(cuda), [(0.0, 0.0)], 0).data.probs == [[0.5, 0.5]]


def test_a_convolution_is_a_dense_layer_with_shared_mostly_zero_weights() -> None:
    spec = JobSpec.model_validate(
        {
            "data": {"kind": "digits"},
            "model": {"kind": "cnn2d", "conv": [{"channels": 4, "kernel": 3, "stride": 2, "padding": 1}]},
            "optim": {"steps": 30, "batch_size": 32},
            "probes": {"unroll_conv": True},
        }
    )
    events: list[dict[str, Any]] = []
    fit(spec, recorder(events))
    unrolled = next(e for e in events if e["type"] == "analysis" and e["name"] == "unrolled_convolution")
    figures = unrolled["figures"]
    assert figures["max_abs_diff"] < 1e-5  # the same outputs, to float32 rounding
    assert unrolled["data"]["shape"] == [4 * 4 * 4, 64]  # 4 channels of 4x4 (stride 2) from 64 pixels
    assert figures["conv_parameters"] == 3 * 3 * 4 + 4
    assert figures["dense_parameters"] == 64 * 64 + 64
    assert figures["zero_fraction"] > 0.8  # each output sees a 3x3 patch of the 8x8 image


def test_a_sequence_convolution_is_a_dense_layer_too() -> None:
    conv = [{"channels": 3, "kernel": 5, "stride": 2, "padding": 1, "pool": "none"}]
    spec = JobSpec.model_validate(
        {
            "data": {"kind": "mnist1d", "samples": 300},
            "model": {"kind": "cnn1d", "conv": conv},
            "optim": {"steps": 20, "batch_size": 32},
            "probes": {"unroll_conv": True},
        }
    )
    events: list[dict[str, Any]] = []
    fit(spec, recorder(events))
    unrolled = next(e for e in events if e["type"] == "analysis" and e["name"] == "unrolled_convolution")
    figures = unrolled["figures"]
    assert figures["max_abs_diff"] < 1e-5
    assert unrolled["data"]["shape"] == [3 * 19, 40]  # 3 channels of 19 positions from 40
    assert figures["conv_parameters"] == 5 * 1 * 3 + 3
    assert figures["zero_fraction"] > 0.8  # each output reads 5 of the 40 positions
