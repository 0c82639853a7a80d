"""What the page needs to build its form, and a health check."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, get_args

from fastapi import APIRouter, Request

from trainscope import __version__
from trainscope.api.deps import ManagerDep, SettingsDep
from trainscope.jobs.vectors import projections
from trainscope.schemas import Activation, DeviceChoice, JobSpec, OptimizerName, Points2DName
from trainscope.schemas.registry import Registry, registry
from trainscope.schemas.spec import probes_offered

router = APIRouter(prefix="/api", tags=["meta"])


def kinds_public(kinds: Registry) -> dict[str, Any]:
    """Each model kind's data kinds, taps, views, words and the distribution it comes from, and each data
    kind's words and distribution: what the page needs to offer a kind it has never heard of."""
    words = {kind.name: {lang: asdict(w) for lang, w in kind.words.items()} for kind in kinds.data.values()}
    return {
        "model": {
            kind.name: {
                "data": list(kind.data),
                "taps": list(kind.taps),
                "probes": probes_offered(kind.taps),
                "views": list(kind.views),
                "gradients": kind.gradients,
                "data_parallel": kind.data_parallel,
                "words": {lang: asdict(w) for lang, w in kind.words.items()},
                "source": kinds.sources.get(kind.name, ""),
            }
            for kind in kinds.models.values()
        },
        "data": {
            name: {"words": w, "source": kinds.sources.get(name, ""), "text": kinds.data[name].text is not None}
            for name, w in words.items()
        },
    }


@router.get("/meta")
def read_meta(settings: SettingsDep) -> dict[str, Any]:
    """Every choice, default and limit of a job spec."""
    kinds = registry()
    return {
        "version": __version__,
        "choices": {
            "data.kind": list(kinds.data),
            "model.kind": list(kinds.models),
            "data.dataset": list(get_args(Points2DName)),
            "model.activation": list(get_args(Activation)),
            "optim.optimizer": list(get_args(OptimizerName)),
            "device": list(get_args(DeviceChoice)),
        },
        "kinds": kinds_public(kinds),
        "projections": projections(),  # the maps of a snapshot this server can make (UMAP: an extra)
        "defaults": JobSpec().model_dump(mode="json"),
        "limits": settings.limits.model_dump(),
        "token_required": settings.token is not None,
        "schema": JobSpec.model_json_schema(),
    }


@router.get("/health")
async def read_health(request: Request, manager: ManagerDep) -> dict[str, Any]:
    # async: answered on the event loop, never queued behind a busy thread pool
    return {"status": "ok", **manager.health(), "exports": request.app.state.exports.admitted}
