"""A whole CNN written out as a plain MLP (Linear, ReLU, Linear, ReLU, ..., Linear) with the same outputs.

Every convolution, average pooling, flattening and eval-mode batch norm is an affine map, so consecutive
ones fold into one dense matrix. ReLU stays ReLU. Max pooling is ReLUs too: max(a, b) = ReLU(a - b) +
ReLU(b) - ReLU(-b), so each halving of a pooling window is one hidden layer three times as wide as its
output. The MLP that results is exact (to float rounding) and many times the CNN's size: what a
convolution saves is weights, not expressive power.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from trainscope.schemas.events import UnrolledNetworkData, UnrolledNetworkEvent
from trainscope.training.datasets import Split
from trainscope.training.models import LayeredNet

AFFINE = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Linear,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.Dropout,  # the identity in eval mode
    nn.Flatten,
    nn.Unflatten,
    nn.Identity,
)
POOLS = (nn.MaxPool1d, nn.MaxPool2d)


class Unrolled:
    """Builds the MLP layer by layer. `weight`/`bias` are the affine map, not yet emitted, from the last
    hidden layer's outputs (or the input) to the current values; `shape` is those values' shape per example."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        size = math.prod(shape)
        self.shape = shape
        self.weight = torch.eye(size, dtype=torch.float64)
        self.bias = torch.zeros(size, dtype=torch.float64)
        self.layers: list[nn.Module] = []

    def affine(self, module: nn.Module) -> None:
        """Fold an affine module in: its matrix has as column j its response to the j-th unit input."""
        size = math.prod(self.shape)
        basis = torch.cat([torch.zeros(1, size), torch.eye(size)]).double().reshape(size + 1, *self.shape)
        with torch.no_grad():
            out = module(basis)
        self.shape = tuple(out.shape[1:])
        out = out.reshape(size + 1, -1)
        offset, matrix = out[0], (out[1:] - out[0]).T
        self.weight, self.bias = matrix @ self.weight, matrix @ self.bias + offset

    def linear(self) -> nn.Linear:
        """The pending map as a Linear layer."""
        linear = nn.Linear(self.weight.shape[1], self.weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(self.weight)
            linear.bias.copy_(self.bias)
        return linear

    def relu(self) -> None:
        """Emit the pending map as a Linear followed by a ReLU; the map starts again from its outputs."""
        self.layers += [self.linear(), nn.ReLU()]
        size = len(self.weight)
        self.weight, self.bias = torch.eye(size, dtype=torch.float64), torch.zeros(size, dtype=torch.float64)

    def max_pool(self, module: nn.MaxPool1d | nn.MaxPool2d) -> None:
        """Max over each window as a tree of pairwise maxes, one hidden layer per level."""
        index = torch.arange(math.prod(self.shape)).reshape(1, *self.shape)
        window = int(module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0])
        axes = len(self.shape) - 1
        if module.stride != module.kernel_size or module.padding != 0 or window != 2:
            raise ValueError("only pooling by non-overlapping windows of 2 unrolls here")
        # each output's window members, as indices into the current values: members x outputs
        members = [index]
        for dim in range(2, 2 + axes):  # (1, channels, *sides): split each side into windows
            length = (index.shape[dim] // window) * window
            members = [
                member.narrow(dim, 0, length).unfold(dim, window, window).select(-1, k)
                for member in members
                for k in range(window)
            ]
        groups = [m.reshape(-1) for m in members]
        self.shape = (self.shape[0], *members[0].shape[2:])
        while len(groups) > 1:
            outputs = len(groups[0])
            pairs = list(zip(groups[0::2], groups[1::2], strict=True))
            select = torch.zeros(3 * outputs * len(pairs), len(self.weight), dtype=torch.float64)
            rows = torch.arange(outputs)
            for p, (a, b) in enumerate(pairs):
                base = 3 * outputs * p
                select[base + rows, a] += 1.0  # a - b
                select[base + rows, b] -= 1.0
                select[base + outputs + rows, b] = 1.0  # b
                select[base + 2 * outputs + rows, b] = -1.0  # -b
            self.weight, self.bias = select @ self.weight, select @ self.bias
            self.relu()
            combine = torch.zeros(outputs * len(pairs), 3 * outputs * len(pairs), dtype=torch.float64)
            for p in range(len(pairs)):
                base = 3 * outputs * p
                for part, sign in enumerate((1.0, 1.0, -1.0)):  # ReLU(a-b) + ReLU(b) - ReLU(-b)
                    combine[outputs * p + rows, base + part * outputs + rows] = sign
            self.weight, self.bias = combine, torch.zeros(len(combine), dtype=torch.float64)
            groups = [torch.arange(outputs * p, outputs * (p + 1)) for p in range(len(pairs))]

    def finish(self) -> nn.Sequential:
        return nn.Sequential(*self.layers, self.linear())


def as_mlp(model: LayeredNet, example: tuple[int, ...]) -> nn.Sequential | None:
    """The model as Linear/ReLU layers only, in float64 on the CPU (eval mode: batch norm's running
    statistics, no dropout); None for an activation other than ReLU."""
    net = copy.deepcopy(model.net).double().cpu().eval()
    unrolled = Unrolled((math.prod(example),))  # flat, as the model takes it
    for module in net:
        if isinstance(module, AFFINE):
            unrolled.affine(module)
        elif isinstance(module, nn.ReLU):
            unrolled.relu()
        elif isinstance(module, POOLS):
            unrolled.max_pool(module)
        else:
            return None
    return unrolled.finish()


def unrolled_network(model: LayeredNet, split: Split, step: int) -> UnrolledNetworkEvent | None:
    """The whole CNN as an MLP: the largest difference between their outputs on the validation set, and
    both parameter counts. None for a model that is not a ReLU CNN."""
    if not isinstance(model.net[0], nn.Unflatten):
        return None
    example = tuple(int(side) for side in model.net[0].unflattened_size)
    mlp = as_mlp(model, example)
    if mlp is None:
        return None
    was_training = model.training
    model.eval()
    with torch.no_grad():
        x = split.x_val
        by_cnn = model(x).double().cpu()
        by_mlp = mlp(x.double().cpu())
    model.train(was_training)
    linears = [m for m in mlp if isinstance(m, nn.Linear)]
    figures = {
        "max_abs_diff": float((by_cnn - by_mlp).abs().max()),
        "largest_output": float(by_cnn.abs().max()),
        "cnn_parameters": float(sum(p.numel() for p in model.parameters())),
        "mlp_parameters": float(sum(p.numel() for p in mlp.parameters())),
        "mlp_hidden_layers": float(len(linears) - 1),
        "examples": float(len(x)),
    }
    widths = [linears[0].in_features, *(linear.out_features for linear in linears)]
    return UnrolledNetworkEvent(step=step, figures=figures, data=UnrolledNetworkData(widths=widths))
