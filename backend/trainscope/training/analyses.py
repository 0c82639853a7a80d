"""One-off measurements a lesson asks for, each returning an `analysis` event (or None when it does not
apply to the model): a finite-difference gradient check, an identity-activation net collapsed to one
affine map, batch norm in train vs eval mode, and the variance of the mini-batch gradient.

They run at the first or last step only; each costs a few forward/backward passes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Protocol

import torch
from torch import nn

from trainscope.schemas import JobSpec
from trainscope.schemas.events import (
    BatchNormData,
    BatchNormEvent,
    GradientCheckData,
    GradientCheckEntry,
    GradientCheckEvent,
    GradientVarianceEvent,
    LinearCollapseData,
    LinearCollapseEvent,
    ParameterRow,
    ParametersData,
    ParametersEvent,
    QueryPointsData,
    QueryPointsEvent,
    UnrolledConvolutionData,
    UnrolledConvolutionEvent,
)
from trainscope.training.datasets import Split
from trainscope.training.models import LayeredNet
from trainscope.training.probes import b64
from trainscope.training.telemetry import class_probabilities

GRADCHECK_EXAMPLES = 64
GRADCHECK_EPSILON = 1e-6  # central differences in float64: truncation ~eps^2, rounding ~1e-16/eps
VARIANCE_DRAWS = 64  # mini-batches drawn to estimate the gradient variance
BN_SINGLE_EXAMPLES = 200  # one forward pass each
BN_CLASS_BATCH = 16  # a train-mode evaluation batch drawn from one class, as data sorted by label gives


# each activation's derivative from its input z and output a, for the chain rule written out by hand
DERIVATIVES: dict[type[nn.Module], Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    nn.Tanh: lambda _m, _z, a: 1 - a**2,
    nn.Sigmoid: lambda _m, _z, a: a * (1 - a),
    nn.ReLU: lambda _m, z, _a: (z > 0).to(z.dtype),
    nn.LeakyReLU: lambda m, z, _a: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, m.negative_slope)),  # type: ignore[arg-type]
    nn.Identity: lambda _m, z, _a: torch.ones_like(z),
}


def chain_rule_gradients(model: LayeredNet, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor] | None:
    """Every linear layer's weight gradient of the mean cross-entropy, by the chain rule written out:
    at the top delta = (softmax - one-hot) / n, then per layer going down dW = delta^T a_in and
    delta <- (delta W) * f'(z). What backpropagation computes, without autograd; None for a net with
    batch norm, dropout or an activation not in DERIVATIVES."""
    if any(not isinstance(m, nn.Linear) and type(m) not in DERIVATIVES for m in model.net):
        return None
    linears, activation = model.linears(), model.activations[0] if model.activations else nn.Identity()
    inputs, outputs, pre = [], [], []
    a = x
    for index, layer in enumerate(linears):
        inputs.append(a)
        z = a @ layer.weight.T + (layer.bias if layer.bias is not None else 0.0)
        if index < len(linears) - 1:
            a = activation(z)
            pre.append(z)
            outputs.append(a)
        else:
            a = z
    delta = (torch.softmax(a, dim=1) - nn.functional.one_hot(y, a.shape[1]).to(a.dtype)) / len(x)
    grads = []
    for index in reversed(range(len(linears))):
        grads.append(delta.T @ inputs[index])
        if index:
            derivative = DERIVATIVES[type(activation)](activation, pre[index - 1], outputs[index - 1])
            delta = (delta @ linears[index].weight) * derivative
    return grads[::-1]


def gradient_check(model: LayeredNet, split: Split, step: int) -> GradientCheckEvent:
    """Autograd's derivative of the loss against central finite differences, for one weight in each
    linear layer, and against the chain rule written out by hand (chain_rule_gradients) for every
    weight; in float64 on a fixed batch in eval mode (dropout off, batch norm deterministic)."""
    twin = copy.deepcopy(model).double().eval()
    x = split.x_train[:GRADCHECK_EXAMPLES].double()
    y = split.y_train[:GRADCHECK_EXAMPLES]

    def loss() -> torch.Tensor:
        return nn.functional.cross_entropy(twin(x), y)

    twin.zero_grad()
    loss().backward()  # type: ignore[no-untyped-call]
    figures: dict[str, float] = {}
    with torch.no_grad():
        by_hand = chain_rule_gradients(twin, x, y)
    if by_hand is not None:
        # per layer, the largest difference over the largest gradient: a weight whose gradient is ~0
        # would make an elementwise relative error meaningless
        figures["chain_rule_max_error"] = max(
            float((mine - layer.weight.grad).abs().max() / layer.weight.grad.abs().max().clamp_min(1e-300))
            for mine, layer in zip(by_hand, twin.linears(), strict=True)
            if layer.weight.grad is not None
        )
    checks, worst = [], 0.0
    names = [*model.layer_names(), "output"]
    with torch.no_grad():
        for name, layer in zip(names, twin.linears(), strict=True):
            assert layer.weight.grad is not None
            # the weight with the largest gradient: a tiny one would make the relative error meaningless
            flat = int(layer.weight.grad.abs().argmax())
            row, col = divmod(flat, layer.weight.shape[1])
            autograd = float(layer.weight.grad[row, col])
            original = float(layer.weight[row, col])
            layer.weight[row, col] = original + GRADCHECK_EPSILON
            plus = float(loss())
            layer.weight[row, col] = original - GRADCHECK_EPSILON
            minus = float(loss())
            layer.weight[row, col] = original
            numeric = (plus - minus) / (2 * GRADCHECK_EPSILON)
            relative = abs(autograd - numeric) / max(abs(autograd), abs(numeric), 1e-12)
            worst = max(worst, relative)
            checks.append(
                GradientCheckEntry(layer=name, index=[row, col], autograd=autograd, numeric=numeric, relative=relative)
            )
    figures = {"max_relative_error": worst, **figures}
    return GradientCheckEvent(step=step, figures=figures, data=GradientCheckData(checks=checks))


def linear_collapse(model: LayeredNet, split: Split, step: int) -> LinearCollapseEvent | None:
    """Multiply out an identity-activation MLP into one affine map x -> W x + b and compare its
    predictions with the network's. None for a net with a non-linearity, batch norm or dropout."""
    if any(not isinstance(m, nn.Linear | nn.Identity) for m in model.net):
        return None
    with torch.no_grad():
        linears = model.linears()
        weight = torch.eye(linears[0].weight.shape[1], dtype=torch.float64, device=linears[0].weight.device)
        bias = torch.zeros(linears[0].weight.shape[1], dtype=torch.float64, device=weight.device)
        for layer in linears:
            layer_weight = layer.weight.double()
            weight = layer_weight @ weight
            bias = layer_weight @ bias + (layer.bias.double() if layer.bias is not None else 0.0)
        x = torch.cat([split.x_val, split.x_train])
        network = model.eval()(x).double()
        model.train()
        collapsed = x.double() @ weight.T + bias
        max_diff = float((network - collapsed).abs().max())
        agree = float((network.argmax(1) == collapsed.argmax(1)).double().mean())
    figures = {"max_abs_diff": max_diff, "prediction_agreement": agree, "examples": float(len(x))}
    data = LinearCollapseData(weight=weight.cpu().tolist(), bias=bias.cpu().tolist())
    return LinearCollapseEvent(step=step, figures=figures, data=data)


def bn_modes(model: LayeredNet, split: Split, step: int) -> BatchNormEvent | None:
    """Validation accuracy in eval mode (running statistics) and of single-example predictions in train
    mode (statistics of the example's own batch of one), and the first batch-norm layer's running statistics
    next to the validation set's. None without batch norm."""
    norms = [m for m in model.net if isinstance(m, nn.BatchNorm1d)]
    if not norms:
        return None
    x, y = split.x_val, split.y_val
    with torch.no_grad():
        model.eval()
        eval_acc = float((model(x).argmax(1) == y).double().mean())
        # Train mode on one example: PyTorch refuses a batch of one, so each example is paired with itself;
        # the batch mean is then the example, every unit normalizes to its shift beta and the prediction
        # no longer depends on the input. A copy keeps the real running statistics untouched.
        twin = copy.deepcopy(model).train()
        without_dropout = nn.Sequential(*[m for m in twin.net if not isinstance(m, nn.Dropout)])
        singles = x[:BN_SINGLE_EXAMPLES]
        train_preds = torch.stack([without_dropout(row.expand(2, -1))[0].argmax() for row in singles])
        train_acc = float((train_preds == y[: len(singles)]).double().mean())
        # the realistic mistake: train mode left on while evaluating batches of data sorted by label, so each
        # batch's statistics are one class's and the normalization removes what the classes share
        right = seen = 0
        for label in torch.unique(y):
            rows = x[y == label]
            for start in range(0, len(rows) - BN_CLASS_BATCH + 1, BN_CLASS_BATCH):
                right += int((without_dropout(rows[start : start + BN_CLASS_BATCH]).argmax(1) == label).sum())
                seen += BN_CLASS_BATCH
        one_class_acc = right / seen if seen else math.nan
        first = norms[0]
        pre_norm = model.net[: list(model.net).index(first)](x)
        assert first.running_mean is not None and first.running_var is not None
        batch_mean, batch_var = pre_norm.mean(0), pre_norm.var(0)
        mean_gap = float((first.running_mean - batch_mean).abs().mean())
    model.train()
    figures = {
        "eval_mode_acc": eval_acc,
        "train_mode_single_acc": train_acc,
        "train_mode_one_class_acc": one_class_acc,
        "running_mean_gap": mean_gap,
    }
    data = BatchNormData(
        running_mean=b64(first.running_mean),
        running_var=b64(first.running_var),
        batch_mean=b64(batch_mean),
        batch_var=b64(batch_var),
    )
    return BatchNormEvent(step=step, figures=figures, data=data)


def gradient_variance(model: LayeredNet, split: Split, batch_size: int, step: int, seed: int) -> GradientVarianceEvent:
    """E ||g_B - g||^2: how far a mini-batch gradient of this size lies from the full-batch gradient.
    Batches are drawn as training draws them, without replacement, so the expectation is
    tr(Cov)/B * (N-B)/(N-1) for N training examples: 1/B while B is small against N, and 0 at B = N."""
    was_training = model.training
    model.eval()  # dropout off: the noise measured is the sampling's only
    params = [p for p in model.parameters() if p.requires_grad]

    def gradient(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        grads = torch.autograd.grad(nn.functional.cross_entropy(model(x), y), params)
        return torch.cat([g.reshape(-1) for g in grads])

    full = gradient(split.x_train, split.y_train)
    generator = torch.Generator().manual_seed(seed)
    n = len(split.x_train)
    total = torch.zeros((), dtype=torch.float64, device=full.device)
    for _ in range(VARIANCE_DRAWS):
        index = torch.randperm(n, generator=generator)[:batch_size].to(full.device)
        total += (gradient(split.x_train[index], split.y_train[index]) - full).double().pow(2).sum()
    model.train(was_training)
    variance = float(total) / VARIANCE_DRAWS
    figures = {
        "variance": variance,
        "batch_size": float(batch_size),
        "train_size": float(n),
        "full_grad_norm": float(full.norm()),
    }
    return GradientVarianceEvent(step=step, figures=figures)


def query_points(model: LayeredNet, points: list[tuple[float, float]], step: int) -> QueryPointsEvent:
    """The model's class probabilities at exact input points (eval mode): what a boundary grid can only
    interpolate, e.g. whether a bias-free net gives both classes even odds at the origin."""
    device = next(model.parameters()).device
    probs = class_probabilities(model, torch.tensor(points, dtype=torch.float32, device=device))
    data = QueryPointsData(points=[list(p) for p in points], probs=probs.cpu().tolist())
    return QueryPointsEvent(step=step, data=data)


class CountedByLayer(Protocol):
    def parameters_per_layer(self) -> list[int]: ...


def parameter_table(model: CountedByLayer, spec: JobSpec) -> ParametersEvent:
    """Each weighted layer's parameters by formula (k*k*c_in*c_out + c_out...) next to torch's count."""
    by_torch = model.parameters_per_layer()
    rows = [
        ParameterRow(name=name, formula=formula, by_formula=count, by_torch=torch_count)
        for (name, count, formula), torch_count in zip(spec.layer_parameters(), by_torch, strict=True)
    ]
    figures = {"by_formula": float(spec.parameter_count()), "by_torch": float(sum(by_torch))}
    return ParametersEvent(step=0, figures=figures, data=ParametersData(layers=rows))


def unrolled_convolution(model: LayeredNet, split: Split, step: int) -> UnrolledConvolutionEvent | None:
    """The first convolution as the dense layer it is. Its weight matrix is found by convolving each unit
    input (a 1 at one position of one channel): column j is what input j contributes to every output. A
    linear layer with that matrix (and each channel's bias repeated at every position) gives the
    convolution's outputs (max_abs_diff, on the validation set), with many more weights, most of them
    zero (a filter sees only a k x k patch, or k positions) and the rest shared. None without one."""
    convs = [m for m in model.net if isinstance(m, nn.Conv1d | nn.Conv2d)]
    if not convs or not isinstance(model.net[0], nn.Unflatten):
        return None
    conv, example = convs[0], tuple(model.net[0].unflattened_size)
    with torch.no_grad():
        inputs = math.prod(example)
        basis = torch.eye(inputs, device=conv.weight.device).reshape(inputs, *example)
        convolve = nn.functional.conv1d if isinstance(conv, nn.Conv1d) else nn.functional.conv2d
        columns = convolve(basis, conv.weight, None, conv.stride, conv.padding)
        weight = columns.reshape(inputs, -1).T  # outputs x inputs
        positions = columns[0, 0].numel()
        bias = conv.bias.repeat_interleave(positions) if conv.bias is not None else torch.zeros(len(weight))
        x = split.x_val
        by_conv = conv(x.reshape(len(x), *example)).reshape(len(x), -1)
        by_dense = x @ weight.T + bias
        figures = {
            "max_abs_diff": float((by_conv - by_dense).abs().max()),
            "conv_parameters": float(sum(p.numel() for p in conv.parameters())),
            "dense_parameters": float(weight.numel() + len(bias)),
            "zero_fraction": float((weight == 0).double().mean()),
            "examples": float(len(x)),
        }
    return UnrolledConvolutionEvent(step=step, figures=figures, data=UnrolledConvolutionData(shape=list(weight.shape)))
