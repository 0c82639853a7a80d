"""The registry of kinds: the unions it generates, what a kind's taps offer, and the rules it brings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trainscope.config import Limits
from trainscope.schemas import JobSpec, ProbeSpec, spec_errors
from trainscope.schemas.registry import offered, registry
from trainscope.schemas.spec import probes_offered


def test_needs_are_met_by_every_entry_and_an_entry_by_any_of_its_choices() -> None:
    assert offered([], [])
    assert offered(["layers", "hidden|latent"], ["latent", "layers"])
    assert not offered(["layers", "hidden|latent"], ["hidden"])
    assert not offered(["logits"], [])


def test_a_kind_offers_the_probes_its_taps_allow() -> None:
    kinds = registry().models
    network = probes_offered(kinds["mlp"].taps)
    assert set(network) == {name for name in ProbeSpec.model_fields if name.endswith("_every")}
    assert probes_offered(kinds["cnn2d"].taps) == network
    assert probes_offered(kinds["params2d"].taps) == ["system_every"]  # no taps: what every run has
    assert probes_offered(("embeddings",)) == ["embedding_every", "system_every"]  # a kind of word vectors


def test_the_spec_union_is_the_registry_and_names_its_kinds_when_one_is_unknown() -> None:
    for name, kind in registry().models.items():
        assert type(JobSpec.model_validate({"model": {"kind": name}}).model) is kind.spec
    for name, data in registry().data.items():
        fields = {"dataset": "0123456789ab"} if name == "uploaded" else {}
        assert type(JobSpec.model_validate({"data": {"kind": name, **fields}}).data) is data.spec
    with pytest.raises(ValidationError) as refused:
        JobSpec.model_validate({"model": {"kind": "transformer"}})
    message = str(refused.value)
    assert all(f"'{name}'" in message for name in registry().models)


@pytest.mark.parametrize(
    ("model", "tap", "refused"),
    [
        ({"hidden": [8, 8]}, "hidden/1", False),
        ({"hidden": [8, 8]}, "hidden/2", True),  # two hidden layers: hidden/0 and hidden/1
        ({"hidden": [8, 8]}, "latent", True),  # an MLP has no latent code
        ({"hidden": [8, 8]}, "layers", True),  # weighted layers, not a tensor to project
        ({"kind": "cnn2d", "hidden": []}, "hidden/1", False),  # a CNN's convolutions are hidden layers too
    ],
)
def test_an_embedding_tap_must_be_one_the_kind_has(model: dict[str, object], tap: str, refused: bool) -> None:
    data = {"kind": "digits"} if model.get("kind") == "cnn2d" else {}
    spec = JobSpec.model_validate({"data": data, "model": model, "probes": {"embedding_tap": tap}})
    errors = [error for error in spec_errors(spec, Limits()) if error.loc == ("probes", "embedding_tap")]
    assert bool(errors) == refused
    assert all(error.kind == "no_such_tap" for error in errors)


def test_data_a_model_kind_does_not_train_on_is_refused_at_the_model_kind() -> None:
    spec = JobSpec.model_validate({"model": {"kind": "cnn1d"}, "data": {"kind": "digits"}})
    (error,) = [error for error in spec_errors(spec, Limits()) if error.loc == ("model", "kind")]
    assert error.kind == "data_pairing" and error.ctx == {"trains_on": "mnist1d"}
    assert spec.layer_parameters() == []  # and nothing counted for a pairing that cannot train
