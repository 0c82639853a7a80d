"""The lesson catalogue: one TOML file per lesson under catalog/, read once at start-up.

A lesson is data: its text in English and Korean, one or more experiments (a base spec and variations,
the same shape as POST /api/groups), the charts to look at, and the observation that must hold (the name
of a check in checks.py with its thresholds).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from trainscope.jobs.groups import variations_of
from trainscope.schemas.groups import GroupCreate

CATALOG_DIR = Path(__file__).parent / "catalog"
LANGUAGES = ("en", "ko")


class Text(BaseModel):
    """The same words in each language the page offers."""

    en: str
    ko: str


class Experiment(BaseModel):
    title: Text
    group: GroupCreate = Field(description="the runs: a base spec and the variations, as POST /api/groups takes")
    seeds: int = Field(
        1,
        ge=1,
        le=8,
        description="each run repeated on this many consecutive seeds, the lesson's seed first: an effect "
        "smaller than the seed-to-seed spread is judged over them, not on one seed's luck",
    )


class Observation(BaseModel):
    text: Text = Field(description="what must hold, in words")
    check: str = Field(description="the function in lessons/checks.py that judges it")
    params: dict[str, Any] = Field(default_factory=dict, description="its thresholds, from measurements")


class Lesson(BaseModel):
    id: str
    order: int
    title: Text
    question: Text
    explanation: Text
    look_at: list[Text]
    charts: list[str] = Field(description="the compare-view panels this lesson shows, in order")
    experiments: list[Experiment] = Field(min_length=1)
    observation: Observation


class LessonSummary(BaseModel):
    id: str
    title: Text
    question: Text
    runs: int


class LessonsPublic(BaseModel):
    lessons: list[LessonSummary]
    count: int


def load_catalog(directory: Path = CATALOG_DIR) -> dict[str, Lesson]:
    """Every lesson, by id, in catalogue order; a malformed file fails start-up loudly."""
    lessons = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as file:
            lesson = Lesson.model_validate({"id": path.stem, **tomllib.load(file)})
        lessons.append(lesson)
    return {lesson.id: lesson for lesson in sorted(lessons, key=lambda lesson: lesson.order)}


def summary(lesson: Lesson) -> LessonSummary:
    runs = sum(len(variations_of(e.group, ())) * e.seeds for e in lesson.experiments)
    return LessonSummary(id=lesson.id, title=lesson.title, question=lesson.question, runs=runs)
