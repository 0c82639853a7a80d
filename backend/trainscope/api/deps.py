"""Dependencies: the objects the lifespan put on app.state, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from trainscope.config import Settings
from trainscope.jobs.manager import JobManager
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


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[RunStore, Depends(get_store)]
ManagerDep = Annotated[JobManager, Depends(get_manager)]
