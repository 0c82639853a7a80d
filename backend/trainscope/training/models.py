"""Model and optimizer construction from a spec."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import torch
from torch import nn

from trainscope.schemas import JobSpec, OptimSpec

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


class MLP(nn.Module):
    """Linear -> [BatchNorm] -> activation -> [Dropout] per hidden layer, then a linear read-out."""

    def __init__(self, spec: JobSpec) -> None:
        super().__init__()
        widths = [spec.data.in_features, *spec.model.hidden]
        self.activations = nn.ModuleList()
        layers: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(widths):
            layers.append(nn.Linear(fan_in, fan_out, bias=spec.model.bias))
            if spec.model.batch_norm:
                layers.append(nn.BatchNorm1d(fan_out))
            act = ACTIVATIONS[spec.model.activation]()
            self.activations.append(act)
            layers.append(act)
            if spec.model.dropout > 0:
                layers.append(nn.Dropout(spec.model.dropout))
        layers.append(nn.Linear(widths[-1], spec.data.n_classes, bias=spec.model.bias))
        self.net = nn.Sequential(*layers)
        self._activation_set = set(self.activations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.net(x)
        return logits

    def forward_with_hidden(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits and each hidden layer's activation output (no hooks: cheaper for the probes)."""
        hidden = []
        for module in self.net:
            x = module(x)
            if module in self._activation_set:
                hidden.append(x)
        return x, hidden

    def linears(self) -> list[nn.Linear]:
        """The linear layers, first hidden layer first, the read-out last."""
        return [m for m in self.net if isinstance(m, nn.Linear)]

    def layer_names(self) -> list[str]:
        """Tag names of the hidden layers: layer1 is the first hidden layer."""
        return [f"layer{i + 1}" for i in range(len(self.activations))]


def build_model(spec: JobSpec) -> MLP:
    return MLP(spec)


def make_optimizer(spec: OptimSpec, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    wd = spec.weight_decay
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=spec.lr, weight_decay=wd)
    if spec.optimizer == "momentum":
        return torch.optim.SGD(params, lr=spec.lr, momentum=0.9, weight_decay=wd)
    if spec.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=spec.lr, weight_decay=wd)
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=wd)
    return torch.optim.AdamW(params, lr=spec.lr, weight_decay=wd)
