"""create_app(settings): the lifespan builds the store, hub and job manager on app.state."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from trainscope import __version__
from trainscope.api import openapi, ws
from trainscope.api.errors import storage_full, store_stalled, turns_busy, validation_error
from trainscope.api.routes import datasets, groups, jobs, lessons, meta, room, vectors
from trainscope.api.security import BodyLimit
from trainscope.api.turns import Turns, TurnsBusy
from trainscope.config import Settings
from trainscope.jobs.manager import JobManager, StoreFull, StoreStalled
from trainscope.lessons import Judge
from trainscope.lessons.catalog import load_catalog
from trainscope.store.base import RunStore, StoreUnavailable
from trainscope.store.sql import SqlStore
from trainscope.stream.hub import Hub
from trainscope.stream.replay import ReplayReader
from trainscope.stream.room import Room

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the Python `plotly` package: served by us, never from a CDN."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the plotly package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


def create_app(settings: Settings | None = None, store: RunStore | None = None) -> FastAPI:
    """The app; `store` replaces the one settings.database_url names (a test's failing store)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal store
        store = store or SqlStore(settings.database_url, settings.database_busy_timeout_ms)
        await asyncio.to_thread(store.create_schema)
        hub = Hub(settings.subscriber_queue)
        manager = JobManager(settings, store, hub)
        await manager.start()
        app.state.store, app.state.hub, app.state.manager = store, hub, manager
        app.state.replays = ReplayReader(store, settings)
        app.state.room = Room(hub)
        app.state.judge = Judge(app.state.lessons, store)
        app.state.exports = Turns(settings.export_slots, settings.export_queue, "exports")
        app.state.uploads = Turns(settings.upload_slots, settings.upload_queue, "uploads", settings.worker_nice)
        app.state.reads = Turns(settings.read_slots, settings.read_queue, "reads")
        # the data preview's imports (scikit-learn, ~1 s, several under the workers' start-up), loaded
        # now in a thread rather than by the first visitor's preview: a fresh server's first page drew
        # its data after the figure in benchmarks/page.py
        warming = asyncio.create_task(asyncio.to_thread(importlib.import_module, "trainscope.training.points"))
        try:
            yield
        finally:
            await warming
            await manager.stop()
            app.state.uploads.close()
            app.state.replays.close()
            store.close()

    # /docs from assets that ship in a package, not from a CDN: workshops run offline. No ReDoc: its
    # page fetches its logo from cdn.redoc.ly whatever it is given
    app = FastAPIOffline(
        title="Trainscope", version=__version__, lifespan=lifespan, static_url="/vendor/docs", redoc_url=None
    )
    app.state.settings = settings
    app.state.lessons = load_catalog()  # a malformed lesson file stops start-up here, loudly
    uploads = {"/api/datasets": settings.limits.max_upload_bytes}
    app.add_middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes, larger=uploads)
    if settings.cors_origins:  # off unless configured: the page is served by this server
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    app.include_router(jobs.router)
    app.include_router(groups.router)
    app.include_router(datasets.router)
    app.include_router(vectors.router)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StoreStalled, store_stalled)
    app.add_exception_handler(StoreUnavailable, store_stalled)
    app.add_exception_handler(TurnsBusy, turns_busy)
    app.add_exception_handler(StoreFull, storage_full)  # a direct write (an upload) found it locked
    app.include_router(lessons.router)
    app.include_router(meta.router)
    app.include_router(ws.router)
    app.include_router(room.router)
    openapi.install(app, settings.limits)

    # the page is mounted at / and would answer any other /api/ path itself ("Allow: GET, HEAD")
    @app.api_route("/api/{rest:path}", methods=list(METHODS), include_in_schema=False)
    async def no_such_endpoint(request: Request) -> JSONResponse:
        path = request.url.path
        if allowed := openapi.allowed_methods(app.openapi(), path):
            return JSONResponse({"detail": "Method Not Allowed"}, 405, {"Allow": ", ".join(allowed)})
        return JSONResponse({"detail": f"no endpoint {path}"}, 404)

    plotly_js = plotly_js_path()

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def read_plotly_js() -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript")

    app.mount("/", StaticFiles(directory=settings.frontend_dir, html=True), name="frontend")
    return app
