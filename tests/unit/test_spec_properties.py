"""Properties of JobSpec validation (hypothesis): whatever is accepted trains without crashing; whatever
is refused is refused naming a field."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trainscope.config import Limits
from trainscope.schemas import JobSpec, spec_errors
from trainscope.training.driver import fit

LIMITS = Limits()
TOP_FIELDS = set(JobSpec.model_fields)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-5, 5), max_size=3),
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly plausible values (some out of range), one in twenty junk of any type."""
    return st.integers(0, 19).flatmap(lambda k: junk if k == 0 else strategy)


splits = {
    "val_fraction": maybe(st.floats(0, 1)),
    "test_fraction": maybe(st.floats(0, 0.6)),
    "holdout_fraction": maybe(st.floats(0, 0.6)),
    "train_limit": maybe(st.one_of(st.none(), st.integers(0, 300))),
    "seed": maybe(st.one_of(st.none(), st.integers(0, 100))),
}
points = st.fixed_dictionaries(
    {"kind": st.just("points2d")},
    optional={
        "dataset": maybe(st.sampled_from(["circle", "xor", "gauss", "spiral", "moons"])),
        "n_points": maybe(st.integers(0, 400)),
        "noise": maybe(st.floats(0, 1)),
        "offset": maybe(st.tuples(st.floats(-12, 12), st.floats(-12, 12))),
        **splits,
    },
)
digits = st.fixed_dictionaries({"kind": st.just("digits")}, optional=splits)
surface = st.fixed_dictionaries(
    {"kind": st.just("surface")},
    optional={
        "objective": maybe(st.sampled_from(["linreg", "rosenbrock", "beale"])),
        "n_points": maybe(st.integers(0, 300)),
        "noise": maybe(st.floats(0, 6)),
    },
)
params2d = st.fixed_dictionaries(
    {"kind": st.just("params2d")}, optional={"start": maybe(st.tuples(st.floats(-12, 12), st.floats(-12, 12)))}
)
mlp = st.fixed_dictionaries(
    {},
    optional={
        "hidden": maybe(st.lists(st.integers(-1, 12), min_size=0, max_size=4)),
        "activation": maybe(st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "identity"])),
        "bias": maybe(st.booleans()),
        "batch_norm": maybe(st.booleans()),
        "dropout": maybe(st.floats(0, 1)),
        "init": maybe(st.sampled_from(["default", "he", "xavier"])),
    },
)
optim = st.fixed_dictionaries(
    {},
    optional={
        "optimizer": maybe(st.sampled_from(["sgd", "momentum", "rmsprop", "adam", "adamw"])),
        "lr": maybe(st.floats(1e-7, 1e5)),
        "weight_decay": maybe(st.floats(0, 1)),
        "batch_size": maybe(st.integers(0, 300)),
        "steps": maybe(st.integers(0, 30)),
        "eval_every": maybe(st.integers(0, 40)),
        "divergence_factor": maybe(st.one_of(st.none(), st.floats(1, 1e3))),
    },
)
probes = st.fixed_dictionaries(
    {},
    optional={
        name: maybe(st.integers(0, 5))
        for name in ("histogram_every", "layers_every", "embedding_every", "boundary_every", "network_every")
    }
    | {"histogram_bins": maybe(st.integers(0, 50)), "boundary_grid": maybe(st.integers(0, 12))}
    | {name: maybe(st.booleans()) for name in ("gradient_check", "linear_collapse", "bn_modes", "grad_variance")},
)
specs = st.fixed_dictionaries(
    {},
    optional={
        "data": st.one_of(points, points, digits, surface, junk),
        "model": maybe(st.one_of(mlp, mlp, mlp, params2d)),
        "optim": maybe(optim),
        "probes": maybe(probes),
        "seed": maybe(st.integers(0, 100)),
        "device": maybe(st.just("cpu")),
        "name": maybe(st.text(max_size=10)),
    },
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs)
def test_accepted_specs_train_and_refused_ones_name_a_field(raw: dict[str, Any]) -> None:
    try:
        spec = JobSpec.model_validate(raw)
    except ValidationError as error:
        event("refused by the schema")
        for detail in error.errors():
            assert detail["loc"] and detail["loc"][0] in TOP_FIELDS, detail
            assert detail["msg"]
        return
    errors = spec_errors(spec, LIMITS)
    if errors:
        event("refused by a limit or a cross-field rule")
        assert all(e.loc and e.loc[0] in TOP_FIELDS and e.msg for e in errors)
        return
    event("accepted and trained")
    result = fit(spec, lambda _event: None)  # must not raise, whatever the accepted settings
    assert result.status in {"done", "diverged"}
    assert 1 <= result.step <= spec.optim.steps
