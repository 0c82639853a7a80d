"""Datasets: the tables users upload (CSV in, numbers stored), and any 2-D data as the page draws it
before a run: the very points a job with these settings trains on."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from trainscope.api.deps import ManagerDep, SettingsDep, StoreDep
from trainscope.api.routes.jobs import MUTATING, invalid
from trainscope.api.turns import Turns
from trainscope.jobs.ledger import utcnow
from trainscope.jobs.manager import DatasetMissing
from trainscope.jobs.uploads import TableInvalid, filled, parse_csv, unknown_dataset
from trainscope.schemas import (
    DatasetPreviewRequest,
    PlanarData,
    SpecError,
    UploadedData,
    at_most,
    no_training_examples,
    planar,
)
from trainscope.schemas.datasets import DatasetPublic, DatasetsPublic, Target
from trainscope.schemas.registry import registry
from trainscope.schemas.spec import DatasetText, DatasetTextRequest
from trainscope.schemas.text import Name
from trainscope.store.base import DatasetRecord

router = APIRouter(prefix="/api/datasets", tags=["datasets"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no uploaded dataset with this id"}}
CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the CSV itself: a first line of column names, then a row of numbers per line",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def to_public(record: DatasetRecord) -> DatasetPublic:
    return DatasetPublic.model_validate(record, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=CSV_BODY,
    responses={
        **MUTATING["responses"],
        413: {"description": "the CSV is larger than limits.max_upload_bytes"},
        415: {"description": "sent as a form: send the CSV itself as the body"},
        503: {"description": "settings.upload_slots uploads run and upload_queue wait: retry after Retry-After"},
        507: {"description": "limits.max_datasets tables are stored, or the disk is nearly full: delete to make room"},
    },
    dependencies=MUTATING["dependencies"],
)
async def upload_dataset(
    request: Request,
    manager: ManagerDep,
    settings: SettingsDep,
    name: Annotated[Name, Query(min_length=1, description="what the table is called in lists")],
    label: Annotated[str | None, Query(max_length=200, description="the label column (default: the last)")] = None,
    target: Annotated[
        Target | None,
        Query(description="class or value (default: class when every label is a whole number, few enough)"),
    ] = None,
) -> DatasetPublic:
    """Store a CSV table of numbers: features and a label column. Parsed strictly: a value that is not
    a number is a 422 naming its line and column. Use it as `{"data": {"kind": "uploaded", "dataset": ID}}`."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        message = "send the CSV itself as the request body (Content-Type: text/csv), not as a form"
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, message)
    if full := manager.datasets_full():  # before reading the body; checked again, and counted, when stored
        raise full
    turns: Turns = request.app.state.uploads
    async with turns.turn():  # the body is read in its turn: waiting uploads hold no memory
        body = await request.body()
        try:
            table = await turns.run(parse_csv, body, label, target, settings.limits)
        except TableInvalid as error:
            raise invalid(error.errors) from None
        size_bytes = len(body)
    record = DatasetRecord(
        id=uuid.uuid4().hex[:12],
        name=name,
        created_at=utcnow(),
        n_rows=table.n_rows,
        columns=table.columns,
        label=table.label,
        target=table.target,
        classes=table.classes,
        size_bytes=size_bytes,
    )
    await manager.add_dataset(record, table.rows)  # StoreFull (507) past max_datasets or the disk's floor
    return to_public(record)


@router.get("")
async def list_datasets(store: StoreDep) -> DatasetsPublic:
    """The uploaded tables, newest first."""
    records = await run_in_threadpool(store.list_datasets)
    return DatasetsPublic(datasets=[to_public(record) for record in records], count=len(records))


@router.get("/{dataset_id}", responses=NOT_FOUND)
async def read_dataset(dataset_id: str, store: StoreDep) -> DatasetPublic:
    record = await run_in_threadpool(store.get_dataset, dataset_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no uploaded dataset {dataset_id!r}")
    return to_public(record)


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, **MUTATING["responses"]},
    dependencies=MUTATING["dependencies"],
)
async def delete_dataset(dataset_id: str, manager: ManagerDep) -> Response:
    """Delete a table; runs trained on it keep their results, and a job already queued keeps its rows."""
    try:
        await manager.delete_dataset(dataset_id)
    except DatasetMissing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no uploaded dataset {dataset_id!r}") from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def generate(data: PlanarData, seed: int) -> dict[str, Any]:
    # imported on the first preview, not at start-up: scikit-learn costs the server ~1 s and ~40 MB
    from trainscope.training.points import preview

    return preview(data, seed)


@router.post("/preview", responses={200: {"description": "a dataset event: training and validation points"}})
async def preview_dataset(request: DatasetPreviewRequest, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """The training and validation points of 2-D data (no run is started; needs no token)."""
    data = request.data
    if isinstance(data, UploadedData):
        record = await run_in_threadpool(store.get_dataset, data.dataset)
        rows = await run_in_threadpool(store.read_dataset_rows, data.dataset)
        if record is None or rows is None:
            raise invalid([unknown_dataset(data.dataset).at("body")])
        data = filled(data, record).with_rows(rows)
        if not planar(data):
            raise invalid([SpecError(("body", "data"), "only a table of two features is drawn as points", "only_2d")])
    elif data.n_points > settings.limits.max_points:
        raise invalid([at_most(("body", "data", "n_points"), settings.limits.max_points)])
    if data.split_sizes()[0] < 1:
        raise invalid([no_training_examples(("body", "data"))])
    return await run_in_threadpool(generate, data, request.seed)


@router.post("/text", responses={422: {"description": "this data kind is not text"}})
async def read_dataset_text(request: DatasetTextRequest) -> DatasetText:
    """The text a job with this data trains on (a generated corpus, or the spec's own text), to read or
    edit before a run (no run is started; needs no token)."""
    kind = registry().data[request.data.kind]
    if kind.text is None:
        raise invalid([SpecError(("body", "data", "kind"), f"{kind.name} data is not text", "not_text")])
    return DatasetText(text=await run_in_threadpool(kind.text, request.data, request.seed))
