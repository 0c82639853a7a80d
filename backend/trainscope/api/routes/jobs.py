"""REST for jobs: validate, call the manager or a read function, return a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from trainscope.api.deps import ManagerDep, SettingsDep, StoreDep
from trainscope.api.security import client_address, require_token
from trainscope.api.turns import Turns
from trainscope.config import Settings
from trainscope.jobs.export_process import ExportRequest, stream_export
from trainscope.jobs.exports import MEDIA_TYPES, ExportFormat, export_filename
from trainscope.jobs.manager import DatasetGone, JobConflict, QueueFull
from trainscope.jobs.reads import events_json, read_scalars, to_public, unreported_figures
from trainscope.jobs.uploads import resolve_data, stored_tables, unknown_dataset
from trainscope.schemas import (
    EventsPublic,
    JobCommand,
    JobPublic,
    JobSpec,
    JobsPublic,
    JobStatus,
    JobUpdate,
    ScalarSeries,
    SetLrCommand,
    SpecError,
    StepCommand,
    UploadedData,
    at_most,
    lr_range,
    spec_errors,
)
from trainscope.schemas.query import MAX_CONDITIONS, parse_condition, parse_order
from trainscope.schemas.registry import registry
from trainscope.store.base import JobFilter, JobRecord, RunStore
from trainscope.training.memory import estimate

T = TypeVar("T")

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no job with this id"}}
EXPORT_FORMAT = Annotated[
    ExportFormat,
    Query(description="csv: scalars in long format; jsonl: every event; tensorboard: a log directory, .tar.gz"),
]


def invalid(errors: list[SpecError]) -> RequestValidationError:
    """A 422 in FastAPI's own shape: each field's location, the reason, its type and context."""
    return RequestValidationError(
        [{"type": e.kind, "loc": e.loc, "msg": e.msg, "input": None, "ctx": e.ctx} for e in errors]
    )


async def read_record(store: RunStore, job_id: str) -> JobRecord:
    record = await run_in_threadpool(store.get_job, job_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id!r}")
    return record


MUTATING: dict[str, Any] = {
    "dependencies": [Depends(require_token)],
    "responses": {401: {"description": "the server needs a token for this"}},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        **MUTATING["responses"],
        429: {"description": "the queue or this client's share is full; retry after Retry-After seconds"},
        507: {"description": "the stored events take the whole storage budget: delete runs to make room"},
    },
    dependencies=MUTATING["dependencies"],
)
async def create_job(
    spec: JobSpec, request: Request, manager: ManagerDep, store: StoreDep, settings: SettingsDep
) -> JobPublic:
    datasets = await run_in_threadpool(stored_tables, store) if isinstance(spec.data, UploadedData) else {}
    spec, missing = resolve_data(spec, datasets)
    errors = [e.at("body") for e in missing or spec_errors(spec, settings.limits)]
    if device_error := manager.device_error(spec):
        errors.append(SpecError(("body", "device"), device_error, "device_missing", {"device": spec.device}))
    if errors:
        raise invalid(errors)
    try:
        record = await manager.submit(spec, client=client_address(request))
    except DatasetGone as gone:
        raise invalid([unknown_dataset(gone.dataset_id).at("body")]) from None
    except QueueFull as error:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(error), headers={"Retry-After": "5"}) from None
    job = to_public(record)
    request.app.state.room.announce("job", {"job": job.model_dump(mode="json")})  # followers open it at once
    return job


class MemoryEstimatePublic(BaseModel):
    """Bytes a training step of the spec holds, estimated from the spec (training/memory.py)."""

    parameters: int
    gradients: int
    optimizer_state: int = Field(description="SGD none; momentum and RMSprop one copy of the parameters; Adam two")
    activations: int | None = Field(description="what autograd saves for backward at the batch; null: not modelled")
    per_example: int | None
    batch: int
    total: int


@router.post("/estimate")
async def estimate_job_memory(spec: JobSpec, store: StoreDep, settings: SettingsDep) -> MemoryEstimatePublic:
    """The memory a training step of this spec needs, estimated before it runs (no run starts; needs no
    token): what the playground shows beside Start."""
    datasets = await run_in_threadpool(stored_tables, store) if isinstance(spec.data, UploadedData) else {}
    spec, missing = resolve_data(spec, datasets)
    if errors := [e.at("body") for e in missing or spec_errors(spec, settings.limits)]:
        raise invalid(errors)
    return MemoryEstimatePublic.model_validate(estimate(spec, cuda=spec.device == "cuda").as_dict())


@router.get("")
async def list_jobs(
    store: StoreDep,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    lesson: Annotated[bool | None, Query(description="true: only lessons' runs; false: none of them")] = None,
    dataset: Annotated[str | None, Query(max_length=32, description='"digits", "spiral"...')] = None,
    order: Annotated[
        str | None,
        Query(max_length=80, description="a figure or setting, - first for descending: -val/acc, optim.lr"),
    ] = None,
    where: Annotated[
        list[str],
        Query(max_length=MAX_CONDITIONS, description="conditions all met: val/acc>0.9, optim.optimizer=adam"),
    ] = [],  # noqa: B006 (FastAPI copies a query default; it is never mutated)
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9, description="skip this many of the first")] = 0,
) -> JobsPublic:
    """Jobs newest first, or in `order` (runs without the field last); filtered; `total` counts every
    match, for paging on with `offset`."""
    errors: list[SpecError] = []
    conditions = [parsed(parse_condition, text, ("query", "where", i), errors) for i, text in enumerate(where)]
    ordered = parsed(parse_order, order, ("query", "order"), errors) if order else None
    if errors:
        raise invalid(errors)
    where_ = JobFilter(lesson, dataset, offset, tuple(c for c in conditions if c), ordered)
    records = await run_in_threadpool(store.list_jobs, status_filter, limit, where_)
    total = await run_in_threadpool(store.count_jobs, status_filter, where_)
    first = records[0] if records else None
    if unknown := await run_in_threadpool(unreported_figures, store, where_, total, first):
        raise invalid(unknown)
    return JobsPublic(jobs=[to_public(r) for r in records], count=len(records), total=total)


def parsed(parse: Callable[[str], T], text: str, loc: tuple[str | int, ...], errors: list[SpecError]) -> T | None:
    """What `parse` makes of a query's text; its error, at `loc`, into `errors`."""
    try:
        return parse(text)
    except ValueError as error:
        errors.append(SpecError(loc, str(error)))
        return None


@router.get("/{job_id}", responses=NOT_FOUND)
async def read_job(job_id: str, store: StoreDep) -> JobPublic:
    return to_public(await read_record(store, job_id))


@router.post(
    "/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **MUTATING["responses"], 409: {"description": "the job has already ended"}},
    dependencies=MUTATING["dependencies"],
)
async def cancel_job(job_id: str, store: StoreDep, manager: ManagerDep) -> JobPublic:
    """A queued job is cancelled at once; a running one stops at its next report (within ~0.1 s)."""
    await read_record(store, job_id)
    try:
        await manager.cancel(job_id)
    except JobConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return to_public(await read_record(store, job_id))


@router.post(
    "/{job_id}/control",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **MUTATING["responses"], 409: {"description": "the job is not running or paused"}},
    dependencies=MUTATING["dependencies"],
)
async def control_job(
    job_id: str, command: JobCommand, store: StoreDep, manager: ManagerDep, settings: SettingsDep
) -> JobPublic:
    """Pause, resume, step N while paused, or change the learning rate; the effect arrives as events."""
    limits = settings.limits
    if isinstance(command, SetLrCommand) and not limits.min_lr <= command.lr <= limits.max_lr:
        raise invalid([lr_range(("body", "lr"), limits)])
    if isinstance(command, StepCommand) and command.steps > limits.max_steps:
        raise invalid([at_most(("body", "steps"), limits.max_steps)])
    record = await read_record(store, job_id)
    kind = registry().model(record.spec["model"]["kind"])
    if isinstance(command, SetLrCommand) and not kind.gradients:
        message = f"a {kind.name} model steps itself, with no optimizer: it has no learning rate to set"
        raise invalid([SpecError(("body", "action"), message, "no_learning_rate")])
    try:
        await manager.control(job_id, command)
    except JobConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return to_public(await read_record(store, job_id))


@router.patch("/{job_id}", responses={**NOT_FOUND, **MUTATING["responses"]}, dependencies=MUTATING["dependencies"])
async def update_job(job_id: str, change: JobUpdate, store: StoreDep, manager: ManagerDep) -> JobPublic:
    """Rename a job or write its notes, in any state."""
    await read_record(store, job_id)
    values = change.model_dump(exclude_none=True)
    if values:
        await manager.annotate(job_id, **values)
    return to_public(await read_record(store, job_id))


@router.delete(
    "/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, **MUTATING["responses"], 409: {"description": "the job has not ended"}},
    dependencies=MUTATING["dependencies"],
)
async def delete_job(job_id: str, store: StoreDep, manager: ManagerDep) -> Response:
    await read_record(store, job_id)
    try:
        await manager.delete(job_id)
    except JobConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


BUSY: dict[int | str, dict[str, Any]] = {
    503: {"description": "settings.read_slots reads run and read_queue wait: retry after Retry-After seconds"}
}


@router.get("/{job_id}/events", responses={**NOT_FOUND, **BUSY, 200: {"model": EventsPublic}})
async def read_events(
    job_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="only events with a larger seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """Stored events in seq order, as the websocket replays them: at most `limit` of them and about
    read_chunk_bytes (always one); page on with ?after= the last seq returned, up to last_seq."""
    record = await read_record(store, job_id)
    reads: Turns = request.app.state.reads
    async with reads.turn():
        events = await reads.run(store.read_events, job_id, after, limit, None, settings.read_chunk_bytes)
    body = f'{{"events":{events_json(events)},"last_seq":{record.last_seq}}}'
    return Response(body, media_type="application/json")


@router.get("/{job_id}/scalars", responses={**NOT_FOUND, **BUSY})
async def read_job_scalars(
    job_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    tag: Annotated[str, Query(min_length=1, max_length=100)] = "train/loss",
    max_points: Annotated[int, Query(ge=2)] = 1000,
) -> ScalarSeries:
    """One series, downsampled on read; the first and the latest point are always kept."""
    if max_points > settings.limits.max_scalar_points:
        raise invalid([at_most(("query", "max_points"), settings.limits.max_scalar_points)])
    await read_record(store, job_id)
    reads: Turns = request.app.state.reads
    async with reads.turn():
        return await reads.run(read_scalars, store, job_id, tag, max_points, settings.export_page_bytes)


EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the export, streamed",
        "content": {t: {"schema": {"type": "string"}} for t in MEDIA_TYPES.values()},
    },
    503: {"description": "settings.export_slots exports run and export_queue wait: retry after Retry-After seconds"},
}


@router.get("/{job_id}/export", responses={**NOT_FOUND, **EXPORTED}, response_class=StreamingResponse)
async def export_job(
    job_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    format: EXPORT_FORMAT = "csv",
) -> StreamingResponse:
    """Every stored point of a job (not the thinned display), streamed a page of events at a time; a
    running job's export holds what was stored when it began."""
    record = await read_record(store, job_id)
    return export_response(request, [(record.name or record.id, record)], format, settings, record.id)


def export_response(
    request: Request,
    runs: list[tuple[str, JobRecord]],
    form: ExportFormat,
    settings: Settings,
    identifier: str,
    grouped: bool = False,
) -> StreamingResponse:
    """The export, made in its turn (app.state.exports) by a process of its own: TurnsBusy (503) when
    no turn is left."""
    export = ExportRequest(
        settings.database_url,
        [(name, record.id) for name, record in runs],
        form,
        settings.export_page_bytes,
        settings.export_file_bytes,
        grouped,
        settings.worker_nice,
    )
    return StreamingResponse(
        request.app.state.exports.admit(stream_export(export)),
        media_type=MEDIA_TYPES[form],
        headers={"Content-Disposition": f'attachment; filename="{export_filename(identifier, form)}"'},
    )
