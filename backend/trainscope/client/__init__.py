"""A Python client for a Trainscope server (httpx and websockets), typed with the server's own models:
submit a job, wait for it, follow its events as they come, list and sort runs, read its scalars (a pandas
DataFrame where pandas is installed), export it, create and follow groups, run lessons. The CLI is built
on it. It needs no torch: `pip install trainscope` is the client; `trainscope[server]` the server.

    from trainscope.client import Client
    with Client() as client:                      # TRAINSCOPE_URL, TRAINSCOPE_TOKEN, or arguments
        job = client.submit({"data": {"dataset": "spiral"}, "optim": {"steps": 500}})
        for event in client.follow(job.id):       # every event once, in seq order, until it ends
            ...                                   # typed: ScalarsEvent, StatusEvent... (raw=True: dicts)

Every failure is a TrainscopeError: Unreachable (no server answered), or Refused (with its HTTP status;
NotFound for 404, Invalid for 422 with each field's location and reason), from both clients alike.
"""

from trainscope.client.aio import AsyncClient
from trainscope.client.errors import FieldError, Invalid, NotFound, Refused, TrainscopeError, Unreachable
from trainscope.client.sync import Client
from trainscope.client.wire import ExportFormat

__all__ = [
    "AsyncClient",
    "Client",
    "ExportFormat",
    "FieldError",
    "Invalid",
    "NotFound",
    "Refused",
    "TrainscopeError",
    "Unreachable",
]
