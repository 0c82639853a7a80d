"""REST for the lesson catalogue: list, read, and run a lesson as a group."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from trainscope.api.deps import JudgeDep, LessonsDep, ManagerDep, SettingsDep, StoreDep
from trainscope.api.routes.groups import CREATED, submit
from trainscope.api.routes.jobs import MUTATING, invalid
from trainscope.jobs.groups import GroupInvalid
from trainscope.jobs.uploads import stored_tables
from trainscope.lessons import plan_lesson
from trainscope.lessons.catalog import Lesson, LessonsPublic, summary
from trainscope.schemas.data import Shallow
from trainscope.schemas.groups import GroupPublic, SpecPath

router = APIRouter(prefix="/api/lessons", tags=["lessons"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no lesson with this id"}}


class LessonRun(BaseModel):
    overrides: dict[SpecPath, Shallow] = Field(
        default_factory=dict,
        description='dotted spec paths applied to every experiment\'s base, e.g. {"optim.steps": 200}',
    )


def find(lessons: dict[str, Lesson], lesson_id: str) -> Lesson:
    if lesson_id not in lessons:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no lesson {lesson_id!r}")
    return lessons[lesson_id]


@router.get("")
def list_lessons(lessons: LessonsDep) -> LessonsPublic:
    return LessonsPublic(lessons=[summary(lesson) for lesson in lessons.values()], count=len(lessons))


@router.get("/{lesson_id}", responses=NOT_FOUND)
def read_lesson(lesson_id: str, lessons: LessonsDep) -> Lesson:
    return find(lessons, lesson_id)


@router.post(
    "/{lesson_id}/run",
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, **CREATED},
    dependencies=MUTATING["dependencies"],
)
async def run_lesson(
    lesson_id: str,
    request: Request,
    lessons: LessonsDep,
    manager: ManagerDep,
    store: StoreDep,
    settings: SettingsDep,
    judge: JudgeDep,
    body: LessonRun | None = None,
) -> GroupPublic:
    """Start the lesson's runs as one group; its verdict appears on GET /api/groups/{id} once they end."""
    lesson = find(lessons, lesson_id)
    try:
        datasets = await run_in_threadpool(stored_tables, store)
        runs = plan_lesson(lesson, body.overrides if body else {}, settings.limits, datasets)
    except GroupInvalid as error:
        raise invalid(error.errors) from None
    return await submit(request, manager, store, judge, lesson.title.en, runs, lesson=lesson.id)
