"""Workers bound to CUDA devices (settings.devices): the setting, which worker takes which device, and the
binding itself (on a machine without the device it is a clear error; with one, a job's events name it)."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from tests.recorded import recorder
from trainscope.config import Settings
from trainscope.jobs.slots import worker_config
from trainscope.schemas import JobSpec
from trainscope.training.devices import bind_cuda
from trainscope.training.driver import fit


@pytest.mark.parametrize("raw", ["cuda:0,cuda:1", " cuda:0 , cuda:1 ", '["cuda:0", "cuda:1"]'])
def test_devices_are_read_from_a_list_or_json(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINSCOPE_DEVICES", raw)
    assert Settings().devices == ["cuda:0", "cuda:1"]


@pytest.mark.parametrize("raw", ["gpu0", "cuda", "cuda:x", "cpu"])
def test_a_device_that_is_not_a_cuda_index_is_refused(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINSCOPE_DEVICES", raw)
    with pytest.raises(ValidationError, match="cuda:N"):
        Settings()


def test_workers_take_the_devices_in_turn() -> None:
    settings = Settings(devices=["cuda:0", "cuda:3"], workers=5)
    assert [worker_config(settings, i).cuda_index for i in range(5)] == [0, 3, 0, 3, 0]
    assert worker_config(Settings(devices=[]), 2).cuda_index is None  # unset: the current device


def test_binding_a_device_the_machine_lacks_says_so() -> None:
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(RuntimeError, match=f"cuda:{count} was asked for .* has {count} CUDA devices"):
        bind_cuda(count)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_bound_workers_job_names_its_gpu_and_reports_nvml_figures() -> None:
    bind_cuda(torch.cuda.device_count() - 1)
    events: list[dict[str, object]] = []
    spec = JobSpec.model_validate({"device": "cuda", "optim": {"steps": 50}, "probes": {"system_every": 10}})
    assert fit(spec, recorder(events)).status == "done"
    systems = [e for e in events if e["type"] == "system"]
    assert {e["device"] for e in systems} == {f"cuda:{torch.cuda.device_count() - 1}"}
    assert all(e.get("gpu_memory_used_mb", 0) > 0 for e in systems)  # NVML (nvidia-ml-py) is installed
    assert all(0 <= e["gpu_utilization"] <= 100 for e in systems)  # type: ignore[operator]
