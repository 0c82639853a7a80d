"""Model and optimizer construction from a spec."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from trainscope.schemas import (
    ConvNetSpec,
    JobSpec,
    LabelledData,
    MLPSpec,
    OptimSpec,
    SurfaceData,
)
from trainscope.schemas.kinds.mlp import NetSpec
from trainscope.training.random_search import RandomSearch

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


# the layers that hold a weight matrix or kernels (an autoencoder's decoder has transposed convolutions)
Weighted = nn.Linear | nn.Conv1d | nn.Conv2d | nn.ConvTranspose2d
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)


class InputFeatures(nn.Module):
    """(x1, x2) -> the chosen input features, as TensorFlow Playground computes them: fixed, nothing to
    learn, inside the model so that every probe and the boundary still feed it plain points."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self.names = tuple(names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([FEATURES[name](x) for name in self.names], dim=1)


class LayeredNet(nn.Module):
    """What the probes read of a network (its taps): the activation modules of its hidden layers in
    order, their names, the layers with weights, and each hidden layer's output."""

    net: nn.Sequential
    activation_name: str

    def __init__(self) -> None:
        super().__init__()
        self.activations = nn.ModuleList()  # filled by activation(), in the order of the layers
        self.names: list[str] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.net(x)
        return logits

    def forward_with_hidden(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits and each hidden layer's activation output (no hooks: cheaper for the probes)."""
        hidden = []
        activations = set(self.activations)
        for module in self.net:
            x = module(x)
            if module in activations:
                hidden.append(x)
        return x, hidden

    def input_features(self, x: torch.Tensor) -> torch.Tensor:
        """What the first weighted layer sees of the plain inputs x."""
        first = self.net[0]
        return first(x) if isinstance(first, InputFeatures) else x

    def linears(self) -> list[Weighted]:
        """The layers with weights, the first hidden layer first, the read-out last."""
        return [m for m in self.net if isinstance(m, WEIGHTED)]

    def chained(self) -> bool:
        """Each weighted layer a matrix that feeds the next (what the network diagram draws): not a
        convolution's kernels, nor a VAE's code (its means and variances feed the decoder one each)."""
        shapes = [tuple(layer.weight.shape) for layer in self.linears()]
        matrices = all(len(shape) == 2 for shape in shapes)
        return matrices and all(later[1] == earlier[0] for earlier, later in itertools.pairwise(shapes))

    def parameters_per_layer(self) -> list[int]:
        """Trainable parameters of each weighted layer, with the batch norm that follows it, as torch
        counts them (what JobSpec.layer_parameters computes by formula)."""
        counts: list[int] = []
        for module in self.net:
            count = sum(p.numel() for p in module.parameters() if p.requires_grad)
            if isinstance(module, WEIGHTED):
                counts.append(count)
            elif count:
                counts[-1] += count
        return counts

    def layer_names(self) -> list[str]:
        """Tag names of the hidden layers (layer1... for an MLP; conv1..., fc1... for a CNN)."""
        return list(self.names)

    def activation(self, spec: NetSpec, name: str, linear: bool = False) -> nn.Module:
        """A hidden layer's activation module, registered as a tap under `name` (linear: none, for a layer
        the probes see as hidden all the same, such as an autoencoder's code)."""
        if linear:
            act: nn.Module = nn.Identity()
        elif spec.activation == "leaky_relu":
            act = nn.LeakyReLU(spec.leaky_slope)
        else:
            act = ACTIVATIONS[spec.activation]()
        self.activations.append(act)
        self.names.append(name)
        return act

    def finish(
        self,
        layers: list[nn.Module],
        spec: MLPSpec | ConvNetSpec,
        widths: list[int],
        prefix: str,
        outputs: int,
        seed: int,
    ) -> None:
        """Append the dense hidden layers (Linear -> [BatchNorm] -> activation -> [Dropout]) over `widths`
        and the read-out, then draw every weight from the seed."""
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
            layers.append(nn.Linear(fan_in, fan_out, bias=spec.bias))
            if spec.batch_norm:
                layers.append(nn.BatchNorm1d(fan_out))
            layers.append(self.activation(spec, f"{prefix}{i + 1}"))
            if spec.dropout > 0:
                layers.append(nn.Dropout(spec.dropout))
        layers.append(nn.Linear(widths[-1], outputs, bias=spec.bias))
        self.net = nn.Sequential(*layers)
        self.activation_name = spec.activation
        initialize(self.linears(), seed, spec.init)


class MLP(LayeredNet):
    """Linear -> [BatchNorm] -> activation -> [Dropout] per hidden layer, then a linear read-out."""

    def __init__(self, spec: MLPSpec, data: LabelledData, seed: int) -> None:
        super().__init__()
        features = getattr(data, "features", PLAIN_INPUTS)
        # the plain inputs skip the module: a default run pays nothing for the option
        layers: list[nn.Module] = [] if tuple(features) == PLAIN_INPUTS else [InputFeatures(features)]
        self.finish(layers, spec, [data.in_features, *spec.hidden], "layer", data.n_outputs, seed)


# each convolution's modules by the number of axes it slides over
CONV_MODULES: dict[int, tuple[type[nn.Module], type[nn.Module], type[nn.Module], type[nn.Module]]] = {
    1: (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AvgPool1d),
    2: (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d),
}


class ConvNet(LayeredNet):
    """Conv -> [BatchNorm] -> activation -> [pooling by 2] per convolution over sequences (cnn1d) or
    images (cnn2d), flattened, then an MLP head and a linear read-out, as MLP's. Takes flat examples and
    shapes them into the data's (channels, *sides) first."""

    def __init__(self, spec: ConvNetSpec, example: tuple[int, ...], outputs: int, seed: int) -> None:
        super().__init__()
        conv_type, norm_type, max_pool, avg_pool = CONV_MODULES[spec.dims]
        layers: list[nn.Module] = [nn.Unflatten(1, example)]
        channels = example[0]
        for i, conv in enumerate(spec.conv):
            layers.append(conv_type(channels, conv.channels, conv.kernel, conv.stride, conv.padding, bias=spec.bias))
            if spec.batch_norm:
                layers.append(norm_type(conv.channels))
            layers.append(self.activation(spec, f"conv{i + 1}"))
            if conv.pool != "none":
                layers.append(max_pool(2) if conv.pool == "max" else avg_pool(2))
            channels = conv.channels
        layers.append(nn.Flatten())
        features = math.prod(spec.feature_shape(example))
        self.finish(layers, spec, [features, *spec.hidden], "fc", outputs, seed)


def modes_differ(model: nn.Module) -> bool:
    """Whether the model computes differently in training and eval mode (dropout, batch norm)."""
    return any(isinstance(m, nn.modules.dropout._DropoutNd | nn.modules.batchnorm._BatchNorm) for m in model.modules())


def build_model(spec: JobSpec) -> LayeredNet:
    """The spec's network, its weights drawn from the job's seed (or the model's own init seed)."""
    model, data = spec.model, spec.data
    if not isinstance(model, MLPSpec | ConvNetSpec) or isinstance(data, SurfaceData):
        raise ValueError("a network needs labelled data and an mlp or convolutional model spec")
    init_seed = model.init_seed if model.init_seed is not None else spec.seed
    if isinstance(model, ConvNetSpec):
        example = getattr(data, "example_shape", None)
        if example is None or len(example) != model.dims + 1:
            raise ValueError(f"a {model.kind} model needs examples with {model.dims} axes to convolve")
        return ConvNet(model, example, data.n_outputs, init_seed)
    return MLP(model, data, init_seed)


def initialize(linears: list[Weighted], seed: int, scheme: str = "default") -> None:
    """Uniform init drawn per layer from its own generator, weight before bias: runs that differ only in
    activation, bias, batch norm or dropout start from the same weights, which is what a matched
    comparison needs (the global RNG would shift when a bias is left out). Biases always get PyTorch's
    default +-1/sqrt(fan_in)."""
    with torch.no_grad():
        for index, layer in enumerate(linears):
            generator = torch.Generator().manual_seed(seed * 1000 + index)
            receptive = layer.weight[0][0].numel()  # a convolution's kernel size; 1 for a linear layer
            fan_in, fan_out = layer.weight.shape[1] * receptive, layer.weight.shape[0] * receptive
            bound = {"he": (6 / fan_in) ** 0.5, "xavier": (6 / (fan_in + fan_out)) ** 0.5}.get(scheme, fan_in**-0.5)
            weight = torch.rand(layer.weight.shape, generator=generator) * 2 * bound - bound
            layer.weight.copy_(weight)
            if layer.bias is not None:
                bias_bound = fan_in**-0.5
                layer.bias.copy_(torch.rand(layer.bias.shape, generator=generator) * 2 * bias_bound - bias_bound)


def make_optimizer(
    spec: OptimSpec, params: Iterable[torch.Tensor], seed: int = 0, capturable: bool = False
) -> torch.optim.Optimizer:
    """The spec's optimizer, in its fused implementation where torch has one (SGD, Adam, AdamW: one kernel
    for all parameters instead of a few ops per tensor; measured on this 2-core CPU, 1.3x the steps/s of
    a small MLP with Adam); RMSprop has none and steps all tensors at once (foreach). `capturable`: its
    state kept where a CUDA graph can step it (training/graphs.py; SGD's needs nothing)."""
    wd = spec.weight_decay
    if spec.optimizer == "random_search":  # the rules allow it only where the task passes a closure
        return RandomSearch(params, spec.lr, seed)
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=spec.lr, weight_decay=wd, fused=True)
    if spec.optimizer == "momentum":
        return torch.optim.SGD(params, lr=spec.lr, momentum=0.9, weight_decay=wd, fused=True)
    if spec.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=spec.lr, weight_decay=wd, foreach=True, capturable=capturable)
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=wd, fused=True, capturable=capturable)
    return torch.optim.AdamW(params, lr=spec.lr, weight_decay=wd, fused=True, capturable=capturable)
