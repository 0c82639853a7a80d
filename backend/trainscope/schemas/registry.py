"""The registry of kinds, torch-free. A model kind is its spec class, the data kinds it trains on, its
parameter layers, its rules, its taps (which decide the probes it offers), the views it asks for and
its words; a data kind is its spec class, its rules and its words. The spec unions, /api/meta and the
page's form are generated from it.

The built-in kinds are the `KINDS` of each module of trainscope.schemas.kinds; a separate distribution
adds its own through the entry-point group `trainscope.kinds` (an entry point names a ModelKind, a
DataKind or a list of them), with no file of this package edited."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, Discriminator, Tag

from trainscope.schemas.errors import SpecError

if TYPE_CHECKING:
    from trainscope.config import Limits

ENTRY_POINTS = "trainscope.kinds"
DEFAULT_MODEL, DEFAULT_DATA = "mlp", "points2d"  # what a spec that leaves out `kind` gets
Layer = tuple[str, int, str]  # a layer's name, its trainable parameters, and their formula
Rules = Callable[[Any, "Limits"], list[SpecError]]  # (the job spec, the limits) -> what it breaks


def no_rules(spec: Any, limits: Limits) -> list[SpecError]:
    return []


@dataclass(frozen=True)
class Words:
    """A kind's name and one sentence on it, in one language."""

    name: str
    summary: str = ""


@dataclass(frozen=True)
class ModelKind:
    """A model kind. `task` is where its Task class lives ("package.module:Class"), imported only by a
    process that trains (the server never imports torch). `taps` are the families of named tensors its task
    exposes to the probes ("hidden" for hidden/0, hidden/1...; "logits", "latent", "reconstruction",
    "embeddings", "centroids"), and "layers" (a network's weighted layers) and "matrices" (weight matrices
    that each feed the next): a probe is offered where the taps it needs are. `views` are the page's
    views it asks for beyond those every run has."""

    spec: type[BaseModel]
    task: str
    data: tuple[str, ...]
    layers: Callable[[Any, Any], list[Layer]]  # (model spec, data spec) -> its layers, by formula
    rules: Rules = no_rules
    taps: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    words: Mapping[str, Words] = field(default_factory=dict)  # by language: "en", "ko"...
    gradients: bool = True  # False: its task steps itself (update()), with no optimizer and no learning rate
    # whether ranks can share its batches (distributed.world_size > 1): every tensor of a batch leads with
    # its examples, and loss() calls the model through tasks.call (the driver passes its DDP wrapper there)
    data_parallel: bool = False
    # whether matched runs may train as one model under torch.func.vmap (training/vmapped.py): its loss
    # draws no random numbers and changes no buffer, so it maps over stacked parameters as it stands
    lockstep: bool = False

    @property
    def name(self) -> str:
        return kind_name(self.spec)


@dataclass(frozen=True)
class DataKind:
    """A data kind. `text`, where its data is text (a corpus): (its spec, the job's seed) -> the text a
    job trains on, which the page shows and lets the user edit into the spec's own `text` field."""

    spec: type[BaseModel]
    rules: Rules = no_rules
    words: Mapping[str, Words] = field(default_factory=dict)
    text: Callable[[Any, int], str] | None = None

    @property
    def name(self) -> str:
        return kind_name(self.spec)


def offered(needs: Iterable[str], taps: Iterable[str]) -> bool:
    """Whether taps meet every need ("a|b": either will do)."""
    have = set(taps)
    return all(any(choice in have for choice in need.split("|")) for need in needs)


def kind_name(spec: type[BaseModel]) -> str:
    default = spec.model_fields["kind"].default
    if not isinstance(default, str):
        raise TypeError(f"{spec.__name__} has no `kind` with a default: a kind's spec names itself")
    return default


@dataclass(frozen=True)
class Registry:
    models: dict[str, ModelKind]
    data: dict[str, DataKind]
    sources: dict[str, str] = field(default_factory=dict)  # kind -> the distribution that declared it

    def model(self, name: str) -> ModelKind:
        return self.models[name]

    def model_union(self) -> Any:
        return discriminated([kind.spec for kind in self.models.values()], DEFAULT_MODEL)

    def data_union(self) -> Any:
        return discriminated([kind.spec for kind in self.data.values()], DEFAULT_DATA)


def discriminated(specs: list[type[BaseModel]], default: str) -> Any:
    """The tagged union of these spec classes on `kind`; a value that leaves `kind` out is `default`."""
    members = tuple(Annotated[spec, Tag(kind_name(spec))] for spec in specs)
    return Annotated[Union[members], Discriminator(kind_or(default))]  # noqa: UP007 (a runtime tuple of members)


def kind_or(default: str) -> Callable[[Any], str | None]:
    def pick(value: Any) -> str | None:
        if isinstance(value, dict):
            return str(value.get("kind", default))
        return getattr(value, "kind", None)

    return pick


def build(declared: Iterable[ModelKind | DataKind], sources: dict[str, str] | None = None) -> Registry:
    """The registry of these kinds in their order, the defaults first; a name given twice is refused."""
    models: dict[str, ModelKind] = {}
    data: dict[str, DataKind] = {}
    for kind in declared:
        table: dict[str, Any] = models if isinstance(kind, ModelKind) else data
        if kind.name in table:
            raise TypeError(f"kind {kind.name!r} is declared twice")
        table[kind.name] = kind
    for name, kind in models.items():
        if unknown := [d for d in kind.data if d not in data]:
            raise TypeError(f"model kind {name!r} trains on data kinds no one declares: {', '.join(unknown)}")
    first = {DEFAULT_MODEL: models.pop(DEFAULT_MODEL)} if DEFAULT_MODEL in models else {}
    first_data = {DEFAULT_DATA: data.pop(DEFAULT_DATA)} if DEFAULT_DATA in data else {}
    return Registry({**first, **models}, {**first_data, **data}, sources or {})


def declared_kinds() -> list[tuple[ModelKind | DataKind, str]]:
    """The built-in kinds (by module name, then as each module lists them), then those of installed
    distributions (by entry-point name), each with the distribution that declares it."""
    from trainscope.schemas import kinds  # the package of built-in kinds

    found: list[tuple[Any, str]] = []
    for module in sorted(pkgutil.iter_modules(kinds.__path__), key=lambda m: m.name):
        found += [(kind, "trainscope") for kind in importlib.import_module(f"{kinds.__name__}.{module.name}").KINDS]
    for point in sorted(entry_points(group=ENTRY_POINTS), key=lambda p: p.name):
        loaded = point.load()
        source = point.dist.name if point.dist is not None else point.value
        found += [(kind, source) for kind in (loaded if isinstance(loaded, list | tuple) else [loaded])]
    for kind, source in found:
        if not isinstance(kind, ModelKind | DataKind):
            raise TypeError(f"{source}: {kind!r} is not a ModelKind or a DataKind")
    return found


@cache
def registry() -> Registry:
    """Every kind this process knows, read once."""
    declared = declared_kinds()
    return build([kind for kind, _ in declared], {kind.name: source for kind, source in declared})
