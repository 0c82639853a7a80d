"""The rules across a spec's fields and against the configured limits: each broken one a SpecError with
its location, an English reason, and a type and figures a page words in its own language."""

from __future__ import annotations

from typing import Any

from trainscope.config import Limits
from trainscope.schemas.data import DigitsData, Points2DData, SurfaceData, planar
from trainscope.schemas.spec import ConvNetSpec, JobSpec, MLPSpec, Params2DSpec
from trainscope.schemas.text import unprintable


class SpecError(ValueError):
    """A broken rule: `loc` names the field, `msg` says why in English, and `kind` and `ctx` (pydantic's
    error type and context where one fits) let a page say it in its reader's language."""

    def __init__(
        self, loc: tuple[str | int, ...], msg: str, kind: str = "value_error", ctx: dict[str, Any] | None = None
    ) -> None:
        super().__init__(msg)
        self.loc, self.msg, self.kind, self.ctx = loc, msg, kind, ctx or {}

    def __reduce__(self) -> tuple[type[SpecError], tuple[Any, ...]]:  # crosses to and from a process whole
        return SpecError, (self.loc, self.msg, self.kind, self.ctx)

    def at(self, *prefix: str | int) -> SpecError:
        """The same error, its location inside a larger body."""
        return SpecError((*prefix, *self.loc), self.msg, self.kind, self.ctx)


def at_most(loc: tuple[str | int, ...], limit: int, what: str = "") -> SpecError:
    return SpecError(loc, f"at most {limit}{what}", "less_than_equal", {"le": limit})


def spec_errors(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """Every rule across fields or against the configured limits that the spec breaks (empty: it fits)."""
    errors: list[SpecError] = []
    if problem := unprintable(spec.name):
        errors.append(SpecError(("name",), f"holds {problem}", "unprintable"))
    surface_data, surface_model = isinstance(spec.data, SurfaceData), isinstance(spec.model, Params2DSpec)
    if surface_data != surface_model:
        errors.append(
            SpecError(
                ("model", "kind"), "surface data pairs with a params2d model, and only with it", "surface_pairing"
            )
        )
    if isinstance(spec.data, SurfaceData) and spec.data.dims != 2 and spec.data.objective != "regression":
        errors.append(SpecError(("data", "dims"), "only the regression objective has more than 2 weights", "dims"))
    if spec.optim.optimizer == "random_search" and not surface_model:
        reason = "random search moves the parameters of a surface problem: only with a params2d model"
        errors.append(SpecError(("optim", "optimizer"), reason, "random_search_surface"))
    if spec.train_size < 1:
        errors.append(no_training_examples(("data",)))
    elif spec.optim.batch_size > spec.train_size:
        n = spec.train_size
        errors.append(
            SpecError(("optim", "batch_size"), f"must be at most the training-set size ({n})", "over_train", {"n": n})
        )
    if isinstance(spec.model, ConvNetSpec):
        errors += cnn_errors(spec.model, spec, limits)
    errors += only_cnn(spec)
    if isinstance(spec.model, MLPSpec | ConvNetSpec):
        if len(spec.model.hidden) > limits.max_hidden_layers:
            max_layers = limits.max_hidden_layers
            errors.append(
                SpecError(
                    ("model", "hidden"), f"at most {max_layers} hidden layers", "too_long", {"max_length": max_layers}
                )
            )
        for i, width in enumerate(spec.model.hidden):
            if width > limits.max_width:
                errors.append(at_most(("model", "hidden", i), limits.max_width, " units per layer"))
    if not limits.min_lr <= spec.optim.lr <= limits.max_lr:
        errors.append(lr_range(("optim", "lr"), limits))
    if spec.optim.steps > limits.max_steps:
        errors.append(at_most(("optim", "steps"), limits.max_steps))
    if spec.optim.eval_every > spec.optim.steps:
        errors.append(SpecError(("optim", "eval_every"), "must be at most the number of steps", "over_steps"))
    if spec.optim.batch_size > limits.max_batch_size:
        errors.append(at_most(("optim", "batch_size"), limits.max_batch_size))
    if isinstance(spec.data, DigitsData):
        room = (spec.data.canvas - 8) // 2
        for name in ("shift", "val_shift"):
            if (getattr(spec.data, name) or 0) > room:
                message = f"at most {room} on a {spec.data.canvas}-pixel canvas"
                errors.append(
                    SpecError(("data", name), message, "off_canvas", {"le": room, "canvas": spec.data.canvas})
                )
    if isinstance(spec.data, Points2DData | SurfaceData) and spec.data.n_points > limits.max_points:
        errors.append(at_most(("data", "n_points"), limits.max_points))
    if spec.probes.query_points and not planar(spec.data):
        errors.append(SpecError(("probes", "query_points"), "only for 2-D data", "only_2d"))
    if not isinstance(spec.data, SurfaceData) and spec.data.regression:
        for name in ("query_points", "gradient_check", "linear_collapse", "bn_modes", "grad_variance"):
            if getattr(spec.probes, name):
                errors.append(SpecError(("probes", name), "only for classification data", "only_classification"))
    if spec.optim.planted_bug != "none" and (isinstance(spec.data, SurfaceData) or spec.data.regression):
        errors.append(SpecError(("optim", "planted_bug"), "only for classification data", "only_classification"))
    if spec.probes.probe_size > limits.max_probe_size:
        errors.append(at_most(("probes", "probe_size"), limits.max_probe_size))
    if spec.probes.histogram_bins > limits.max_histogram_bins:
        errors.append(at_most(("probes", "histogram_bins"), limits.max_histogram_bins))
    if (count := spec.parameter_count()) > limits.max_parameters:
        limit = limits.max_parameters
        message = f"{count} parameters; at most {limit}"
        errors.append(SpecError(("model",), message, "too_many_parameters", {"count": count, "limit": limit}))
    return errors


# what each convolution's dimensions need of the data: (the data's name, the error's type)
CONV_INPUTS = {1: ("sequence data (mnist1d)", "needs_sequences"), 2: ("image data (digits)", "needs_images")}


def cnn_errors(model: ConvNetSpec, spec: JobSpec, limits: Limits) -> list[SpecError]:
    """A CNN needs examples with as many axes as it convolves; its convolutions must leave at least one
    position, each at most max_width channels; the one-off analyses written for an MLP's matrices are
    not for it."""
    example = getattr(spec.data, "example_shape", None)
    if example is None or len(example) != model.dims + 1:
        wanted, kind = CONV_INPUTS[model.dims]
        return [SpecError(("model", "kind"), f"a {model.kind} model needs {wanted}", kind)]
    errors = [
        at_most(("model", "conv", i, "channels"), limits.max_width, " channels")
        for i, conv in enumerate(model.conv)
        if conv.channels > limits.max_width
    ]
    size = min(example[1:])
    for i, conv in enumerate(model.conv):
        size = conv.out_size(size)
        if size < 1:
            message = f"the input is used up before this layer's output ({size} positions): less stride or pooling"
            errors.append(SpecError(("model", "conv", i), message, "image_used_up"))
            break
    for name in ("gradient_check", "linear_collapse", "bn_modes"):
        if getattr(spec.probes, name):
            errors.append(SpecError(("probes", name), "only for an mlp model", "only_mlp"))
    return errors


def only_cnn(spec: JobSpec) -> list[SpecError]:
    if spec.probes.unroll_conv and not isinstance(spec.model, ConvNetSpec):
        return [SpecError(("probes", "unroll_conv"), "only for a convolutional model", "only_cnn")]
    return []


def no_training_examples(loc: tuple[str | int, ...]) -> SpecError:
    message = "the validation, test and holdout shares leave no training examples"
    return SpecError(loc, message, "no_training_examples")


def lr_range(loc: tuple[str | int, ...], limits: Limits) -> SpecError:
    message = f"must lie in [{limits.min_lr:g}, {limits.max_lr:g}]"
    return SpecError(loc, message, "out_of_range", {"min": limits.min_lr, "max": limits.max_lr})
