from __future__ import annotations

import math

import pytest
import torch

from trainscope.schemas import JobSpec
from trainscope.training.models import build_model, make_optimizer, modes_differ


@pytest.mark.parametrize(
    "model",
    [
        {"hidden": [8, 8]},
        {"hidden": [16], "bias": False},
        {"hidden": [4, 5, 6], "batch_norm": True, "dropout": 0.2, "activation": "relu"},
    ],
)
@pytest.mark.parametrize(
    "data",
    [
        {"kind": "points2d"},
        {"kind": "digits"},
        {"kind": "points2d", "dataset": "plane"},
        {"kind": "points2d", "features": ["x1", "x1_sq", "x1_x2", "sin_x2"]},
    ],
)
def test_parameter_arithmetic_matches_torch(model: dict[str, object], data: dict[str, object]) -> None:
    spec = JobSpec.model_validate({"model": model, "data": data})
    net = build_model(spec)
    assert spec.parameter_count() == sum(p.numel() for p in net.parameters() if p.requires_grad)
    raw_inputs = 64 if data["kind"] == "digits" else 2  # a 2-D model takes plain points, whatever its features
    assert net(torch.zeros(3, raw_inputs)).shape == (3, spec.data.n_outputs)
    assert net.linears()[0].in_features == spec.data.in_features
    assert len(net.layer_names()) == len(spec.model.hidden)


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam", "adamw"])
def test_every_optimizer_is_built_with_the_spec_rate(name: str) -> None:
    spec = JobSpec.model_validate({"optim": {"optimizer": name, "lr": 0.123, "weight_decay": 0.01}})
    optimizer = make_optimizer(spec.optim, build_model(spec).parameters())
    assert optimizer.param_groups[0]["lr"] == 0.123
    assert optimizer.param_groups[0]["weight_decay"] == 0.01
    if name in ("sgd", "momentum"):
        assert optimizer.param_groups[0]["momentum"] == (0.9 if name == "momentum" else 0)


def test_runs_that_differ_in_activation_or_bias_start_from_the_same_weights() -> None:
    def first_weights(model: dict[str, object]) -> list[torch.Tensor]:
        net = build_model(JobSpec.model_validate({"seed": 5, "model": {"hidden": [6, 6], **model}}))
        return [layer.weight.detach() for layer in net.linears()]

    reference = first_weights({})
    for variant in ({"activation": "relu"}, {"bias": False}, {"batch_norm": True}, {"dropout": 0.3}):
        assert all(torch.equal(a, b) for a, b in zip(reference, first_weights(variant), strict=True))
    assert not torch.equal(reference[0], build_model(JobSpec.model_validate({"seed": 6})).linears()[0].weight)


@pytest.mark.parametrize(
    ("init", "bound"), [("default", 64**-0.5), ("he", (6 / 64) ** 0.5), ("xavier", (6 / 96) ** 0.5)]
)
def test_init_schemes_draw_within_their_bounds(init: str, bound: float) -> None:
    spec = JobSpec.model_validate({"data": {"kind": "digits"}, "model": {"hidden": [32], "init": init}})
    weight = build_model(spec).linears()[0].weight
    assert weight.abs().max() <= bound
    assert weight.abs().max() > 0.9 * bound  # 2,048 draws reach close to the bound


def test_an_init_seed_changes_the_initial_weights_and_nothing_else() -> None:
    base = JobSpec.model_validate({"seed": 5, "model": {"hidden": [6]}})
    reseeded = JobSpec.model_validate({"seed": 5, "model": {"hidden": [6], "init_seed": 8}})
    same = JobSpec.model_validate({"seed": 8, "model": {"hidden": [6]}})
    assert not torch.equal(build_model(base).linears()[0].weight, build_model(reseeded).linears()[0].weight)
    assert torch.equal(build_model(reseeded).linears()[0].weight, build_model(same).linears()[0].weight)


@pytest.mark.parametrize(
    "model",
    [
        {},
        {"bias": False, "hidden": []},
        {"batch_norm": True, "dropout": 0.1, "activation": "relu"},
        {
            "conv": [
                {"channels": 4, "kernel": 5, "padding": 2, "pool": "avg"},
                {"channels": 6, "stride": 2, "pool": "none"},
            ]
        },
        {"conv": [{"channels": 3, "kernel": 1, "padding": 0, "pool": "none"}], "hidden": [5, 7]},
    ],
)
def test_a_cnns_parameters_by_formula_match_torch_layer_by_layer(model: dict[str, object]) -> None:
    spec = JobSpec.model_validate({"data": {"kind": "digits"}, "model": {"kind": "cnn2d", **model}})
    net = build_model(spec)
    assert [count for _, count, _ in spec.layer_parameters()] == net.parameters_per_layer()
    assert spec.parameter_count() == sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert net(torch.zeros(3, 64)).shape == (3, 10)
    assert len(net.layer_names()) == len(spec.model.conv) + len(spec.model.hidden)


@pytest.mark.parametrize(
    "model",
    [
        {},  # the MNIST-1D paper's: 25 channels, kernels 5, 3, 3, stride 2 (40 -> 19 -> 10 -> 5), a linear read-out
        {"batch_norm": True, "hidden": [16], "conv": [{"channels": 4, "kernel": 3, "pool": "max"}]},
        {"bias": False, "conv": [{"channels": 6, "kernel": 7, "padding": 3, "pool": "avg"}, {"channels": 2}]},
    ],
)
def test_a_sequence_cnns_parameters_by_formula_match_torch(model: dict[str, object]) -> None:
    spec = JobSpec.model_validate({"data": {"kind": "mnist1d"}, "model": {"kind": "cnn1d", **model}})
    net = build_model(spec)
    assert [count for _, count, _ in spec.layer_parameters()] == net.parameters_per_layer()
    assert net(torch.zeros(3, 40)).shape == (3, 10)
    assert isinstance(net.linears()[0], torch.nn.Conv1d)


def test_the_paper_cnn_counts_as_its_formula_says() -> None:
    spec = JobSpec.model_validate({"data": {"kind": "mnist1d"}, "model": {"kind": "cnn1d"}})
    assert spec.layer_parameters() == [
        ("conv1", 150, "5·1·25 + 25"),
        ("conv2", 1900, "3·25·25 + 25"),
        ("conv3", 1900, "3·25·25 + 25"),
        ("output", 1260, "125·10 + 10"),
    ]
    digits = JobSpec.model_validate({"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "batch_norm": True}})
    assert digits.layer_parameters()[0] == ("conv1", 3 * 3 * 8 + 8 + 16, "3·3·1·8 + 8 + 2·8")


def test_input_features_are_computed_from_the_plain_point() -> None:
    spec = JobSpec.model_validate({"data": {"features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"]}})
    point = torch.tensor([[0.5, -2.0]])
    expected = [0.5, -2.0, 0.25, 4.0, -1.0, math.sin(0.5), math.sin(-2.0)]
    torch.testing.assert_close(build_model(spec).input_features(point), torch.tensor([expected]))
    plain = build_model(JobSpec())
    assert plain.input_features(point) is point  # the plain inputs pass through untouched


@pytest.mark.parametrize(
    ("model", "differ"),
    [
        ({}, False),
        ({"dropout": 0.2}, True),
        ({"batch_norm": True}, True),
        ({"kind": "cnn2d", "batch_norm": True}, True),
        ({"kind": "cnn2d"}, False),
    ],
)
def test_only_dropout_and_batch_norm_make_the_modes_differ(model: dict[str, object], differ: bool) -> None:
    """An evaluation switches to eval mode and back only where the switch changes what is computed."""
    data = {"kind": "digits"} if model.get("kind") == "cnn2d" else {}
    net = build_model(JobSpec.model_validate({"model": model, "data": data}))
    assert modes_differ(net) == differ
    x = torch.randn(16, 64 if data else 2)  # 8x8 digits or 2-D points
    if not differ:  # nothing depends on the mode: the same outputs in either
        assert torch.equal(net.train()(x), net.eval()(x))
