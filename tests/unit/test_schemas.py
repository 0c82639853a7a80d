"""JobSpec rules without HTTP (the 422 table runs against a live server in tests/api)."""

from __future__ import annotations

import pytest

from trainscope.config import Limits
from trainscope.schemas import InvalidTransition, JobSpec, JobStatus, check_transition, spec_errors


def test_defaults_are_valid_and_within_limits() -> None:
    assert spec_errors(JobSpec(), Limits()) == []


def test_digits_batch_bound_uses_its_training_set() -> None:
    spec = JobSpec.model_validate({"data": {"kind": "digits", "val_fraction": 0.5}, "optim": {"batch_size": 900}})
    assert spec.train_size == 1797 - 898
    assert [e.loc for e in spec_errors(spec, Limits())] == [("optim", "batch_size")]


def test_limits_are_settings() -> None:
    spec = JobSpec.model_validate({"optim": {"steps": 500}})
    assert spec_errors(spec, Limits(max_steps=500)) == []
    assert [e.loc for e in spec_errors(spec, Limits(max_steps=499))] == [("optim", "steps")]


def test_lifecycle_refuses_illegal_transitions() -> None:
    check_transition(JobStatus.queued, JobStatus.running)
    check_transition(JobStatus.running, JobStatus.diverged)
    with pytest.raises(InvalidTransition):
        check_transition(JobStatus.done, JobStatus.running)
    with pytest.raises(InvalidTransition):
        check_transition(JobStatus.queued, JobStatus.done)
