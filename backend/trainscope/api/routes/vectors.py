"""A run's stored vectors: nearest neighbours (a point's, or an analogy's: king - man + woman) and a
t-SNE or UMAP of a snapshot, at any step that has them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from trainscope.api.deps import SettingsDep, StoreDep
from trainscope.api.routes.jobs import BUSY, invalid, read_record
from trainscope.api.turns import Turns
from trainscope.jobs.vectors import NoVectors, Snapshot, nearest, project, projections, read_snapshot
from trainscope.schemas import SpecError
from trainscope.schemas.vectors import NeighboursPublic, Projection, ProjectionPublic
from trainscope.store.base import JobRecord, RunStore

router = APIRouter(prefix="/api/jobs", tags=["vectors"])

NO_VECTORS: dict[int | str, dict[str, Any]] = {404: {"description": "no such job, or it stored no vectors of this tap"}}
Step = Annotated[
    int | None, Query(ge=0, description="the newest snapshot at or before this step (default: the newest)")
]
Tag = Annotated[str | None, Query(max_length=100, description="the tap (default: the run's embedding)")]


async def snapshot(
    request: Request, store: RunStore, record: JobRecord, step: int | None, tag: str | None, page: int
) -> Snapshot:
    reads: Turns = request.app.state.reads
    try:
        async with reads.turn():
            return await reads.run(read_snapshot, store, record.id, record.last_seq, step, tag, page)
    except NoVectors as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None


@router.get("/{job_id}/neighbours", responses={**NO_VECTORS, **BUSY})
async def read_neighbours(
    job_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    of: Annotated[list[str], Query(min_length=1, max_length=10, description="points (words) added")],
    minus: Annotated[list[str], Query(max_length=10, description="points (words) taken away")] = [],  # noqa: B006 (FastAPI copies it)
    top: Annotated[int, Query(ge=1, le=100)] = 10,
    step: Step = None,
    tag: Tag = None,
) -> NeighboursPublic:
    """The points nearest (cosine) to `of` (summed) minus `minus`, from the run's stored vectors: a word's
    neighbours with one `of`, an analogy with of=king&of=woman&minus=man."""
    record = await read_record(store, job_id)
    found = await snapshot(request, store, record, step, tag, settings.read_chunk_bytes)
    try:
        return nearest(found, of, minus, top)
    except SpecError as error:
        raise invalid([error]) from None


@router.get("/{job_id}/projection", responses={**NO_VECTORS, **BUSY})
async def read_projection(
    job_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    method: Projection = "tsne",
    perplexity: Annotated[float, Query(ge=2, le=100, description="t-SNE's")] = 30.0,
    neighbours: Annotated[int, Query(ge=2, le=100, description="UMAP's")] = 15,
    step: Step = None,
    tag: Tag = None,
) -> ProjectionPublic:
    """A t-SNE (scikit-learn's) or a UMAP (umap-learn's, where installed) of the stored vectors at a step,
    in 2-D: made on demand in a process of its own at the workers' niceness, seeded by the job's seed."""
    if method not in projections():
        message = "umap-learn is not installed on this server (pip install 'trainscope[umap]')"
        raise invalid([SpecError(("query", "method"), message, "not_installed")])
    record = await read_record(store, job_id)
    found = await snapshot(request, store, record, step, tag, settings.read_chunk_bytes)
    heavy: Turns = request.app.state.uploads  # the turns whose work runs in processes of their own
    async with heavy.turn():
        return await heavy.run(project, found, method, perplexity, neighbours, record.spec.get("seed", 0))
