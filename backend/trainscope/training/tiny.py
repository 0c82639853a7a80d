"""The step of a tiny plain MLP in NumPy: the playground's 2-D problems, flat out.

A 2-4-2 net on a batch of 10 is ~20 thousand flops; torch spends ~70 operator calls of 3-20 us each on
it (dispatch, autograd's graph, the optimizer's loop), so it trains at ~5,500 steps/s on a 2-core CPU.
The same forward, backward and update written out in NumPy, over views of the model's own parameter
tensors (no copy: torch and NumPy share the memory), is ~25 operations of ~1 us. It is used only where
it reproduces torch's step within float rounding (tests/unit/test_tiny.py checks it against autograd and
torch's optimizers): a plain MLP (linear layers and an activation; no batch norm, dropout or GELU), on
the CPU, in one process, hidden layers at most 64 wide, no planted bug (training/stacking.py's rule).
Probes still read torch: on a step they sample, the same pass runs through the model once more so their
hooks and gradients see it (what that costs is paid on sampling steps only). NumPy warns where torch is
silent (an overflow, a nan): the driver runs with those warnings off, as a diverging run's inf is its
result. A run alone is a stack of one; matched runs stack along a leading run axis (training/lockstep.py)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from trainscope.schemas.kinds.mlp import NetSpec
from trainscope.training.models import InputFeatures
from trainscope.training.stacking import tiny_reason
from trainscope.training.tasks import Figures, Task
from trainscope.training.tasks.supervised import SupervisedTask

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


class Activations:
    """Each run's activation over a stack of pre-activations (run, batch, units): one call when the runs
    share theirs, one per group of runs otherwise."""

    def __init__(self, per_run: list[tuple[str, float]]) -> None:
        def pair(name: str, slope: float) -> Activation:
            return _leaky(slope) if name == "leaky_relu" else ACTIVATIONS[name]

        kinds = sorted(set(per_run))
        self.shared = pair(*kinds[0]) if len(kinds) == 1 else None
        self.groups = [(np.array([i for i, k in enumerate(per_run) if k == kind]), pair(*kind)) for kind in kinds]

    def forward(self, a: Array) -> Array:
        if self.shared is not None:
            return self.shared[0](a)
        h = np.empty_like(a)
        for runs, (forward, _) in self.groups:
            h[runs] = forward(a[runs])
        return h

    def derivative(self, a: Array, h: Array) -> Array | np.float32:
        if self.shared is not None:
            return self.shared[1](a, h)
        d = np.empty_like(a)
        for runs, (_, derivative) in self.groups:
            d[runs] = derivative(a[runs], h[runs])
        return d


# Over the class axis of outputs (run, batch, class), column by column: NumPy reduces a short last axis one
# (run, batch) row at a time, ~6 us for a stack of 16 on a batch of 10 against ~1 us for an elementwise
# call; a tiny net has a few classes. Each gives what the reduction gives, to the bit (sum: see class_sum).


def class_max(outputs: Array) -> Array:
    top = outputs[:, :, 0]
    for c in range(1, outputs.shape[2]):
        top = np.maximum(top, outputs[:, :, c])
    return top


def class_argmax(outputs: Array) -> Array:
    """The first class of the largest output, as argmax (a nan output aside)."""
    top, best = outputs[:, :, 0], np.zeros(outputs.shape[:2], dtype=np.intp)
    for c in range(1, outputs.shape[2]):
        column = outputs[:, :, c]
        best[column > top] = c
        top = np.maximum(top, column)
    return best


def class_sum(values: Array) -> Array:
    """In NumPy's order for fewer than 8 classes (one after another); past that, its own (pairwise)."""
    classes = values.shape[2]
    if classes >= 8:
        pairwise: Array = np.add.reduce(values, axis=2)
        return pairwise
    total = values[:, :, 0]
    for c in range(1, classes):
        total = total + values[:, :, c]
    return total


def _stacked(tensors: list[torch.Tensor]) -> Array:
    """The runs' tensors stacked along a leading run axis, each tensor then made a view of its slice: the
    models read the stack's current values with no copy (a stack of one for a run alone)."""
    stack = np.stack([t.detach().numpy() for t in tensors])
    for tensor, row in zip(tensors, stack, strict=True):
        tensor.data = torch.from_numpy(row)
    return stack


class TinyNet:
    """Losses and gradients of R plain MLPs of one shape on one batch, their parameters stacked along a
    leading run axis (R = 1 for a run alone; R matched runs of a lockstep group, training/lockstep.py)."""

    def __init__(self, models: list[nn.Module], activations: list[tuple[str, float]], regression: bool) -> None:
        layers = [[m for m in model.modules() if isinstance(m, nn.Linear)] for model in models]
        self.weights = [_stacked([run[j].weight for run in layers]) for j in range(len(layers[0]))]
        self.biases: list[Array | None] = [
            None if layers[0][j].bias is None else _stacked([run[j].bias for run in layers])
            for j in range(len(layers[0]))
        ]
        self.transposed = [w.transpose(0, 2, 1) for w in self.weights]  # views, made once: each costs ~0.3 us
        self.activation = Activations(activations)
        self.regression = regression
        self.params = [p for pair in zip(self.weights, self.biases, strict=True) for p in pair if p is not None]

    def forward(self, x: Array) -> tuple[Array, list[Array], list[Array]]:
        """(outputs (run, batch, out), each layer's input, each hidden layer's pre-activation) for the one
        batch x that every run sees."""
        inputs, pre = [x], []
        h = x
        last = len(self.weights) - 1
        for i, (transposed, bias) in enumerate(zip(self.transposed, self.biases, strict=True)):
            a = np.matmul(h, transposed)  # (batch, in) or (run, batch, in) -> (run, batch, out)
            if bias is not None:
                a += bias[:, None, :]
            if i < last:
                pre.append(a)
                h = self.activation.forward(a)
                inputs.append(h)
            else:
                h = a
        return h, inputs, pre

    def losses(self, outputs: Array, y: Array, gradient: bool = True) -> tuple[Array, Array | None]:
        """Each run's mean loss and (with gradient) the loss's gradient with respect to the outputs."""
        n = len(y)
        delta = None
        if self.regression:  # mean squared error of the first output, as objective.REGRESSION
            error = outputs[:, :, 0] - y
            loss = np.add.reduce(error * error, axis=1) / n
            if gradient:
                delta = np.zeros_like(outputs)
                delta[:, :, 0] = error * np.float32(2 / n)
        else:  # cross-entropy on logits: log-sum-exp after taking out each row's maximum
            shifted = outputs - class_max(outputs)[:, :, None]
            exp = np.exp(shifted)
            total = class_sum(exp)[:, :, None]
            rows = np.arange(n)
            loss = np.add.reduce(np.log(total[:, :, 0]) - shifted[:, rows, y], axis=1) / n
            if gradient:
                delta = exp / total
                delta[:, rows, y] -= 1
                delta *= np.float32(1 / n)
        return loss, delta

    def gradients(self, x: Array, y: Array) -> tuple[Array, Array, list[Array]]:
        """(each run's mean loss on the batch, the outputs (run, batch, out), each parameter's gradient in
        `params` order); x and y are the one batch every run sees."""
        outputs, inputs, pre = self.forward(x)
        loss, delta = self.losses(outputs, y)
        assert delta is not None
        grads: list[Array] = []
        for i in range(len(self.weights) - 1, -1, -1):
            if self.biases[i] is not None:
                grads.append(np.add.reduce(delta, axis=1))
            grads.append(np.matmul(delta.transpose(0, 2, 1), inputs[i]))
            if i:
                delta = np.matmul(delta, self.weights[i]) * self.activation.derivative(pre[i - 1], inputs[i])
        grads.reverse()  # built output layer first, bias before weight: now weight, bias per layer
        return loss, outputs, grads


class TinyOptimizer:
    """torch's SGD, momentum (0.9), RMSprop and Adam/AdamW updates in NumPy on stacked parameters (any
    shape behind the run axis), each run's learning rate and weight decay read from its torch optimizer's
    group (where set_lr writes)."""

    def __init__(self, name: str, params: list[Array], groups: list[dict[str, object]]) -> None:
        self.name, self.params, self.groups, self.t = name, params, groups, 0
        self.key: tuple[tuple[object, object], ...] = ()
        self.lr64, self.decays = np.empty(0), False
        # per-run values shaped to broadcast against a stack of each rank: (run, 1, ..., 1)
        self.shapes = {p.ndim: (-1,) + (1,) * (p.ndim - 1) for p in params}
        self.scaled: dict[int, tuple[Array, Array]] = {}
        self.first = [np.zeros_like(p) for p in params]  # momentum buffer, Adam's m, RMSprop's mean square
        self.second = [np.zeros_like(p) for p in params]  # Adam's v

    def adopt(self, other: TinyOptimizer, slots: list[int]) -> None:
        """Carry on from another's state, whose runs at `slots` are this one's, in order (a group split)."""
        self.t = other.t
        for mine, theirs in zip(self.first + self.second, other.first + other.second, strict=True):
            mine[...] = theirs[slots]

    def rates(self) -> None:
        """Each run's learning rate (float64) and, per stack rank, its rate and decay in float32; rebuilt
        only when a group's values change (a set_lr): building them costs more than a tiny net's update."""
        key = tuple((g["lr"], g["weight_decay"]) for g in self.groups)
        if key == self.key:
            return
        values = np.array(key, dtype=np.float64)
        lr64, decay64 = values[:, 0], values[:, 1]
        # AdamW shrinks each weight by lr * decay; the others add decay * weight to its gradient
        decay = (1 - lr64 * decay64 if self.name == "adamw" else decay64).astype(np.float32)
        rate = lr64.astype(np.float32)
        self.key, self.lr64, self.decays = key, lr64, bool(decay64.any())
        self.scaled = {ndim: (rate.reshape(shape), decay.reshape(shape)) for ndim, shape in self.shapes.items()}

    def step(self, grads: list[Array]) -> None:
        self.rates()
        self.t += 1
        name, decays, scaled = self.name, self.decays, self.scaled
        if name == "adam" or name == "adamw":  # the rate over the correction in float64, then float32, as torch
            correction1, root2 = 1 - 0.9**self.t, math.sqrt(1 - 0.999**self.t)
            rate = (self.lr64 / correction1).astype(np.float32)
            scaled = {ndim: (rate.reshape(shape), scaled[ndim][1]) for ndim, shape in self.shapes.items()}
        for p, g, first, second in zip(self.params, grads, self.first, self.second, strict=True):
            r, d = scaled[p.ndim]
            if decays and name == "adamw":
                p *= d
            elif decays:
                g = g + d * p
            if name == "sgd":
                p -= r * g
            elif name == "momentum":
                if self.t == 1:
                    first[...] = g
                else:
                    first *= np.float32(0.9)
                    first += g
                p -= r * first
            elif name == "rmsprop":
                first *= np.float32(0.99)
                first += np.float32(0.01) * g * g
                p -= r * g / (np.sqrt(first) + np.float32(1e-8))
            else:
                first += np.float32(0.1) * (g - first)
                second *= np.float32(0.999)
                second += np.float32(0.001) * g * g
                p -= r * first / (np.sqrt(second) / np.float32(root2) + np.float32(1e-8))


class TinyStack:
    """Supervised MLP tasks of one shape on the same data and batches (one task: a run alone), stepped
    together in NumPy: their batches come from the first task's, and each run reads its slice (TinyRun)."""

    def __init__(self, tasks: list[SupervisedTask], optimizers: list[torch.optim.Optimizer]) -> None:
        first = tasks[0]
        model, name, split = first.model, first.spec.optim.optimizer, first.split
        features = model.net[0] if isinstance(model.net[0], InputFeatures) else None

        def arrays(x: torch.Tensor, y: torch.Tensor) -> tuple[Array, Array]:
            """A set as the first layer sees it: fixed features of each point computed once, not per step."""
            if features is not None:
                with torch.no_grad():
                    x = features(x)
            return np.ascontiguousarray(x.numpy()), y.numpy()

        self.x, self.y = arrays(split.x_train, split.y_train)
        self.scored = {"val": arrays(split.x_val, split.y_val)}
        self.held_out = {name: arrays(*pair) for name, pair in split.held_out().items()}
        self.train_eval = [task.spec.probes.train_eval for task in tasks]
        self.batches = first.batches
        nets = [task.spec.model for task in tasks]
        activations = [(str(net.activation), net.leaky_slope) for net in nets if isinstance(net, NetSpec)]
        self.net = TinyNet([task.model for task in tasks], activations, first.objective.accuracy is None)
        self.optimizer = TinyOptimizer(name, self.net.params, [o.param_groups[0] for o in optimizers])
        self.grads: list[Array] = []
        self.losses, self.accuracy, self.index = np.empty(0), np.empty(0), torch.empty(0)
        self.computed = 0  # steps computed, which keys the evaluation shared by the runs of one step
        self.evaluated: tuple[tuple[int, bool], list[dict[str, float]]] = ((-1, False), [])

    def evaluations(self, final: bool) -> list[dict[str, float]]:
        """Each run's figures of an evaluation step, as tasks.supervised.evaluate scores them (at the end,
        the held-out sets too; the whole training set as train_eval/* for a run that asks), computed once
        for all runs of the step."""
        if self.evaluated[0] != (self.computed, final):
            sets = {**self.scored, **(self.held_out if final else {})}
            if any(self.train_eval):
                sets["train_eval"] = (self.x, self.y)
            figures: dict[str, Array] = {}
            for name, (x, y) in sets.items():
                outputs = self.net.forward(x)[0]
                figures[f"{name}/loss"] = self.net.losses(outputs, y, gradient=False)[0]
                if not self.net.regression:
                    figures[f"{name}/acc"] = np.count_nonzero(class_argmax(outputs) == y, axis=1) / len(y)
            per_run = [
                {tag: float(v[run]) for tag, v in figures.items() if wants or not tag.startswith("train_eval/")}
                for run, wants in enumerate(self.train_eval)
            ]
            self.evaluated = ((self.computed, final), per_run)
        return self.evaluated[1]

    def compute(self, measure: bool) -> None:
        """Every run's loss on the next batch (with measure, its accuracy too) and gradients, kept for
        apply(); the batch's index, which a probe's pass in torch reads the same examples with."""
        self.computed += 1
        self.index = self.batches.next()
        rows = self.index.numpy()
        y = self.y[rows]
        self.losses, outputs, self.grads = self.net.gradients(self.x[rows], y)
        if measure and not self.net.regression:
            self.accuracy = np.count_nonzero(class_argmax(outputs) == y, axis=1) / len(y)

    def rows(self) -> list[float]:
        """What each run buffers for this step: its loss."""
        return list(self.losses.tolist())

    def skip(self, steps: int) -> None:
        """Move its batches on by `steps` (a stack split off a group carries on where the group was)."""
        for _ in range(steps):
            self.batches.next()

    def apply(self) -> None:
        self.optimizer.step(self.grads)


class TinyRun:
    """One run's step on the tiny path, as the driver calls it; a run alone computes and applies its
    stack of one, a run of a lockstep group reads its slice of what the group computed."""

    def __init__(self, stack: TinyStack, run: int, task: SupervisedTask, alone: bool) -> None:
        self.stack, self.run, self.split, self.alone = stack, run, task.split, alone

    def gradients(self, measure: bool) -> tuple[float, Figures]:
        """This run's loss on the step's batch and its figures (with measure)."""
        stack = self.stack
        if self.alone:
            stack.compute(measure)
        return float(stack.losses[self.run]), self.figures(measure)

    def figures(self, measure: bool) -> Figures:
        """What a step measures beside its loss: on classes, the batch's accuracy (on a measuring step)."""
        if not measure or self.stack.net.regression:
            return {}
        return {"train/acc": torch.tensor(float(self.stack.accuracy[self.run]), dtype=torch.float64)}

    def evaluation(self, final: bool) -> dict[str, float]:
        """This run's figures of an evaluation step (the stack scores every run's at once)."""
        return self.stack.evaluations(final)[self.run]

    def torch_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The step's batch as torch tensors (the plain points: the model computes their features itself)."""
        index = self.stack.index
        return self.split.x_train[index], self.split.y_train[index]

    def apply(self) -> None:
        if self.alone:
            self.stack.apply()


def tiny_step(task: Task, optimizer: torch.optim.Optimizer | None) -> TinyRun | None:
    """The tiny path for this run's step, where it applies."""
    if not isinstance(task, SupervisedTask) or optimizer is None or task.step_tags != ("train/loss",):
        return None
    if tiny_reason(task.spec, task.device.type) is not None:
        return None
    return TinyRun(TinyStack([task], [optimizer]), 0, task, alone=True)
