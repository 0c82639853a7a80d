"""Model and optimizer construction from a spec."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from trainscope.schemas import JobSpec, LabelledData, MLPSpec, OptimSpec, SurfaceData

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


FEATURES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "x1": lambda x: x[:, 0],
    "x2": lambda x: x[:, 1],
    "x1_sq": lambda x: x[:, 0] ** 2,
    "x2_sq": lambda x: x[:, 1] ** 2,
    "x1_x2": lambda x: x[:, 0] * x[:, 1],
    "sin_x1": lambda x: torch.sin(x[:, 0]),
    "sin_x2": lambda x: torch.sin(x[:, 1]),
}
PLAIN_INPUTS = ("x1", "x2")


class InputFeatures(nn.Module):
    """(x1, x2) -> the chosen input features, as TensorFlow Playground computes them: fixed, nothing to
    learn, inside the model so that every probe and the boundary still feed it plain points."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self.names = tuple(names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([FEATURES[name](x) for name in self.names], dim=1)


class MLP(nn.Module):
    """Linear -> [BatchNorm] -> activation -> [Dropout] per hidden layer, then a linear read-out."""

    def __init__(self, spec: MLPSpec, data: LabelledData, seed: int) -> None:
        super().__init__()
        widths = [data.in_features, *spec.hidden]
        self.activations = nn.ModuleList()
        features = getattr(data, "features", PLAIN_INPUTS)
        # the plain inputs skip the module: a default run pays nothing for the option
        layers: list[nn.Module] = [] if tuple(features) == PLAIN_INPUTS else [InputFeatures(features)]
        for fan_in, fan_out in itertools.pairwise(widths):
            layers.append(nn.Linear(fan_in, fan_out, bias=spec.bias))
            if spec.batch_norm:
                layers.append(nn.BatchNorm1d(fan_out))
            act = nn.LeakyReLU(spec.leaky_slope) if spec.activation == "leaky_relu" else ACTIVATIONS[spec.activation]()
            self.activations.append(act)
            layers.append(act)
            if spec.dropout > 0:
                layers.append(nn.Dropout(spec.dropout))
        layers.append(nn.Linear(widths[-1], data.n_outputs, bias=spec.bias))
        self.net = nn.Sequential(*layers)
        self._activation_set = set(self.activations)
        self.activation_name = spec.activation
        initialize(self.linears(), seed, spec.init)

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

    def input_features(self, x: torch.Tensor) -> torch.Tensor:
        """What the first linear layer sees of the plain inputs x."""
        first = self.net[0]
        return first(x) if isinstance(first, InputFeatures) else x

    def linears(self) -> list[nn.Linear]:
        """The linear layers, first hidden layer first, the read-out last."""
        return [m for m in self.net if isinstance(m, nn.Linear)]

    def layer_names(self) -> list[str]:
        """Tag names of the hidden layers: layer1 is the first hidden layer."""
        return [f"layer{i + 1}" for i in range(len(self.activations))]


def build_model(spec: JobSpec) -> MLP:
    """The spec's MLP, its weights drawn from the job's seed."""
    if not isinstance(spec.model, MLPSpec) or isinstance(spec.data, SurfaceData):
        raise ValueError("an MLP needs labelled data and an mlp model spec")
    init_seed = spec.model.init_seed if spec.model.init_seed is not None else spec.seed
    return MLP(spec.model, spec.data, init_seed)


def initialize(linears: list[nn.Linear], seed: int, scheme: str = "default") -> None:
    """Uniform init drawn per layer from its own generator, weight before bias: runs that differ only in
    activation, bias, batch norm or dropout start from the same weights, which is what a matched
    comparison needs (the global RNG would shift when a bias is left out). Biases always get PyTorch's
    default +-1/sqrt(fan_in)."""
    with torch.no_grad():
        for index, layer in enumerate(linears):
            generator = torch.Generator().manual_seed(seed * 1000 + index)
            fan_in, fan_out = layer.in_features, layer.out_features
            bound = {"he": (6 / fan_in) ** 0.5, "xavier": (6 / (fan_in + fan_out)) ** 0.5}.get(scheme, fan_in**-0.5)
            weight = torch.rand(layer.weight.shape, generator=generator) * 2 * bound - bound
            layer.weight.copy_(weight)
            if layer.bias is not None:
                bias_bound = fan_in**-0.5
                layer.bias.copy_(torch.rand(layer.bias.shape, generator=generator) * 2 * bias_bound - bias_bound)


def make_optimizer(spec: OptimSpec, params: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
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
