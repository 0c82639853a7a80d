"""The rules across a spec's fields and against the configured limits: each broken one a SpecError with
its location, an English reason, and a type and figures a page words in its own language."""

from __future__ import annotations

from trainscope.config import Limits
from trainscope.schemas.data import SurfaceData, planar
from trainscope.schemas.errors import SpecError, at_most
from trainscope.schemas.registry import registry
from trainscope.schemas.spec import JobSpec
from trainscope.schemas.text import unprintable


def spec_errors(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """Every rule across fields or against the configured limits that the spec breaks (empty: it fits):
    those every spec has, then its model kind's and its data kind's own."""
    errors: list[SpecError] = []
    if problem := unprintable(spec.name):
        errors.append(SpecError(("name",), f"holds {problem}", "unprintable"))
    kinds = registry()
    model, data = kinds.model(spec.model.kind), kinds.data[spec.data.kind]
    paired = spec.data.kind in model.data
    if not paired:
        trains_on = ", ".join(model.data)
        message = f"a {model.name} model trains on {trains_on} data, not {data.name}"
        errors.append(SpecError(("model", "kind"), message, "data_pairing", {"trains_on": trains_on}))
    surface = isinstance(spec.data, SurfaceData)
    if isinstance(spec.data, SurfaceData) and spec.data.dims != 2 and spec.data.objective != "regression":
        errors.append(SpecError(("data", "dims"), "only the regression objective has more than 2 weights", "dims"))
    if spec.optim.optimizer == "random_search" and not surface:
        reason = "random search moves the parameters of a surface problem: only with a params2d model"
        errors.append(SpecError(("optim", "optimizer"), reason, "random_search_surface"))
    if spec.train_size < 1:
        errors.append(no_training_examples(("data",)))
    elif spec.optim.batch_size > spec.train_size:
        n = spec.train_size
        errors.append(
            SpecError(("optim", "batch_size"), f"must be at most the training-set size ({n})", "over_train", {"n": n})
        )
    tap = spec.probes.embedding_tap
    if tap is not None and (tap.split("/")[0] not in model.taps or tap in ("layers", "matrices")):  # no tensors
        message = f"a {model.name} model has no {tap} tap (its taps: {', '.join(model.taps) or 'none'})"
        errors.append(SpecError(("probes", "embedding_tap"), message, "no_such_tap", {"taps": ", ".join(model.taps)}))
    if paired:
        errors += model.rules(spec, limits)
    errors += data.rules(spec, limits)
    if not limits.min_lr <= spec.optim.lr <= limits.max_lr:
        errors.append(lr_range(("optim", "lr"), limits))
    if spec.optim.steps > limits.max_steps:
        errors.append(at_most(("optim", "steps"), limits.max_steps))
    if spec.optim.eval_every > spec.optim.steps:
        errors.append(SpecError(("optim", "eval_every"), "must be at most the number of steps", "over_steps"))
    if spec.optim.batch_size > limits.max_batch_size:
        errors.append(at_most(("optim", "batch_size"), limits.max_batch_size))
    errors += distributed_errors(spec, limits)
    if spec.probes.query_points and not planar(spec.data):
        errors.append(SpecError(("probes", "query_points"), "only for 2-D data", "only_2d"))
    if regression(spec):
        for name in ("query_points", "gradient_check", "linear_collapse", "bn_modes", "grad_variance"):
            if getattr(spec.probes, name):
                errors.append(SpecError(("probes", name), "only for classification data", "only_classification"))
    if spec.optim.planted_bug != "none" and (isinstance(spec.data, SurfaceData) or regression(spec)):
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


def distributed_errors(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """A data-parallel run needs a kind stepped by gradients on mini-batches, and a batch the ranks share."""
    ranks = spec.distributed.world_size
    loc = ("distributed", "world_size")
    if ranks == 1:
        return (
            [SpecError(("distributed", "backend"), "only with 2 or more ranks", "one_rank")]
            if (spec.distributed.backend != "auto")
            else []
        )
    if ranks > limits.max_world_size:
        return [at_most(loc, limits.max_world_size)]
    kind = registry().model(spec.model.kind)
    if not kind.data_parallel:
        message = f"a {kind.name} model does not train on mini-batches that ranks can share"
        return [SpecError(loc, message, "not_data_parallel")]
    if spec.optim.batch_size % ranks:
        message = f"must be a multiple of distributed.world_size ({ranks}): each rank takes an equal share"
        return [SpecError(("optim", "batch_size"), message, "batch_not_shared", {"ranks": ranks})]
    if spec.distributed.backend == "nccl" and spec.device == "cpu":
        return [SpecError(("distributed", "backend"), "nccl runs on GPUs: use gloo on the CPU", "nccl_on_cpu")]
    return []


def regression(spec: JobSpec) -> bool:
    """Whether the data's label is a value to predict (a data kind without labels is not)."""
    return bool(getattr(spec.data, "regression", False))


def no_training_examples(loc: tuple[str | int, ...]) -> SpecError:
    message = "the validation, test and holdout shares leave no training examples"
    return SpecError(loc, message, "no_training_examples")


def lr_range(loc: tuple[str | int, ...], limits: Limits) -> SpecError:
    message = f"must lie in [{limits.min_lr:g}, {limits.max_lr:g}]"
    return SpecError(loc, message, "out_of_range", {"min": limits.min_lr, "max": limits.max_lr})
