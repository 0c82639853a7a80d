"""What the reads of a run's stored vectors answer (jobs/vectors.py): nearest neighbours, a projection."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Neighbour(BaseModel):
    name: str = Field(description="the point's own name (a word), else #index")
    index: int = Field(description="its place among the snapshot's points")
    label: str = Field(description="its class's name, or its label")
    cosine: float = Field(description="cosine similarity to the query")


class NeighboursPublic(BaseModel):
    tag: str = Field(description="the tap the vectors are of")
    step: int = Field(description="the snapshot answered from: the newest at or before the step asked")
    steps: list[int] = Field(description="every step with stored vectors of this tap")
    neighbours: list[Neighbour]


Projection = Literal["tsne", "umap"]


class ProjectionPublic(BaseModel):
    tag: str
    step: int
    method: Projection
    perplexity: float | None = Field(None, description="t-SNE: the perplexity used (below a third of the points)")
    neighbours: int | None = Field(None, description="UMAP: the neighbours used (fewer than the points)")
    points: list[float] = Field(default_factory=list, description="n x 2, row-major, in the snapshot's order")
