"""Datasets as the page draws them before a run: the very points a job with these settings trains on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from trainscope.api.deps import SettingsDep
from trainscope.api.routes.jobs import invalid
from trainscope.schemas import DatasetPreviewRequest, Points2DData, at_most, no_training_examples

router = APIRouter(prefix="/api/datasets", tags=["datasets"])


def generate(data: Points2DData, seed: int) -> dict[str, Any]:
    # imported on the first preview, not at start-up: scikit-learn costs the server ~1 s and ~40 MB
    from trainscope.training.points import preview

    return preview(data, seed)


@router.post("/preview", responses={200: {"description": "a dataset event: training and validation points"}})
async def preview_dataset(request: DatasetPreviewRequest, settings: SettingsDep) -> dict[str, Any]:
    """The training and validation points of 2-D data (no run is started; needs no token)."""
    data = request.data
    if data.n_points > settings.limits.max_points:
        raise invalid([at_most(("body", "data", "n_points"), settings.limits.max_points)])
    if data.split_sizes()[0] < 1:
        raise invalid([no_training_examples(("body", "data"))])
    return await run_in_threadpool(generate, data, request.seed)
