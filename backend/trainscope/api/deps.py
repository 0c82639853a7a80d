"""Dependencies: the objects the lifespan put on app.state, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from trainscope.config import Settings
from trainscope.jobs.manager import JobManager
from trainscope.lessons import Judge
from trainscope.lessons.catalog import Lesson
from trainscope.store.base import RunStore


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> RunStore:
    store: RunStore = request.app.state.store
    return store


def get_manager(request: Request) -> JobManager:
    manager: JobManager = request.app.state.manager
    return manager


def get_judge(request: Request) -> Judge:
    judge: Judge = request.app.state.judge
    return judge


def get_lessons(request: Request) -> dict[str, Lesson]:
    lessons: dict[str, Lesson] = request.app.state.lessons
    return lessons


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[RunStore, Depends(get_store)]
ManagerDep = Annotated[JobManager, Depends(get_manager)]
JudgeDep = Annotated[Judge, Depends(get_judge)]
LessonsDep = Annotated[dict[str, Lesson], Depends(get_lessons)]
