"""Groups of matched runs: one base spec, variations that each change a few settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from trainscope.schemas.data import Shallow, Strict
from trainscope.schemas.events import JobPublic
from trainscope.schemas.text import Name

SpecPath = Annotated[str, Field(max_length=200)]  # a dotted path into a JobSpec, e.g. "model.activation"


class Variation(Strict):
    """One run of a group: the base spec with these settings changed."""

    label: str = Field("", max_length=100, description="legend text; empty: the changed settings")
    label_ko: str = Field("", max_length=100, description="the legend text in Korean (lessons); empty: label")
    changes: dict[SpecPath, Shallow] = Field(
        default_factory=dict, description='dotted spec paths and their values, e.g. {"model.activation": "relu"}'
    )


class GroupCreate(Strict):
    """Runs that share the base spec (seed, initial weights, data) and differ in what each variation
    changes. Give either `variations` or `grid` (every combination of the listed values)."""

    name: Name = ""
    base: dict[str, Shallow] = Field(default_factory=dict, description="a job spec; omitted fields take defaults")
    variations: list[Variation] = Field(default_factory=list)
    grid: dict[SpecPath, Annotated[list[Shallow], Field(min_length=1)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _runs_asked_for(self) -> GroupCreate:
        if "variations" in self.model_fields_set and not self.variations and not self.grid:
            raise ValueError("variations is empty: give at least one, or leave it out to run the base alone")
        return self


class Figure(BaseModel):
    """One number behind a verdict, named in each language the page offers."""

    value: float | None = Field(description="null: never reached (a threshold the run did not get to)")
    en: str
    ko: str


class Verdict(BaseModel):
    """A lesson's observation evaluated on a group's runs."""

    held: bool | None = Field(description="null while the runs it needs have not finished")
    figures: dict[str, Figure] = Field(
        default_factory=dict,
        description='the numbers behind the verdict, by stable key ("relu.dead_fraction"): what clients read',
    )
    detail: str = ""
    detail_ko: str = ""


class GroupRun(BaseModel):
    job_id: str
    label: str
    label_ko: str = ""
    part: str = Field("", description="which experiment of a lesson the run belongs to")
    changes: dict[SpecPath, Any]
    job: JobPublic | None = Field(description="null once the job has been deleted")


class GroupPublic(BaseModel):
    id: str
    name: str
    lesson: str | None = None
    created_at: datetime
    runs: list[GroupRun]
    differs: list[SpecPath] = Field(description="the settings the runs differ in")
    finished: bool = Field(description="every run has ended")
    verdict: Verdict | None = None


class GroupsPublic(BaseModel):
    groups: list[GroupPublic]
    count: int
