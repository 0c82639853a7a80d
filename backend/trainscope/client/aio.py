"""The asyncio client (AsyncClient): submit, read and follow jobs, with the same errors as Client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus

from trainscope.client.errors import Unreachable, answer, refusal
from trainscope.client.wire import (
    CLOSE_STATUS,
    Follow,
    jobs_query,
    part,
    server,
)
from trainscope.config import ClientSettings
from trainscope.schemas import JobPublic, JobSpec, JobsPublic


class AsyncClient:
    """From asyncio code: submit, read and follow jobs, with the same errors as Client."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout_s: float | None = None) -> None:
        settings = ClientSettings()
        self.url, self.auth = server(settings, url, token)
        self.http = httpx.AsyncClient(base_url=self.url, headers=self.auth, timeout=timeout_s or settings.timeout_s)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return answer(await self.http.request(method, path, **kwargs))
        except httpx.TransportError as error:
            raise Unreachable(f"no server answered at {self.url} ({error})") from None

    async def submit(self, spec: JobSpec | dict[str, Any]) -> JobPublic:
        body = spec.model_dump(mode="json") if isinstance(spec, JobSpec) else spec
        return JobPublic.model_validate(await self._call("POST", "/api/jobs", json=body))

    async def job(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(await self._call("GET", f"/api/jobs/{part(job_id)}"))

    async def jobs(
        self,
        status: str | None = None,
        lesson: bool | None = None,
        dataset: str | None = None,
        order: str | None = None,
        where: list[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> JobsPublic:
        """As Client.jobs."""
        query = jobs_query(status, lesson, dataset, order, where or [], limit, offset)
        return JobsPublic.model_validate(await self._call("GET", "/api/jobs", params=query))

    async def cancel(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(await self._call("POST", f"/api/jobs/{part(job_id)}/cancel"))

    async def follow(self, job_id: str, after: int = 0, raw: bool = False) -> AsyncIterator[Any]:
        """As Client.follow: every event after `after` exactly once, in order, until the job ends."""
        import asyncio

        from websockets.asyncio.client import connect

        follow, misses = Follow(self.url.replace("http", "ws", 1), job_id, after), 0
        while not follow.done:
            try:
                async with connect(follow.url(), additional_headers=self.auth) as socket:
                    async for message in socket:
                        events = follow.fresh(message, raw)
                        misses = 0 if events else misses
                        for event in events:
                            yield event
                if follow.finished(socket.close_code):
                    await self.job(job_id)
                    return
            except InvalidStatus as refused:
                raise refusal(refused.response.status_code, refused.response.body) from None
            except ConnectionClosed as closed:
                if follow.closed(closed):
                    code = closed.rcvd.code if closed.rcvd else 0
                    raise refusal(CLOSE_STATUS.get(code, code), closed.rcvd.reason if closed.rcvd else "") from None
            except OSError:
                pass
            if not follow.done:
                misses += 1
                await asyncio.sleep(follow.lost(misses))
