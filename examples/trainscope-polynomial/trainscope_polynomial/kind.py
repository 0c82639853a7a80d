"""The kinds this distribution adds: noisy points of a curve (data) and a polynomial (model). Torch-free:
the server imports this module to list the kinds and check specs; only a worker imports task.py."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from trainscope.schemas.data import SplitData, Strict
from trainscope.schemas.registry import DataKind, Layer, ModelKind, Words


class CurveData(SplitData):
    """Points x in [-1, 1] with y a curve of x plus Gaussian noise."""

    kind: Literal["curve"] = "curve"
    curve: Literal["sine", "cubic"] = Field("sine", description="sine: sin(3x); cubic: x^3 - x/2")
    n_points: int = Field(200, ge=10, le=10_000)
    noise: float = Field(0.1, ge=0.0, le=1.0, description="standard deviation of the noise on y")

    in_features: ClassVar[int] = 1
    n_outputs: ClassVar[int] = 1
    regression: ClassVar[bool] = True

    @property
    def n_samples(self) -> int:
        return self.n_points


class PolynomialSpec(Strict):
    """y = w0 + w1 x + ... + wd x^d, every weight starting at zero."""

    kind: Literal["polynomial"] = "polynomial"
    degree: int = Field(3, ge=0, le=12, description="the highest power of x")


def coefficients(model: PolynomialSpec, data: Any) -> list[Layer]:
    count = model.degree + 1
    return [("coefficients", count, str(count))]


KINDS = [
    DataKind(CurveData, words={"en": Words("a noisy curve"), "ko": Words("잡음 섞인 곡선")}),
    ModelKind(
        PolynomialSpec,
        task="trainscope_polynomial.task:PolynomialTask",
        data=("curve",),
        layers=coefficients,
        words={
            "en": Words("Polynomial", "a polynomial fitted by gradient descent"),
            "ko": Words("다항식", "경사 하강법으로 맞춘 다항식"),
        },
    ),
]
