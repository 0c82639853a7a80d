"""Uploaded datasets as the API shows them: what a table holds, never its rows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Target = Literal["class", "value"]


class DatasetPublic(BaseModel):
    """A stored table: its feature columns, its label column and what a label is."""

    id: str
    name: str
    created_at: datetime
    n_rows: int
    columns: list[str] = Field(description="the feature columns, in the order a model sees them")
    label: str = Field(description="the label column")
    target: Target = Field(description="class: a class per row; value: a number to predict")
    classes: list[float | str] = Field(
        description="the labels (numbers, or names), in the order of the model's outputs (class i is "
        "classes[i]); empty for values"
    )
    size_bytes: int = Field(description="size of the uploaded CSV")


class DatasetsPublic(BaseModel):
    datasets: list[DatasetPublic]
    count: int
