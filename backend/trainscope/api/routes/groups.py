"""REST for groups of matched runs: validate, plan, call the manager, return the group."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from trainscope.api.deps import JudgeDep, ManagerDep, SettingsDep, StoreDep
from trainscope.api.routes.jobs import EXPORT_FORMAT, EXPORTED, MUTATING, export_response, invalid
from trainscope.api.security import client_address
from trainscope.jobs.exports import run_names
from trainscope.jobs.groups import GroupInvalid, PlannedRun, plan, read_group
from trainscope.jobs.manager import DatasetGone, JobManager, QueueFull
from trainscope.jobs.uploads import stored_tables, unknown_dataset
from trainscope.lessons import Judge
from trainscope.schemas import SpecError
from trainscope.schemas.groups import GroupCreate, GroupPublic, GroupsPublic
from trainscope.store.base import RunStore

router = APIRouter(prefix="/api/groups", tags=["groups"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no group with this id"}}
CREATED: dict[int | str, dict[str, Any]] = {
    **MUTATING["responses"],
    429: {"description": "the queue or this client's share cannot take every run; retry after Retry-After seconds"},
    507: {"description": "the stored events take the whole storage budget: delete runs to make room"},
}


async def submit(
    request: Request,
    manager: JobManager,
    store: RunStore,
    judge: Judge,
    name: str,
    runs: list[PlannedRun],
    lesson: str | None = None,
) -> GroupPublic:
    """Queue a planned group (all runs or none) and return it as stored: the one write path for groups."""
    errors = [
        SpecError(("body", "base", "device"), error, "device_missing", {"device": run.spec.device})
        for run in runs
        if (error := manager.device_error(run.spec))
    ]
    if errors:
        raise invalid(errors[:1])
    try:
        group = await manager.submit_group(name, runs, lesson, client=client_address(request))
    except DatasetGone as gone:
        raise invalid([unknown_dataset(gone.dataset_id).at("body")]) from None
    except QueueFull as error:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(error), headers={"Retry-After": "5"}) from None
    public = await run_in_threadpool(read_group, store, group, judge)
    request.app.state.room.announce("group", {"group": {"id": public.id, "name": public.name, "lesson": public.lesson}})
    return public


@router.post("", status_code=status.HTTP_201_CREATED, responses=CREATED, dependencies=MUTATING["dependencies"])
async def create_group(
    body: GroupCreate, request: Request, manager: ManagerDep, store: StoreDep, settings: SettingsDep, judge: JudgeDep
) -> GroupPublic:
    """Runs that share the base spec's seed, initial weights and data and differ in one or a few settings."""
    try:
        runs = plan([("", body, ("body",))], settings.limits, await run_in_threadpool(stored_tables, store))
    except GroupInvalid as error:
        raise invalid(error.errors) from None
    return await submit(request, manager, store, judge, body.name, runs)


@router.get("")
async def list_groups(
    store: StoreDep,
    judge: JudgeDep,
    lesson: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> GroupsPublic:
    """Newest first, each lesson group with its verdict as reading it alone gives (a finished group is
    judged once and remembered, so listing again reads no events)."""
    records = await run_in_threadpool(store.list_groups, lesson, limit)
    groups = [await run_in_threadpool(read_group, store, record, judge) for record in records]
    return GroupsPublic(groups=groups, count=len(groups))


@router.get("/{group_id}", responses=NOT_FOUND)
async def read_one_group(group_id: str, store: StoreDep, judge: JudgeDep) -> GroupPublic:
    """The group, each run's job, and for a lesson the observation judged on these runs."""
    record = await run_in_threadpool(store.get_group, group_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no group {group_id!r}")
    return await run_in_threadpool(read_group, store, record, judge)


@router.get("/{group_id}/export", responses={**NOT_FOUND, **EXPORTED}, response_class=StreamingResponse)
async def export_group(
    group_id: str, request: Request, store: StoreDep, settings: SettingsDep, format: EXPORT_FORMAT = "csv"
) -> StreamingResponse:
    """Every run of the group in one file, each named by its label: csv (the run column), jsonl (a "run"
    field on each event) or tensorboard (a folder per run under runs/). Deleted runs are left out: a
    group whose runs were all deleted exports a header, nothing, or an empty runs/ folder."""
    record = await run_in_threadpool(store.get_group, group_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no group {group_id!r}")
    group = await run_in_threadpool(read_group, store, record)
    named = zip(run_names(group.runs), group.runs, strict=True)
    jobs = [(name, await run_in_threadpool(store.get_job, run.job_id)) for name, run in named if run.job is not None]
    runs = [(name, job) for name, job in jobs if job is not None]
    return export_response(request, runs, format, settings, group_id, grouped=True)
