"""The built-in data kinds: 2-D points, digits, MNIST-1D, uploaded tables and surfaces (their specs are in
schemas/data.py), with the rules each has against the limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainscope.schemas.data import DigitsData, Mnist1DData, Points2DData, SurfaceData, UploadedData
from trainscope.schemas.errors import SpecError, at_most
from trainscope.schemas.registry import DataKind, Words

if TYPE_CHECKING:
    from trainscope.config import Limits
    from trainscope.schemas.spec import JobSpec


def point_count(spec: JobSpec, limits: Limits) -> list[SpecError]:
    n_points: int = getattr(spec.data, "n_points")  # noqa: B009 (both kinds that use this rule have it)
    return [at_most(("data", "n_points"), limits.max_points)] if n_points > limits.max_points else []


def digits_on_canvas(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """A digit shifted off its canvas has nowhere to go."""
    data = spec.data
    assert isinstance(data, DigitsData)
    room, errors = (data.canvas - 8) // 2, []
    for name in ("shift", "val_shift"):
        if (getattr(data, name) or 0) > room:
            message = f"at most {room} on a {data.canvas}-pixel canvas"
            errors.append(SpecError(("data", name), message, "off_canvas", {"le": room, "canvas": data.canvas}))
    return errors


KINDS = [
    DataKind(
        Points2DData,
        point_count,
        {"en": Words("2-D points", "TensorFlow Playground's datasets"), "ko": Words("2차원 점")},
    ),
    DataKind(
        DigitsData,
        digits_on_canvas,
        {"en": Words("digits", "scikit-learn's 8x8 handwritten digits"), "ko": Words("손글씨 숫자")},
    ),
    DataKind(Mnist1DData, words={"en": Words("MNIST-1D", "ten 1-D digit templates"), "ko": Words("MNIST-1D")}),
    DataKind(UploadedData, words={"en": Words("an uploaded table"), "ko": Words("올린 표")}),
    DataKind(SurfaceData, point_count, {"en": Words("a loss surface"), "ko": Words("손실 곡면")}),
]
