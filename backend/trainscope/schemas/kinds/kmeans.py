"""k-means: k centres moved by Lloyd's iterations (each point to its nearest centre, each centre to the
mean of its points), one iteration a step, no gradient; on 2-D blobs whose centres are designed (so the
elbow of inertia against k falls where it should) or on digits (a centre is then an image)."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from trainscope.schemas.data import SplitData, Strict
from trainscope.schemas.registry import DataKind, Layer, ModelKind, Words


class BlobsData(SplitData):
    """Gaussian blobs around `centers` designed centres: evenly on a circle of radius 2 (one: the origin),
    each with the same number of points and spread, so that the blobs are told apart by eye and k-means
    with k = centers finds them."""

    kind: Literal["blobs"] = "blobs"
    centers: int = Field(4, ge=1, le=10, description="blobs, evenly on a circle of radius 2")
    spread: float = Field(0.3, gt=0.0, le=2.0, description="each blob's standard deviation along each axis")
    n_points: int = Field(400, ge=20, description="points in all, shared evenly by the blobs")

    in_features: ClassVar[int] = 2
    regression: ClassVar[bool] = False

    @property
    def n_samples(self) -> int:
        return self.n_points

    @property
    def n_outputs(self) -> int:
        return self.centers

    def centre_points(self) -> list[tuple[float, float]]:
        if self.centers == 1:
            return [(0.0, 0.0)]
        angles = [2 * math.pi * i / self.centers for i in range(self.centers)]
        return [(2 * math.cos(a), 2 * math.sin(a)) for a in angles]


class KMeansSpec(Strict):
    kind: Literal["kmeans"] = "kmeans"
    k: int = Field(4, ge=1, le=20, description="centres")
    seeding: Literal["kmeans++", "random"] = Field(
        "kmeans++",
        description="the starting centres: kmeans++, each next one a point drawn with odds by its squared "
        "distance to the nearest so far (Arthur and Vassilvitskii's careful seeding); random, k distinct "
        "training points",
    )


def centre_layers(model: KMeansSpec, data: Any) -> list[Layer]:
    width = data.in_features
    return [("centres", model.k * width, f"{model.k}·{width}")]


KINDS = [
    DataKind(
        BlobsData,
        words={"en": Words("blobs", "Gaussian blobs around designed centres"), "ko": Words("블롭")},
    ),
    ModelKind(
        KMeansSpec,
        task="trainscope.training.tasks.kmeans:KMeansTask",
        data=("blobs", "digits"),
        layers=centre_layers,
        taps=("centroids",),
        views=("clusters",),
        gradients=False,
        words={
            "en": Words("k-means", "k centres, each moved to the mean of its points; no gradient"),
            "ko": Words("k-평균", "k개의 중심을 각자 맡은 점들의 평균으로 옮깁니다; 기울기 없음"),
        },
    ),
]
