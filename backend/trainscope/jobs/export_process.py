"""An export made in a process of its own, streamed to its standard output: the server reads the pipe
and sends it on. Measured in the server's own threads, two TensorBoard exports made the event loop
wait for the interpreter lock: /api/health's p99 went from 211 to 778 ms and the viewers' from 153 to
853 ms (benchmarks/load.py). A child at the workers' niceness leaves the server its core, and its memory
is its own; killing it is how an export whose client left stops at once.

    python -m trainscope.jobs.export_process < request.json > export
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass

import anyio

from trainscope.jobs.exports import ExportFormat, export_chunks
from trainscope.store.base import JobRecord
from trainscope.store.sql import SqlStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportRequest:
    """What the child needs: where the store is and which runs, under which names, in what form."""

    database_url: str
    runs: list[tuple[str, str]]  # (name, job id)
    form: ExportFormat
    page_bytes: int
    file_bytes: int
    grouped: bool
    nice: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def main() -> None:
    request = ExportRequest(**json.loads(sys.stdin.read()))
    if request.nice:
        os.nice(request.nice)
    store = SqlStore(request.database_url)
    try:
        runs: list[tuple[str, JobRecord]] = []
        for name, job_id in request.runs:
            record = store.get_job(job_id)
            if record is not None:  # deleted since the route looked: left out, as a deleted run of a group
                runs.append((name, record))
        if not runs and not request.grouped:
            sys.exit(f"job {request.runs[0][1]} was deleted")
        out = sys.stdout.buffer
        for chunk in export_chunks(store, runs, request.form, request.page_bytes, request.file_bytes, request.grouped):
            out.write(chunk.encode() if isinstance(chunk, str) else chunk)
        out.flush()
    except BrokenPipeError:  # the server stopped reading: its client left
        os._exit(0)
    finally:
        store.close()


async def stream_export(request: ExportRequest, read_bytes: int = 2**16) -> AsyncIterator[bytes]:
    """The export's bytes as the child makes them; the child is killed if the stream is closed early
    (its client left) and its error, if it fails, is logged (the client's file then ends short)."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", __name__, stdin=PIPE, stdout=PIPE, stderr=PIPE)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        process.stdin.write(request.to_json().encode())
        process.stdin.close()
        while chunk := await process.stdout.read(read_bytes):
            yield chunk
        if await process.wait():
            error = (await process.stderr.read()).decode(errors="replace").strip().splitlines()
            log.error("export of %s failed: %s", request.runs, error[-1] if error else process.returncode)
    finally:
        if process.returncode is None:
            process.kill()
            with anyio.CancelScope(shield=True):  # reaped even when the stream was cancelled
                await process.wait()


if __name__ == "__main__":
    main()
