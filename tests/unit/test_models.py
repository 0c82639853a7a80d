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
