"""Groups of matched runs: expanding a base spec and its variations into job specs, and reading a group
back with its jobs. No HTTP here."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from trainscope.config import Limits
from trainscope.jobs.reads import to_public
from trainscope.jobs.uploads import resolve_data
from trainscope.schemas import JobSpec, SpecError, spec_errors
from trainscope.schemas.groups import GroupCreate, GroupPublic, GroupRun, Variation, Verdict
from trainscope.store.base import DatasetRecord, GroupRecord, RunStore

Loc = tuple[str | int, ...]


class GroupInvalid(ValueError):
    """The group cannot be planned; `errors` are (location in the request body, reason)."""

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__("; ".join(e.msg for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class PlannedRun:
    spec: JobSpec
    label: str
    part: str
    changes: dict[str, Any]
    label_ko: str = ""


def with_changes(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of base with each dotted path set (intermediate objects are created as needed)."""
    result = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = result
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[leaf] = copy.deepcopy(value)
    return result


def describe(changes: dict[str, Any]) -> str:
    return ", ".join(f"{path.split('.')[-1]}={value}" for path, value in changes.items()) or "base"


def variations_of(create: GroupCreate, loc: Loc) -> list[tuple[Variation, Loc]]:
    """Each run the request asks for, and where in the body its changes are."""
    if create.variations and create.grid:
        raise GroupInvalid(
            [SpecError((*loc, "grid"), "give either variations or grid, not both", "variations_or_grid")]
        )
    if create.grid:
        paths = list(create.grid)
        combos = itertools.product(*(create.grid[p] for p in paths))
        return [(Variation(changes=dict(zip(paths, combo, strict=True))), (*loc, "grid")) for combo in combos]
    if create.variations:
        return [(v, (*loc, "variations", i, "changes")) for i, v in enumerate(create.variations)]
    return [(Variation(), (*loc, "base"))]


def plan(
    parts: list[tuple[str, GroupCreate, Loc]], limits: Limits, datasets: Mapping[str, DatasetRecord] | None = None
) -> list[PlannedRun]:
    """Every run of a group, validated as a job spec and against the limits (GroupInvalid otherwise).
    `parts` are (part name, request, its location in the body): a lesson may have several experiments.
    `datasets` are the uploaded tables a run's data may name."""
    runs: list[tuple[str, GroupCreate, Variation, Loc]] = []
    for part, create, loc in parts:
        for variation, where in variations_of(create, loc):
            runs.append((part, create, variation, where))
    if len(runs) > limits.max_group_runs:
        message = f"{len(runs)} runs; a group has at most {limits.max_group_runs}"
        raise GroupInvalid(
            [SpecError(parts[0][2], message, "too_many_runs", {"n": len(runs), "limit": limits.max_group_runs})]
        )
    planned, errors = [], []
    for part, create, variation, where in runs:
        try:
            spec = JobSpec.model_validate(with_changes(create.base, variation.changes))
        except ValidationError as error:
            errors += [SpecError((*where, *e["loc"]), e["msg"], e["type"], e.get("ctx")) for e in error.errors()]
            continue
        spec, missing = resolve_data(spec, datasets or {})
        errors += [e.at(*where) for e in missing or spec_errors(spec, limits)]
        label = variation.label or describe(variation.changes)
        spec = spec.model_copy(update={"name": f"{create.name or part} · {label}".strip(" ·")[:100]})
        planned.append(PlannedRun(spec, label, part, variation.changes, variation.label_ko or label))
    if errors:  # a grid's runs share one location: each mistake said once, not once per run
        raise GroupInvalid(list({(e.loc, e.msg): e for e in errors}.values()))
    return planned


def differing(runs: list[dict[str, Any]]) -> list[str]:
    """The settings the runs' changes touch, in first-seen order."""
    return list(dict.fromkeys(path for run in runs for path in run["changes"]))


Judge = Callable[[GroupRecord, list[GroupRun]], Verdict | None]


def read_group(store: RunStore, record: GroupRecord, judge: Judge | None = None) -> GroupPublic:
    """The group with each run's current job (None once deleted) and, for a lesson, its verdict."""
    runs = []
    for run in record.runs:
        job = store.get_job(run["job_id"])
        runs.append(GroupRun(**run, job=to_public(job) if job else None))
    finished = all(run.job is None or run.job.status.terminal for run in runs)
    return GroupPublic(
        id=record.id,
        name=record.name,
        lesson=record.lesson,
        created_at=record.created_at,
        runs=runs,
        differs=differing(record.runs),
        finished=finished,
        verdict=judge(record, runs) if judge else None,
    )
