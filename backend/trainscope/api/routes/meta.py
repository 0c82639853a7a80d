"""What the page needs to build its form, and a health check."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter, Request

from trainscope import __version__
from trainscope.api.deps import ManagerDep, SettingsDep
from trainscope.schemas import Activation, DataSpec, DeviceChoice, JobSpec, ModelSpec, OptimizerName, Points2DName

router = APIRouter(prefix="/api", tags=["meta"])


def kinds(union: Any) -> list[str]:
    """The `kind` of each member of a discriminated spec union, in its order: the union is the one list."""
    members = get_args(get_args(union)[0])  # Annotated[A | B, Discriminator] -> Annotated[A, Tag("a")], ...
    return [get_args(member)[0].model_fields["kind"].default for member in members]


@router.get("/meta")
def read_meta(settings: SettingsDep) -> dict[str, Any]:
    """Every choice, default and limit of a job spec."""
    return {
        "version": __version__,
        "choices": {
            "data.kind": kinds(DataSpec),
            "model.kind": kinds(ModelSpec),
            "data.dataset": list(get_args(Points2DName)),
            "model.activation": list(get_args(Activation)),
            "optim.optimizer": list(get_args(OptimizerName)),
            "device": list(get_args(DeviceChoice)),
        },
        "defaults": JobSpec().model_dump(mode="json"),
        "limits": settings.limits.model_dump(),
        "token_required": settings.token is not None,
        "schema": JobSpec.model_json_schema(),
    }


@router.get("/health")
async def read_health(request: Request, manager: ManagerDep) -> dict[str, Any]:
    # async: answered on the event loop, never queued behind a busy thread pool
    return {"status": "ok", **manager.health(), "exports": request.app.state.exports.admitted}
