"""The synchronous client (Client): one HTTP connection pool, closed with the client."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, overload

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus

from trainscope.client.errors import Unreachable, answer, refusal
from trainscope.client.wire import (
    ExportFormat,
    Follow,
    given,
    group_body,
    jobs_query,
    part,
    server,
)
from trainscope.config import ClientSettings
from trainscope.schemas import Event, JobPublic, JobSpec, JobsPublic, ScalarSeries
from trainscope.schemas.datasets import DatasetPublic, DatasetsPublic
from trainscope.schemas.groups import GroupPublic, GroupsPublic
from trainscope.schemas.vectors import NeighboursPublic, Projection, ProjectionPublic


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
        try:
            return answer(self.http.request(method, path, **kwargs))
        except httpx.TransportError as error:
            raise Unreachable(f"no server answered at {self.url} ({error})") from None

    # ---- jobs ----
    def submit(self, spec: JobSpec | dict[str, Any]) -> JobPublic:
        body = spec.model_dump(mode="json") if isinstance(spec, JobSpec) else spec
        return JobPublic.model_validate(self._call("POST", "/api/jobs", json=body))

    def job(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self._call("GET", f"/api/jobs/{part(job_id)}"))

    def jobs(
        self,
        status: str | None = None,
        lesson: bool | None = None,
        dataset: str | None = None,
        order: str | None = None,
        where: list[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> JobsPublic:
        """Newest first, or by `order` (a figure or setting, "-" first for descending: "-val/acc"); only
        those meeting every `where` ("val/acc>0.9", "optim.optimizer=adam"), of a lesson or not, on a
        dataset, in a status."""
        query = jobs_query(status, lesson, dataset, order, where or [], limit, offset)
        return JobsPublic.model_validate(self._call("GET", "/api/jobs", params=query))

    def cancel(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self._call("POST", f"/api/jobs/{part(job_id)}/cancel"))

    @overload
    def follow(self, job_id: str, after: int = 0, raw: Literal[False] = False) -> Iterator[Event]: ...
    @overload
    def follow(self, job_id: str, after: int = 0, *, raw: Literal[True]) -> Iterator[dict[str, Any]]: ...

    def follow(self, job_id: str, after: int = 0, raw: bool = False) -> Iterator[Any]:
        """Every event after seq `after`, exactly once and in order, live as the job runs, until it ends
        (history first for a job that has already run). A dropped connection resumes where it left off."""
        from websockets.sync.client import connect

        follow, misses = Follow(self.url.replace("http", "ws", 1), job_id, after), 0
        while not follow.done:
            try:
                with connect(follow.url(), additional_headers=self.auth) as socket:
                    for message in socket:
                        events = follow.fresh(message, raw)
                        misses = 0 if events else misses
                        yield from events
                if follow.finished(socket.close_code):  # closed cleanly: the job had ended, nothing was left
                    self.job(job_id)
                    return
            except InvalidStatus as refused:  # the server would not open the socket at all
                raise refusal(refused.response.status_code, refused.response.body) from None
            except ConnectionClosed as closed:
                if follow.closed(closed):
                    self.job(job_id)  # an unknown job says so as a 404, not a silent end
                    return
            except OSError:
                pass  # the server went away for a moment: try again
            if not follow.done:
                misses += 1
                time.sleep(follow.lost(misses))

    def wait(self, job_id: str) -> JobPublic:
        """Block until the job has ended; its final record."""
        for _ in self.follow(job_id, raw=True):
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

        with self._stream(f"/api/jobs/{part(job_id)}/export", "csv") as response:
            return pandas.read_csv(_Lines(response.iter_text()))

    def neighbours(
        self,
        job_id: str,
        of: str | list[str],
        minus: list[str] | None = None,
        top: int = 10,
        step: int | None = None,
        tag: str | None = None,
    ) -> NeighboursPublic:
        """The points (words) nearest, by cosine, to `of` (summed) minus `minus` in the run's stored vectors:
        a word's neighbours, or an analogy (of=["king", "woman"], minus=["man"]); at the newest snapshot at
        or before `step`."""
        query = {"of": [of] if isinstance(of, str) else of, "minus": minus or [], "top": top}
        query |= given(step=step, tag=tag)
        answer = self._call("GET", f"/api/jobs/{part(job_id)}/neighbours", params=query)
        return NeighboursPublic.model_validate(answer)

    def projection(
        self,
        job_id: str,
        method: Projection = "tsne",
        perplexity: float = 30.0,
        neighbours: int = 15,
        step: int | None = None,
        tag: str | None = None,
    ) -> ProjectionPublic:
        """A 2-D t-SNE (or UMAP, where the server has umap-learn) of the run's stored vectors at a step,
        made by the server on demand."""
        query: dict[str, Any] = {"method": method, "perplexity": perplexity, "neighbours": neighbours}
        query |= given(step=step, tag=tag)
        answer = self._call("GET", f"/api/jobs/{part(job_id)}/projection", params=query)
        return ProjectionPublic.model_validate(answer)

    def export(self, job_id: str, form: ExportFormat, target: Path | str | BinaryIO) -> int:
        """Stream the job's export (csv, jsonl or tensorboard) into a file (a path, or a binary file
        object left open); the bytes written."""
        return self._export(f"/api/jobs/{part(job_id)}/export", form, target)

    def _export(self, path: str, form: ExportFormat, target: Path | str | BinaryIO) -> int:
        written = 0
        with self._stream(path, form) as response, contextlib.ExitStack() as stack:
            out = stack.enter_context(Path(target).open("wb")) if isinstance(target, Path | str) else target
            for chunk in response.iter_bytes():
                written += out.write(chunk)
        return written

    @contextlib.contextmanager
    def _stream(self, path: str, form: ExportFormat) -> Iterator[httpx.Response]:
        try:
            with self.http.stream("GET", path, params={"format": form}) as response:
                if response.status_code >= 400:
                    response.read()
                    answer(response)
                yield response
        except httpx.TransportError as error:
            raise Unreachable(f"no server answered at {self.url} ({error})") from None

    # ---- uploaded datasets ----
    def upload_dataset(
        self, csv: bytes | Path | str, name: str | None = None, label: str | None = None, target: str | None = None
    ) -> DatasetPublic:
        """Store a CSV table (a file's path or its bytes; named after the file unless `name` is given).
        Use it in a spec as {"data": {"kind": "uploaded", "dataset": ID}}."""
        csv = Path(csv) if isinstance(csv, str) else csv
        query = {"name": name or (csv.name if isinstance(csv, Path) else "uploaded table")}
        query |= given(label=label, target=target)
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

    def create_group(
        self,
        base: JobSpec | dict[str, Any] | None = None,
        grid: dict[str, list[Any]] | None = None,
        variations: list[Any] | None = None,
        name: str = "",
    ) -> GroupPublic:
        """Matched runs of one base spec: every combination of `grid` ({"optim.lr": [0.01, 0.1]}), or each
        of `variations` ({"label": "wide", "changes": {"model.hidden": [64]}})."""
        body = group_body(name, base, grid, variations)
        return GroupPublic.model_validate(self._call("POST", "/api/groups", json=body))

    def group(self, group_id: str) -> GroupPublic:
        return GroupPublic.model_validate(self._call("GET", f"/api/groups/{part(group_id)}"))

    def groups(self, lesson: str | None = None, limit: int = 50) -> list[GroupPublic]:
        query: dict[str, Any] = {"limit": limit, **({"lesson": lesson} if lesson else {})}
        return GroupsPublic.model_validate(self._call("GET", "/api/groups", params=query)).groups

    def follow_group(self, group_id: str, poll_s: float = 0.5) -> Iterator[GroupPublic]:
        """The group each time one of its runs moves on (a step, a status), until every run has ended and
        a lesson's verdict is in (the last one yielded)."""
        seen: object = None
        while True:
            group = self.group(group_id)
            progress = [(run.job.status, run.job.summary.get("step")) if run.job else None for run in group.runs]
            if progress != seen or group.finished:
                seen = progress
                yield group
            if group.finished:
                return
            time.sleep(poll_s)

    def wait_group(self, group_id: str, poll_s: float = 0.5) -> GroupPublic:
        """Block until every run of the group has ended (and a lesson's verdict is in)."""
        *_, group = self.follow_group(group_id, poll_s)
        return group

    def export_group(self, group_id: str, form: ExportFormat, target: Path | str | BinaryIO) -> int:
        """Every run of the group in one file, each named by its label; the bytes written."""
        return self._export(f"/api/groups/{part(group_id)}/export", form, target)


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
