"""The parameters of a surface problem themselves, moved by an optimizer (or by random search)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from trainscope.schemas.data import Coordinate, Strict
from trainscope.schemas.registry import Layer, ModelKind, Words


class Params2DSpec(Strict):
    """The two parameters of a surface problem themselves: (weight, bias) or (x, y)."""

    kind: Literal["params2d"] = "params2d"
    start: tuple[Coordinate, Coordinate] = Field((-1.5, 2.0), description="where gradient descent starts")
    start_jitter: float = Field(
        0.0,
        ge=0.0,
        le=10.0,
        description="move the start by up to this much along each axis, drawn from the run's seed: runs that "
        "share a seed share a start",
    )


def params_layers(model: Params2DSpec, data: Any) -> list[Layer]:
    dims = int(getattr(data, "dims", 2))
    return [("params", dims, str(dims))]


KINDS = [
    ModelKind(
        Params2DSpec,
        task="trainscope.training.tasks.params2d:SurfaceTask",
        data=("surface",),
        layers=params_layers,
        words={
            "en": Words("The parameters themselves", "descent on a loss surface you can see whole"),
            "ko": Words("파라미터 자체", "전체를 볼 수 있는 손실 곡면 위의 하강"),
        },
    )
]
