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


def test_a_short_run_is_evaluated_at_its_end_unless_the_user_chose_the_interval() -> None:
    short = JobSpec.model_validate({"optim": {"steps": 10}})
    assert short.optim.eval_every == 10 and spec_errors(short, Limits()) == []
    assert JobSpec.model_validate_json(short.model_dump_json()).optim.eval_every == 10  # stored as run
    assert JobSpec.model_validate({"optim": {"steps": 1000}}).optim.eval_every == 25  # the default
    chosen = JobSpec.model_validate({"optim": {"steps": 10, "eval_every": 25}})
    assert [error.loc for error in spec_errors(chosen, Limits())] == [("optim", "eval_every")]
