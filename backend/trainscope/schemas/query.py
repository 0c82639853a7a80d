"""Which runs a list shows and in what order, written as people write it: `order=-val/acc`,
`where=val/acc>0.9`, `where=optim.optimizer=adam`. Parsed here into fields the store turns into bound SQL
(never SQL from the user). A field is a spec setting when its first part names a part of the spec
(`optim.lr`, `model.hidden`, `seed`), one of the job's own columns (`created`, `name`, `status`), or else a
figure of the run's summary (`val/acc`, `train/loss`, `step`: the latest value of each)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from trainscope.schemas.spec import JobSpec

Source = Literal["column", "spec", "summary"]
Operator = Literal["<", "<=", ">", ">=", "=", "!="]
COLUMNS = ("created", "name", "status")
MAX_CONDITIONS = 8

_FIELD = re.compile(r"[A-Za-z_][\w/-]{0,63}(?:\.[A-Za-z_][\w/-]{0,63}){0,4}", re.ASCII)
_CONDITION = re.compile(r"(?P<field>[^<>=!]+?)\s*(?P<op><=|>=|!=|<|>|=)\s*(?P<value>.+)")


@dataclass(frozen=True)
class Field:
    source: Source
    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Order:
    field: Field
    descending: bool


@dataclass(frozen=True)
class Condition:
    """`field op value`. A number compares with numbers only; text only with = and != (a run whose field
    is missing or of the other kind never matches)."""

    field: Field
    op: Operator
    value: float | str


def parse_field(text: str) -> Field:
    text = text.strip()
    if not _FIELD.fullmatch(text):
        raise ValueError(f"{text!r} is not a field: write a figure (val/acc) or a setting (optim.lr)")
    path = tuple(text.split("."))
    if len(path) == 1 and text in COLUMNS:
        return Field("column", path)
    if path[0] in JobSpec.model_fields:
        check_setting(path)
        return Field("spec", path)
    if len(path) > 1:
        raise ValueError(f"{text!r}: no part {path[0]!r} in a job spec ({', '.join(JobSpec.model_fields)})")
    return Field("summary", path)


def check_setting(path: tuple[str, ...]) -> None:
    """Raise ValueError naming the first part of `path` that no kind's spec has (`optim.lrx`): a setting
    that no run can have would match nothing, silently."""
    models: list[type[BaseModel]] = [JobSpec]
    for depth, part in enumerate(path):
        fields = {name: field for model in models for name, field in model.model_fields.items()}
        if part not in fields:
            where = ".".join(path[:depth]) or "a job spec"
            raise ValueError(f"{'.'.join(path)!r}: no setting {part!r} in {where} ({', '.join(sorted(fields))})")
        models = [m for name, field in fields.items() if name == part for m in _models(field.annotation)]
        if not models and depth < len(path) - 1:
            raise ValueError(f"{'.'.join(path)!r}: {'.'.join(path[: depth + 1])} is a value, with no parts")


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The spec models a setting holds: one, every kind of a union of kinds, or none (a value, a list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (list, tuple, dict, set, frozenset):
        return []
    return [model for arg in get_args(annotation) for model in _models(arg)]


def parse_order(text: str) -> Order:
    """`val/acc` ascending, `-val/acc` descending."""
    descending = text.startswith("-")
    return Order(parse_field(text.removeprefix("-")), descending)


def parse_condition(text: str) -> Condition:
    match = _CONDITION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r}: write FIELD OP VALUE, e.g. val/acc>0.9 (OP: < <= > >= = !=)")
    field, op = parse_field(match["field"]), match["op"]
    if field.source == "column" and field.name == "created":
        raise ValueError(f"{text!r}: filter by time with the list's paging, not a condition")
    raw = match["value"].strip()
    try:
        value: float | str = raw if field.source == "column" else float(raw)
    except ValueError:
        value = raw
    if isinstance(value, float) and value != value:  # NaN matches nothing and sorts nowhere
        raise ValueError(f"{text!r}: compare with a number or a word, not NaN")
    if isinstance(value, str) and op not in ("=", "!="):
        raise ValueError(f"{text!r}: {raw!r} is not a number; words compare only with = and !=")
    return Condition(field, op, value)  # type: ignore[arg-type]
