"""A Python client for a Trainscope server (httpx and websockets), typed with the server's own models:
submit a job, wait for it, follow its events as they come, read its scalars (a pandas DataFrame where
pandas is installed), export it, run lessons. The CLI is built on it.

    from trainscope.client import Client
    with Client() as client:                      # TRAINSCOPE_URL, TRAINSCOPE_TOKEN, or arguments
        job = client.submit({"data": {"dataset": "spiral"}, "optim": {"steps": 500}})
        for event in client.follow(job.id):       # every event once, in seq order, until it ends
            ...
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus

from trainscope.config import ClientSettings
from trainscope.schemas import TERMINAL, JobPublic, JobSpec, JobsPublic, ScalarSeries
from trainscope.schemas.datasets import DatasetPublic, DatasetsPublic
from trainscope.schemas.groups import GroupPublic

# closes a reconnection cannot mend (api/ws.py): the job ended, a bad query, a forbidden Origin, no such
# job, a viewer that spoke; any other close (dropped, 4008 too slow) is resumed after the last seq seen
FINAL_CLOSES = frozenset({1000, 1008, 4400, 4403, 4404})
RECONNECTS = 20  # in a row without an event in between; then the follow gives up


class ServerError(Exception):
    """The server refused a request: its HTTP status and what it said."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


def server(settings: ClientSettings, url: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    """The server's base URL and the header carrying its token (arguments win over the environment)."""
    secret = token or (settings.token.get_secret_value() if settings.token else None)
    return (url or settings.url).rstrip("/"), {"Authorization": f"Bearer {secret}"} if secret else {}


def part(identifier: str) -> str:
    """An id as one path segment: `../jobs/X` must not become another route."""
    return quote(identifier, safe="")


def ended(event: dict[str, Any]) -> bool:
    return event["type"] == "status" and event["status"] in {status.value for status in TERMINAL}


class _Follow:
    """What following a job remembers across reconnections: the last seq seen and the URL to resume."""

    def __init__(self, base: str, job_id: str, after: int) -> None:
        self.base, self.job_id, self.last_seq, self.done = base, job_id, after, False

    def url(self) -> str:
        return f"{self.base}/ws/jobs/{part(self.job_id)}?after={self.last_seq}&history=full"

    def fresh(self, message: str | bytes) -> list[dict[str, Any]]:
        """The events of one message not seen before, in order (a resumed replay may repeat none)."""
        events = [event for event in json.loads(message) if event["seq"] > self.last_seq]
        if events:
            self.last_seq = events[-1]["seq"]
            self.done = self.done or any(ended(event) for event in events)
        return events


class Client:
    """Synchronous; one HTTP connection pool, closed with the client (use it as a context manager)."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout_s: float | None = None) -> None:
        settings = ClientSettings()
        self.url, self.auth = server(settings, url, token)
        self.http = httpx.Client(base_url=self.url, headers=self.auth, timeout=timeout_s or settings.timeout_s)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ServerError(response.status_code, detail)
        return response.json() if response.content else None

    # ---- jobs ----
    def submit(self, spec: JobSpec | dict[str, Any]) -> JobPublic:
        body = spec.model_dump(mode="json") if isinstance(spec, JobSpec) else spec
        return JobPublic.model_validate(self._call("POST", "/api/jobs", json=body))

    def job(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self._call("GET", f"/api/jobs/{part(job_id)}"))

    def jobs(self, status: str | None = None, limit: int = 50, offset: int = 0) -> JobsPublic:
        query = {"limit": limit, "offset": offset, **({"status": status} if status else {})}
        return JobsPublic.model_validate(self._call("GET", "/api/jobs", params=query))

    def cancel(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self._call("POST", f"/api/jobs/{part(job_id)}/cancel"))

    def follow(self, job_id: str, after: int = 0) -> Iterator[dict[str, Any]]:
        """Every event after seq `after`, exactly once and in order, live as the job runs, until it ends
        (history first for a job that has already run). A dropped connection resumes where it left off."""
        from websockets.sync.client import connect

        follow, misses = _Follow(self.url.replace("http", "ws", 1), job_id, after), 0
        while not follow.done:
            try:
                with connect(follow.url(), additional_headers=self.auth) as socket:
                    for message in socket:
                        events = follow.fresh(message)
                        misses = 0 if events else misses
                        yield from events
            except InvalidStatus as refused:  # the server would not open the socket at all
                raise ServerError(refused.response.status_code, refused.response.body) from None
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code in FINAL_CLOSES and not follow.done:
                    self.job(job_id)  # an unknown job says so as a 404, not a silent end
                    return
            except OSError:
                pass  # the server went away for a moment: try again
            if not follow.done:
                misses += 1
                if misses > RECONNECTS:
                    raise ConnectionError(f"lost job {job_id} after {RECONNECTS} reconnections")
                time.sleep(min(0.25 * 2**misses, 5.0))

    def wait(self, job_id: str) -> JobPublic:
        """Block until the job has ended; its final record."""
        for _ in self.follow(job_id):
            pass
        return self.job(job_id)

    def scalars(self, job_id: str, tag: str = "train/loss", max_points: int = 1000) -> ScalarSeries:
        """One series, downsampled by the server to max_points (first and latest kept)."""
        query = {"tag": tag, "max_points": max_points}
        return ScalarSeries.model_validate(self._call("GET", f"/api/jobs/{part(job_id)}/scalars", params=query))

    def scalars_frame(self, job_id: str) -> Any:
        """Every scalar point of the job as a pandas DataFrame (run, tag, step, wall, value): the lossless
        CSV export, read by pandas (install pandas for this one)."""
        import pandas

        with self.http.stream("GET", f"/api/jobs/{part(job_id)}/export", params={"format": "csv"}) as response:
            if response.status_code >= 400:
                response.read()
                raise ServerError(response.status_code, response.text)
            return pandas.read_csv(_Lines(response.iter_text()))

    def export(self, job_id: str, form: str, target: Path | str | BinaryIO) -> int:
        """Stream the job's export (csv, jsonl or tensorboard) into a file (a path, or a binary file
        object left open); the bytes written."""
        written = 0
        with self.http.stream("GET", f"/api/jobs/{part(job_id)}/export", params={"format": form}) as response:
            if response.status_code >= 400:
                response.read()
                raise ServerError(response.status_code, response.json().get("detail", response.text))
            with contextlib.ExitStack() as stack:
                out = stack.enter_context(Path(target).open("wb")) if isinstance(target, Path | str) else target
                for chunk in response.iter_bytes():
                    written += out.write(chunk)
        return written

    # ---- uploaded datasets ----
    def upload_dataset(
        self, csv: bytes | Path, name: str | None = None, label: str | None = None, target: str | None = None
    ) -> DatasetPublic:
        """Store a CSV table (a file or its bytes; named after the file unless `name` is given). Use it in
        a spec as {"data": {"kind": "uploaded", "dataset": ID}}."""
        query = {"name": name or (csv.name if isinstance(csv, Path) else "uploaded table")}
        query |= {key: value for key, value in (("label", label), ("target", target)) if value is not None}
        headers = {"Content-Type": "text/csv"}
        if not isinstance(csv, Path):
            return DatasetPublic.model_validate(
                self._call("POST", "/api/datasets", content=csv, params=query, headers=headers)
            )
        with csv.open("rb") as file:  # sent as it is read, 64 kB at a time: never the whole file in memory
            return DatasetPublic.model_validate(
                self._call("POST", "/api/datasets", content=file, params=query, headers=headers)
            )

    def datasets(self) -> list[DatasetPublic]:
        return DatasetsPublic.model_validate(self._call("GET", "/api/datasets")).datasets

    def delete_dataset(self, dataset_id: str) -> None:
        self._call("DELETE", f"/api/datasets/{part(dataset_id)}")

    def meta(self) -> dict[str, Any]:
        """Every choice, default and limit of the server's job spec (GET /api/meta)."""
        meta: dict[str, Any] = self._call("GET", "/api/meta")
        return meta

    # ---- lessons and groups ----
    def lessons(self) -> list[dict[str, Any]]:
        lessons: list[dict[str, Any]] = self._call("GET", "/api/lessons")["lessons"]
        return lessons

    def run_lesson(self, lesson_id: str, overrides: dict[str, Any] | None = None) -> GroupPublic:
        body = {"overrides": overrides or {}}
        return GroupPublic.model_validate(self._call("POST", f"/api/lessons/{part(lesson_id)}/run", json=body))

    def group(self, group_id: str) -> GroupPublic:
        return GroupPublic.model_validate(self._call("GET", f"/api/groups/{part(group_id)}"))

    def wait_group(self, group_id: str, poll_s: float = 0.5) -> GroupPublic:
        """Block until every run of the group has ended (and a lesson's verdict is in)."""
        while not (group := self.group(group_id)).finished:
            time.sleep(poll_s)
        return group


class AsyncClient:
    """Following jobs from asyncio code; for everything else, Client."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url, self.auth = server(ClientSettings(), url, token)

    async def follow(self, job_id: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """As Client.follow: every event after `after` exactly once, in order, until the job ends."""
        import asyncio

        from websockets.asyncio.client import connect

        follow, misses = _Follow(self.url.replace("http", "ws", 1), job_id, after), 0
        while not follow.done:
            try:
                async with connect(follow.url(), additional_headers=self.auth) as socket:
                    async for message in socket:
                        events = follow.fresh(message)
                        misses = 0 if events else misses
                        for event in events:
                            yield event
            except InvalidStatus as refused:
                raise ServerError(refused.response.status_code, refused.response.body) from None
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code in FINAL_CLOSES and not follow.done:
                    raise ServerError(closed.rcvd.code, closed.rcvd.reason) from None
            except OSError:
                pass
            if not follow.done:
                misses += 1
                if misses > RECONNECTS:
                    raise ConnectionError(f"lost job {job_id} after {RECONNECTS} reconnections")
                await asyncio.sleep(min(0.25 * 2**misses, 5.0))


class _Lines:
    """A text stream pandas can read from chunks as they arrive (no whole file in memory twice)."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self.chunks, self.buffer = chunks, ""

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out
