"""The MLP: hidden widths, activation, bias, batch norm, dropout and init (what a CNN's head shares), on
any labelled data."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from trainscope.schemas.data import Strict
from trainscope.schemas.errors import SpecError, at_most
from trainscope.schemas.registry import Layer, ModelKind, Words

if TYPE_CHECKING:
    from trainscope.config import Limits
    from trainscope.schemas.spec import JobSpec

Activation = Literal["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "identity"]
LABELLED = ("points2d", "digits", "mnist1d", "uploaded")  # the data kinds with examples and labels


class NetSpec(Strict):
    """What an MLP and a CNN's head share: hidden widths, activation, bias, batch norm, dropout, init."""

    hidden: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [8, 8], description="hidden widths; none: logistic (or linear) regression"
    )
    activation: Activation = "tanh"
    leaky_slope: float = Field(0.01, gt=0.0, lt=1.0, description="leaky_relu only: the slope below zero")
    bias: bool = True
    batch_norm: bool = False
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    init_seed: int | None = Field(
        None, ge=0, le=2**31 - 1, description="seed of the initial weights only (null: the job's seed)"
    )
    init: Literal["default", "he", "xavier"] = Field(
        "default",
        description="weight init, uniform: default +-1/sqrt(fan_in) (PyTorch's), he +-sqrt(6/fan_in), "
        "xavier +-sqrt(6/(fan_in+fan_out))",
    )


class MLPSpec(NetSpec):
    kind: Literal["mlp"] = "mlp"


class LayerCounter:
    """Layers by formula: a convolution k*k*c_in*c_out (+ c_out biases), a linear layer fan_in*fan_out
    (+ fan_out), a batch norm 2 per channel or unit (none after the read-out)."""

    def __init__(self, model: NetSpec) -> None:
        self.model, self.layers = model, list[Layer]()

    def add(self, name: str, factors: list[int], width: int) -> None:
        weights, terms = math.prod(factors), ["·".join(map(str, factors))]
        biases = width if self.model.bias else 0
        norm = 2 * width if self.model.batch_norm and name != "output" else 0
        terms += [str(width)] * bool(biases) + [f"2·{width}"] * bool(norm)
        self.layers.append((name, weights + biases + norm, " + ".join(terms)))

    def dense(self, fan_in: int, outputs: int, prefix: str) -> list[Layer]:
        """The hidden layers over `fan_in` inputs and the read-out; every layer counted so far."""
        widths = [fan_in, *self.model.hidden, outputs]
        for i, (inputs, width) in enumerate(itertools.pairwise(widths)):
            self.add(f"{prefix}{i + 1}" if i < len(self.model.hidden) else "output", [inputs, width], width)
        return self.layers


def mlp_layers(model: MLPSpec, data: Any) -> list[Layer]:
    return LayerCounter(model).dense(data.in_features, data.n_outputs, "layer")


def hidden_rules(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """Hidden layers within the configured depth and width."""
    model = spec.model
    assert isinstance(model, NetSpec)
    errors: list[SpecError] = []
    if len(model.hidden) > limits.max_hidden_layers:
        most = limits.max_hidden_layers
        errors.append(SpecError(("model", "hidden"), f"at most {most} hidden layers", "too_long", {"max_length": most}))
    errors += [
        at_most(("model", "hidden", i), limits.max_width, " units per layer")
        for i, width in enumerate(model.hidden)
        if width > limits.max_width
    ]
    return errors


def hidden_tap_rules(spec: JobSpec, hidden_layers: int) -> list[SpecError]:
    """An embedding of hidden/N needs an N-th hidden layer."""
    tap = spec.probes.embedding_tap or ""
    if tap.startswith("hidden/") and int(tap.split("/")[1]) >= hidden_layers:
        message = f"this model has {hidden_layers} hidden layers: hidden/0 to hidden/{hidden_layers - 1}"
        return [SpecError(("probes", "embedding_tap"), message, "no_such_tap", {"count": hidden_layers})]
    return []


def mlp_rules(spec: JobSpec, limits: Limits) -> list[SpecError]:
    model = spec.model
    assert isinstance(model, MLPSpec)
    errors = hidden_rules(spec, limits) + hidden_tap_rules(spec, len(model.hidden))
    if spec.probes.unroll_conv:
        errors.append(SpecError(("probes", "unroll_conv"), "only for a convolutional model", "only_cnn"))
    return errors


KINDS = [
    ModelKind(
        MLPSpec,
        task="trainscope.training.tasks.supervised:SupervisedTask",
        data_parallel=True,
        lockstep=True,
        data=LABELLED,
        layers=mlp_layers,
        rules=mlp_rules,
        taps=("layers", "matrices", "hidden", "logits"),
        views=("parameters",),
        words={
            "en": Words("MLP", "fully connected layers: every unit sees every input"),
            "ko": Words("MLP", "완전 연결층: 모든 유닛이 모든 입력을 봅니다"),
        },
    )
]
