"""The step of a tiny plain MLP in NumPy: the playground's 2-D problems, flat out.

A 2-4-2 net on a batch of 10 is ~20 thousand flops; torch spends ~70 operator calls of 3-20 us each on
it (dispatch, autograd's graph, the optimizer's loop), so it trains at ~5,500 steps/s on a 2-core CPU.
The same forward, backward and update written out in NumPy, over views of the model's own parameter
tensors (no copy: torch and NumPy share the memory), is ~25 operations of ~1 us. It is used only where
it reproduces torch's step within float rounding (tests/unit/test_tiny.py checks it against autograd and
torch's optimizers): a plain MLP (linear layers and an activation; no batch norm, dropout or GELU), on
the CPU, in one process, hidden layers at most TINY_MAX_WIDTH wide, no planted bug. Probes still read
torch: on a step they sample, the same pass runs through the model once more so their hooks and
gradients see it (what that costs is paid on sampling steps only). NumPy warns where torch is silent (an
overflow, a nan): the driver runs with those warnings off, since a diverging run's inf is its result."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from trainscope.schemas import JobSpec, planar
from trainscope.schemas.kinds.mlp import NetSpec
from trainscope.training.models import InputFeatures
from trainscope.training.tasks import Figures, Task
from trainscope.training.tasks.supervised import SupervisedTask

# Past this width a step's matrix products, not per-operator overhead, dominate, and torch's kernels win
# (benchmarks/throughput.py measures the tiny path against the bare torch loop on the form's default 8-8).
TINY_MAX_WIDTH = 8
PATH_TINY, PATH_EAGER = "numpy", "eager"  # the step path a run's system events name

Array = np.ndarray
Activation = tuple[Callable[[Array], Array], Callable[[Array, Array], Array | np.float32]]


def _leaky(slope: float) -> Activation:
    return (lambda a: np.where(a > 0, a, a * np.float32(slope))), (
        lambda a, h: np.where(a > 0, np.float32(1), np.float32(slope))
    )


# activation -> (forward of the pre-activation a, derivative from a and the output h), as torch computes
# them: relu's gradient is 0 at 0, leaky relu's slope applies at 0 and below
ACTIVATIONS: dict[str, Activation] = {
    "tanh": (np.tanh, lambda a, h: 1 - h * h),
    "relu": (lambda a: np.maximum(a, np.float32(0)), lambda a, h: (a > 0).astype(np.float32)),
    "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), lambda a, h: h * (1 - h)),
    "identity": (lambda a: a, lambda a, h: np.float32(1)),
}


def _views(model: nn.Module) -> tuple[list[Array], list[Array | None]]:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    weights: list[Array] = [layer.weight.detach().numpy() for layer in linears]
    biases: list[Array | None] = [None if layer.bias is None else layer.bias.detach().numpy() for layer in linears]
    return weights, biases


class TinyNet:
    """Loss and gradients of a plain MLP on a batch, over NumPy views of its parameters."""

    def __init__(self, model: nn.Module, activation: str, slope: float, regression: bool) -> None:
        self.weights, self.biases = _views(model)
        self.forward, self.derivative = _leaky(slope) if activation == "leaky_relu" else ACTIVATIONS[activation]
        self.regression = regression
        self.params = [p for pair in zip(self.weights, self.biases, strict=True) for p in pair if p is not None]

    def gradients(self, x: Array, y: Array) -> tuple[float, Array, list[Array]]:
        """(the batch's mean loss, the outputs, each parameter's gradient in `params` order)."""
        inputs, pre = [x], []
        h = x
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            a = h @ weight.T
            if bias is not None:
                a += bias
            if i < last:
                pre.append(a)
                h = self.forward(a)
                inputs.append(h)
            else:
                h = a
        outputs, n = h, len(x)
        if self.regression:  # mean squared error of the first output, as objective.REGRESSION
            error = outputs[:, 0] - y
            loss = float(np.dot(error, error)) / n  # np.mean's Python wrapper costs more than this whole line
            delta = np.zeros_like(outputs)
            delta[:, 0] = error * np.float32(2 / n)
        else:  # cross-entropy on logits: log-sum-exp after taking out the row's maximum
            shifted = outputs - outputs.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = np.add.reduce(exp, axis=1, keepdims=True)
            rows = np.arange(n)
            loss = float(np.add.reduce(np.log(total[:, 0]) - shifted[rows, y])) / n
            delta = exp / total
            delta[rows, y] -= 1
            delta *= np.float32(1 / n)
        grads: list[Array] = []
        for i in range(last, -1, -1):
            if self.biases[i] is not None:
                grads.append(np.add.reduce(delta, axis=0))
            grads.append(delta.T @ inputs[i])
            if i:
                delta = (delta @ self.weights[i]) * self.derivative(pre[i - 1], inputs[i])
        grads.reverse()  # built output layer first, bias before weight: now weight, bias per layer
        return loss, outputs, grads


class TinyOptimizer:
    """torch's SGD, momentum (0.9), RMSprop and Adam/AdamW updates in NumPy, reading the learning rate
    and weight decay from torch's optimizer's group, where a set_lr command writes them."""

    def __init__(self, name: str, params: list[Array], group: dict[str, object]) -> None:
        self.name, self.params, self.group, self.t = name, params, group, 0
        self.first = [np.zeros_like(p) for p in params]  # momentum buffer, Adam's m, RMSprop's mean square
        self.second = [np.zeros_like(p) for p in params]  # Adam's v

    def step(self, grads: list[Array]) -> None:
        lr, decay = float(self.group["lr"]), float(self.group["weight_decay"])  # type: ignore[arg-type]
        self.t += 1
        name = self.name
        if name == "adam" or name == "adamw":
            correction1, root2 = 1 - 0.9**self.t, math.sqrt(1 - 0.999**self.t)
        for p, g, first, second in zip(self.params, grads, self.first, self.second, strict=True):
            if decay and name == "adamw":
                p *= np.float32(1 - lr * decay)
            elif decay:
                g = g + decay * p
            if name == "sgd":
                p -= lr * g
            elif name == "momentum":
                if self.t == 1:
                    first[...] = g
                else:
                    first *= np.float32(0.9)
                    first += g
                p -= lr * first
            elif name == "rmsprop":
                first *= np.float32(0.99)
                first += np.float32(0.01) * g * g
                p -= lr * g / (np.sqrt(first) + np.float32(1e-8))
            else:
                first += np.float32(0.1) * (g - first)
                second *= np.float32(0.999)
                second += np.float32(0.001) * g * g
                p -= np.float32(lr / correction1) * first / (np.sqrt(second) / np.float32(root2) + np.float32(1e-8))


def tiny_reason(spec: JobSpec, device: torch.device) -> str | None:
    """Why this run's step is not the tiny path (None: it is)."""
    m, optim = spec.model, spec.optim
    if device.type != "cpu":
        return "not on the CPU"
    if m.kind != "mlp" or not planar(spec.data):
        return "not an MLP on 2-D points"
    if spec.distributed.world_size > 1:
        return "data parallel"
    if optim.planted_bug != "none" or optim.optimizer not in ("sgd", "momentum", "rmsprop", "adam", "adamw"):
        return "a planted bug or an optimizer without a NumPy step"
    hidden, activation = getattr(m, "hidden", []), getattr(m, "activation", "")
    if any(width > TINY_MAX_WIDTH for width in hidden):
        return f"a hidden layer wider than {TINY_MAX_WIDTH}"
    if activation not in (*ACTIVATIONS, "leaky_relu"):
        return f"no NumPy step for {activation}"
    if getattr(m, "batch_norm", False) or getattr(m, "dropout", 0.0) > 0:
        return "batch norm or dropout"
    return None


class TinyStep:
    """A supervised MLP task's batches and step in NumPy, over its own data and parameters."""

    def __init__(self, task: SupervisedTask, optimizer: torch.optim.Optimizer) -> None:
        spec, model = task.spec, task.model
        assert isinstance(spec.model, NetSpec)
        inputs = task.split.x_train
        if isinstance(model.net[0], InputFeatures):  # fixed features of each point: computed once, not per step
            with torch.no_grad():
                inputs = model.net[0](inputs)
        self.x, self.y = np.ascontiguousarray(inputs.numpy()), task.split.y_train.numpy()
        self.batches, self.split = task.batches, task.split
        self.net = TinyNet(model, spec.model.activation, spec.model.leaky_slope, task.objective.accuracy is None)
        self.optimizer = TinyOptimizer(spec.optim.optimizer, self.net.params, optimizer.param_groups[0])
        self.grads: list[Array] = []

    def gradients(self, measure: bool) -> tuple[float, Figures, torch.Tensor]:
        """The next batch's loss (with measure, its accuracy too) and gradients, kept for apply(); the
        batch's index, which the probes' pass in torch reads the same examples with."""
        index = self.batches.next()
        rows = index.numpy()
        y = self.y[rows]
        loss, outputs, self.grads = self.net.gradients(self.x[rows], y)
        figures: Figures = {}
        if measure and not self.net.regression:
            hits = np.count_nonzero(outputs.argmax(axis=1) == y)
            figures["train/acc"] = torch.tensor(hits / len(y), dtype=torch.float64)
        return loss, figures, index

    def torch_batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same batch as torch tensors (the plain points: the model computes their features itself)."""
        return self.split.x_train[index], self.split.y_train[index]

    def apply(self) -> None:
        self.optimizer.step(self.grads)


def tiny_step(task: Task, optimizer: torch.optim.Optimizer | None) -> TinyStep | None:
    """The tiny path for this run's step, where it applies."""
    if not isinstance(task, SupervisedTask) or optimizer is None or task.step_tags != ("train/loss",):
        return None
    if tiny_reason(task.spec, task.device) is not None:
        return None
    return TinyStep(task, optimizer)
