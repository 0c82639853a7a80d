"""Settings: the only module that reads the environment (prefix TRAINSCOPE_)."""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# the page ships inside the package (package data), so a wheel serves it as a checkout does
FRONTEND_DIR = Path(str(resources.files("trainscope") / "frontend"))


class Limits(BaseModel):
    """Every bound a request is checked against. A violation is answered with 422 naming the field."""

    max_hidden_layers: int = Field(16, ge=1, description="hidden layers in an MLP")
    max_width: int = Field(1024, ge=1, description="units in one hidden layer")
    max_parameters: int = Field(2_000_000, ge=1, description="trainable parameters of one model")
    max_steps: int = Field(100_000, ge=1, description="optimizer steps of one job")
    max_batch_size: int = Field(4096, ge=1, description="examples per mini-batch")
    # each rank is a process with its own copy of the model and data: N ranks cost N workers' memory and cores
    max_world_size: int = Field(4, ge=1, le=64, description="ranks (processes) of one data-parallel run")
    max_points: int = Field(20_000, ge=10, description="points in a generated 2-D dataset")
    min_lr: float = Field(1e-6, gt=0, description="smallest learning rate")
    # large rates are allowed on purpose: divergence is a lesson
    max_lr: float = Field(1e4, gt=0, description="largest learning rate")
    max_histogram_bins: int = Field(200, ge=2, description="bins of one histogram")
    max_probe_size: int = Field(1000, ge=10, description="examples in a job's fixed probe set")
    queue_length: int = Field(64, ge=1, description="jobs waiting for a worker; more answer 429")
    max_scalar_points: int = Field(10_000, ge=2, description="points one scalars read may return")
    # a lesson runs up to a group's worth of jobs at once: one client's share fits the largest lesson
    max_jobs_per_client: int = Field(40, ge=1, description="queued and running jobs of one client address")
    # the heaviest probes a spec allows write ~10 MB a step: without these, one client fills the disk
    max_job_bytes: int = Field(
        64 * 2**20, ge=1024, description="bytes of events one job may store; past it the job stops, failed"
    )
    max_store_bytes: int = Field(
        4 * 2**30, ge=2**20, description="bytes of events all jobs may store; past it new jobs answer 507"
    )
    # SQLite needs room to write even a delete (WAL frames): past the floor jobs stop and new ones wait,
    # so the space left is there to delete runs with
    min_free_disk_bytes: int = Field(
        64 * 2**20,
        ge=0,
        description="free bytes kept on the database's disk; below it running jobs stop, new answer 507",
    )
    # the largest lesson (train/validation/test) judges 36 runs: 30 to measure a selection effect of ~2 points
    max_group_runs: int = Field(40, ge=1, description="runs in one group (variations or grid combinations)")
    max_job_seconds: float = Field(3600.0, gt=0, description="wall time of one job, pauses included")
    max_viewers_per_job: int = Field(500, ge=1, description="websocket viewers of one job")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="bytes of one request body; more answer 413")
    max_ws_message_bytes: int = Field(4096, ge=128, description="bytes of one message a viewer may send")
    # an uploaded table lives in the database and, while a job on it waits or runs, in the server's memory
    max_upload_bytes: int = Field(8 * 2**20, ge=1024, description="bytes of one uploaded CSV; more answer 413")
    max_upload_rows: int = Field(100_000, ge=4, description="rows of one uploaded table")
    max_upload_features: int = Field(512, ge=1, description="feature columns of one uploaded table")
    max_upload_classes: int = Field(100, ge=2, description="classes in one uploaded table's label column")
    max_datasets: int = Field(100, ge=1, description="uploaded tables stored; more answer 507")


def default_workers() -> int:
    """CPU cores - 1, at least 1: one core stays with the server and the event pump."""
    return max(1, (os.cpu_count() or 2) - 1)


class Settings(BaseSettings):
    """Read once at start-up and injected; nothing else looks at os.environ."""

    model_config = SettingsConfigDict(env_prefix="TRAINSCOPE_", env_nested_delimiter="__")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    database_url: str = "sqlite:///trainscope.db"
    database_busy_timeout_ms: int = Field(5000, ge=0, description="how long a write waits on a locked database")
    workers: int = Field(default_factory=default_workers, ge=1, le=64)
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="where jobs asking for `auto` run; `cpu` also refuses jobs that ask for cuda"
    )
    executor: Literal["local", "ray"] = Field(
        "local", description="what runs jobs: worker processes here, or actors on a Ray cluster (trainscope[ray])"
    )
    ray_address: str | None = Field(
        None, description="the Ray cluster to use (`auto`, `ray://host:10001`, ...); unset: a local one, started here"
    )
    ray_gpu_workers: int = Field(
        0, ge=0, le=64, description="Ray actors holding a GPU each, for jobs on cuda (besides `workers` on CPUs)"
    )
    # measured on an H200 (../shared/DEVICE.md): 8 processes training small nets on one GPU gave 8.2x one
    devices: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="CUDA devices the local workers bind, in turn: cuda:0,cuda:1 with 4 workers puts two on "
        "each (several share a GPU well); empty: every worker on the current device. Ray places its own",
    )
    torch_threads: int = Field(1, ge=1, description="intra-op threads per worker")
    lockstep: bool = Field(
        True, description="train a group's matched runs that stack (tiny 2-D MLPs) as one model in one worker"
    )
    # training is throughput work, the server's fan-out and API are latency work: on a machine with
    # few cores a worker training flat out must not delay the event loop's next turn
    worker_nice: int = Field(10, ge=0, le=19, description="niceness added to worker processes (0: as the server)")
    emit_interval_s: float = Field(0.1, gt=0, description="longest wait between two scalars events")
    emit_max_steps: int = Field(200, ge=1, description="most train-loss points per scalars event")
    pump_batch: int = Field(500, ge=1, description="most writes in one store transaction")
    # ~4 s of a fast run's events; past it a viewer is closed (4008) and resumes with ?after=SEQ,
    # so a room of slow laptops cannot pile up memory on the server
    subscriber_queue: int = Field(256, ge=1, description="events a websocket viewer may lag behind")
    replay_chunk: int = Field(500, ge=1, description="events per websocket message during replay")
    read_chunk_bytes: int = Field(
        8 * 2**20, ge=1024, description="bytes of events one read holds (a REST page, a replay chunk); at least one"
    )
    export_page_bytes: int = Field(
        2**20,
        ge=1024,
        description="bytes of stored events an export reads at a time: its memory, whatever the job's size",
    )
    # an export is CPU work in the server's own process: a few at a time keep the page and the API
    # answering however many are asked for
    export_slots: int = Field(2, ge=1, description="exports streamed at once; more wait for a turn")
    export_queue: int = Field(8, ge=0, description="exports waiting for a turn; past it 503 with Retry-After")
    export_file_bytes: int = Field(
        4 * 2**20, ge=1024, description="largest events file in a TensorBoard export, held in memory as it is made"
    )
    # a REST read of a long run's events or of one series decodes up to megabytes of JSON in a thread
    read_slots: int = Field(4, ge=1, description="REST reads of events and scalars at once; more wait for a turn")
    read_queue: int = Field(32, ge=0, description="REST reads waiting for a turn; past it 503 with Retry-After")
    # an upload is parsed in the server's process at ~8 bytes of memory per byte of CSV
    upload_slots: int = Field(2, ge=1, description="uploads read and parsed at once; more wait for a turn")
    upload_queue: int = Field(4, ge=0, description="uploads waiting for a turn; past it 503 with Retry-After")
    # a crowd's replay is sent a message per viewer per event-loop pass: smaller messages keep a pass short
    message_bytes: int = Field(128 * 1024, ge=1024, description="bytes per websocket message (one event may exceed it)")
    replay_senders: int = Field(
        16, ge=1, description="viewers sent stored history at once; the others wait their turn, a page at a time"
    )
    replay_readers: int = Field(
        2, ge=1, description="threads reading stored history for websocket replays (REST never waits on them)"
    )
    replay_page_bytes: int = Field(
        2**20, ge=1024, description="bytes of stored events one replay read holds, shared by the viewers replaying it"
    )
    replay_cache_bytes: int = Field(
        32 * 2**20, ge=0, description="replay pages kept for the viewers behind the first (a room opening one job)"
    )
    replay_max_points: int = Field(2000, ge=2, description="points per series in a compact replay")
    replay_max_snapshots: int = Field(100, ge=1, description="snapshots per series in a compact replay")
    hang_timeout_s: float = Field(
        30.0, gt=0, description="a worker with a job whose heartbeat is silent this long is killed as hung"
    )
    heartbeat_s: float = Field(1.0, gt=0, description="how often a worker's own thread says it is alive")
    command_timeout_s: float = Field(
        5.0, gt=0, description="how long a change waits for the store; past it the answer is 503 and nothing changes"
    )
    shutdown_timeout_s: float = Field(
        5.0, gt=0, description="how long stopping waits for the store to take pending changes; then they are dropped"
    )
    token: SecretStr | None = Field(None, description="when set, mutating requests need `Authorization: Bearer`")
    allowed_origins: list[str] = Field(
        default_factory=list, description="websocket Origins allowed besides the server's own address"
    )
    cors_origins: list[str] = Field(default_factory=list, description="origins CORS allows (none: CORS off)")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="reverse proxies (addresses or networks) whose X-Forwarded-For names the client: each "
        "client's share of the queue then counts per client, not per proxy",
    )
    frontend_dir: Path = FRONTEND_DIR
    limits: Limits = Limits()

    @field_validator("devices", mode="before")
    @classmethod
    def _devices_from_a_list(cls, value: object) -> object:
        """TRAINSCOPE_DEVICES=cuda:0,cuda:1 (a JSON list works too)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("devices")
    @classmethod
    def _devices_are_cuda_indexes(cls, value: list[str]) -> list[str]:
        for device in value:
            if not re.fullmatch(r"cuda:\d+", device):
                raise ValueError(f"{device!r} is not a CUDA device: name each as cuda:N")
        return value

    @model_validator(mode="after")
    def _beats_fit_the_watchdog(self) -> Settings:
        if self.hang_timeout_s < 2 * self.heartbeat_s:
            raise ValueError("hang_timeout_s must be at least twice heartbeat_s, or a live worker is killed as hung")
        return self


class ClientSettings(BaseSettings):
    """Where the Python client and the CLI find a server: TRAINSCOPE_URL and TRAINSCOPE_TOKEN (flags win)."""

    model_config = SettingsConfigDict(env_prefix="TRAINSCOPE_", extra="ignore")

    url: str = "http://127.0.0.1:8000"
    shutdown_timeout_s: float = Field(
        5.0, gt=0, description="how long stopping waits for the store to take pending changes; then they are dropped"
    )
    token: SecretStr | None = None
    timeout_s: float = Field(30.0, gt=0, description="seconds a request may take")
