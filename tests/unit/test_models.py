from __future__ import annotations

import pytest
import torch

from trainscope.schemas import JobSpec
from trainscope.training.models import build_model, make_optimizer


@pytest.mark.parametrize(
    "model",
    [
        {"hidden": [8, 8]},
        {"hidden": [16], "bias": False},
        {"hidden": [4, 5, 6], "batch_norm": True, "dropout": 0.2, "activation": "relu"},
    ],
)
@pytest.mark.parametrize("data", [{"kind": "points2d"}, {"kind": "digits"}])
def test_parameter_arithmetic_matches_torch(model: dict[str, object], data: dict[str, object]) -> None:
    spec = JobSpec.model_validate({"model": model, "data": data})
    net = build_model(spec)
    assert spec.parameter_count() == sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert net(torch.zeros(3, spec.data.in_features)).shape == (3, spec.data.n_classes)
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
