"""Lockstep groups (training/lockstep.py): which runs stack, and that a stacked run's events are the ones it
has alone (same losses, evaluations, probes, divergence and controls)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.recorded import recorder
from tests.unit.test_driver import Script
from trainscope.schemas import (
    CancelCommand,
    Command,
    JobSpec,
    PauseCommand,
    ResumeCommand,
    SetLrCommand,
    StepCommand,
)
from trainscope.training.control import Control, EmitPolicy, FitResult
from trainscope.training.driver import fit
from trainscope.training.lockstep import fit_stacked
from trainscope.training.probes import sampling
from trainscope.training.stacking import lockstep_groups, stack_reason

# TensorFlow Playground's default problem, probes sampling often so that they are compared too
BASE: dict[str, Any] = {
    "data": {"dataset": "circle", "n_points": 300, "noise": 0.1},
    "model": {"hidden": [4, 2], "activation": "tanh"},
    "optim": {"optimizer": "adam", "lr": 0.03, "batch_size": 10, "steps": 240, "eval_every": 20},
    "probes": {"histogram_every": 40, "layers_every": 40, "boundary_every": 80, "min_interval_s": 0},
}


def spec(**changes: Any) -> JobSpec:
    raw = {key: dict(value) for key, value in BASE.items()}
    for path, value in changes.items():
        part, _, name = path.partition("__")
        raw[part][name] = value
    return JobSpec.model_validate(raw)


def alone(job: JobSpec, control: Script | None = None) -> tuple[FitResult, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    return fit(job, recorder(events), control, EmitPolicy(60.0, 50)), events


def stacked(
    jobs: list[JobSpec], controls: list[Script | None] | None = None
) -> list[tuple[FitResult, list[dict[str, Any]]]]:
    events: list[list[dict[str, Any]]] = [[] for _ in jobs]
    results = fit_stacked(jobs, [recorder(e) for e in events], controls, EmitPolicy(60.0, 50))
    return list(zip(results, events, strict=True))


def comparable(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events with what differs between any two runs of one spec left out (clocks, throughput)."""
    kept = []
    for event in events:
        if event["type"] == "system":
            continue
        kept.append({k: v for k, v in event.items() if k != "wall"})
    return kept


def same_run(a: tuple[FitResult, list[dict[str, Any]]], b: tuple[FitResult, list[dict[str, Any]]]) -> None:
    (result_a, events_a), (result_b, events_b) = a, b
    assert (result_a.status, result_a.step) == (result_b.status, result_b.step)
    summary_a = {k: v for k, v in result_a.summary.items() if k != "steps_per_s"}
    summary_b = {k: v for k, v in result_b.summary.items() if k != "steps_per_s"}
    assert summary_a == pytest.approx(summary_b, rel=1e-6, abs=1e-7)
    assert comparable(events_a) == comparable(events_b)  # every loss, evaluation and probe, to the bit


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ([{"optim__lr": 0.3}, {"optim__weight_decay": 0.01}, {"model__init_seed": 5}], None),
        ([{"model__activation": "relu"}, {"model__activation": "leaky_relu", "model__leaky_slope": 0.2}], None),
        ([{"name": "x"}], None),
        ([{"optim__batch_size": 20}], "they differ in optim.batch_size"),
        ([{"model__hidden": [4, 3]}], "they differ in model.hidden"),
        ([{"seed": 1}], "they differ in seed"),
        ([{"model__hidden": [65]}], "some runs take the tiny path and others do not"),
        ([{"model__batch_norm": True}], "a run steps only alone: batch norm or dropout"),
    ],
)
def test_which_runs_stack(changes: list[dict[str, Any]], reason: str | None) -> None:
    jobs = [spec()]
    for change in changes:
        if "name" in change or "seed" in change:
            jobs.append(JobSpec.model_validate({**spec().model_dump(), **change}))
        else:
            jobs.append(spec(**change))
    assert stack_reason(jobs, "cpu") == reason
    assert stack_reason(jobs[:1], "cpu") == "a single run"
    assert stack_reason(jobs, "cuda") == "a run steps only alone: not on the CPU"


def test_a_group_is_planned_as_the_units_its_runs_stack_in() -> None:
    """A lesson's parts: runs that stack go together, wherever they are in the group; the rest alone."""
    jobs = [
        spec(),
        spec(optim__batch_size=20),
        spec(optim__lr=0.3),
        spec(model__hidden=[65]),
        spec(optim__batch_size=20, optim__lr=0.1),
        spec(model__activation="relu"),
        spec(model__hidden=[65]),
    ]
    assert lockstep_groups(jobs, "cpu") == [[0, 2, 5], [1, 4], [3], [6]]
    assert lockstep_groups(jobs, "cuda") == [[i] for i in range(len(jobs))]


def test_each_stacked_run_has_the_events_it_has_alone() -> None:
    """Four rates, a weight decay, another initial draw and three activations, stacked: every event each
    emits (losses, evaluations, histograms, layer figures, boundaries) equals its run alone, bit for bit."""
    jobs = [
        spec(optim__lr=0.003),
        spec(),
        spec(optim__lr=0.3, optim__weight_decay=0.01),
        spec(model__init_seed=7),
        spec(model__activation="relu"),
        spec(model__activation="sigmoid", optim__lr=0.1),
    ]
    together = stacked(jobs)
    for job, run in zip(jobs, together, strict=True):
        same_run(run, alone(job))
    kinds = {e["type"] for e in together[0][1]}
    assert {"scalars", "histogram", "layers", "boundary", "system"} <= kinds
    systems = [e for e in together[0][1] if e["type"] == "system"]
    assert systems and all(e["stacked_runs"] == 6 and e["step_path"] == "numpy" for e in systems)


def test_a_run_that_diverges_or_is_cancelled_ends_alone_and_the_others_go_on() -> None:
    jobs = [spec(optim__lr=50.0, optim__optimizer="adam"), spec(), spec(optim__lr=0.1)]
    jobs = [j.model_copy(update={"optim": j.optim.model_copy(update={"optimizer": "sgd"})}) for j in jobs]
    cancel = Script([], [], [CancelCommand()])  # obeyed at the run's third report
    events: list[list[dict[str, Any]]] = [[], [], []]
    order: list[tuple[int, str]] = []
    results = fit_stacked(
        jobs,
        [recorder(e) for e in events],
        [None, cancel, None],
        EmitPolicy(60.0, 50),
        lambda run, result: order.append((run, result.status)),
    )
    assert order == [(0, "diverged"), (1, "cancelled"), (2, "done")]  # each heard of as it ends
    diverged, cancelled, finished = zip(results, events, strict=True)
    assert diverged[0].status == "diverged"
    same_run(diverged, alone(jobs[0]))
    assert cancelled[0].status == "cancelled"
    same_run(cancelled, alone(jobs[1], Script([], [], [CancelCommand()])))
    same_run(finished, alone(jobs[2]))
    assert finished[0].status == "done"


def test_set_lr_changes_only_the_run_it_was_sent_to() -> None:
    jobs = [spec(), spec(optim__lr=0.01)]
    change = Script([], [SetLrCommand(action="set_lr", lr=0.2)])  # at the run's second report
    changed, untouched = stacked(jobs, [change, None])
    same_run(changed, alone(jobs[0], Script([], [SetLrCommand(action="set_lr", lr=0.2)])))
    same_run(untouched, alone(jobs[1]))
    assert any(e["type"] == "control" for e in changed[1]) and not any(e["type"] == "control" for e in untouched[1])


def test_runs_that_do_not_stack_are_refused() -> None:
    with pytest.raises(ValueError, match=r"do not stack: they differ in optim\.batch_size"):
        fit_stacked([spec(), spec(optim__batch_size=20)], [lambda e: None] * 2)


def test_auto_puts_a_net_small_enough_for_the_tiny_path_on_the_cpu_even_beside_a_gpu() -> None:
    from trainscope.training.stacking import auto_device

    assert auto_device(spec(), has_cuda=True) == "cpu"  # NumPy beats a GPU's launches on a 2-4-2 net
    assert auto_device(spec(model__hidden=[65]), has_cuda=True) == "cuda"
    assert auto_device(spec(model__hidden=[65]), has_cuda=False) == "cpu"


class ProbeClock:
    """A clock each look at which moves on by an eighth of a second (exact in binary): a step costs its
    runs' looks, so a group of N runs' step takes N times one run's."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 0.125
        return self.now


def test_a_stacked_run_samples_as_often_per_step_as_it_does_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The group's runs share one run's probe budget in wall time: were each to sample on the clock alone, a
    group of 4 would sample 4 times as often per step (and spend 4 times its probes' time)."""
    often = {"probes__histogram_every": 1, "probes__min_interval_s": 1.0}
    jobs = [
        spec(**often),
        spec(optim__lr=0.01, **often),
        spec(optim__lr=0.1, **often),
        spec(model__init_seed=3, **often),
    ]
    monkeypatch.setattr(sampling, "time", ProbeClock())
    sampled_alone = sorted({e["step"] for e in alone(jobs[0])[1] if e["type"] == "histogram"})
    assert len(sampled_alone) > 10  # the first, the last and many between
    monkeypatch.setattr(sampling, "time", ProbeClock())
    for _, events in stacked(jobs):
        assert sorted({e["step"] for e in events if e["type"] == "histogram"}) == sampled_alone


Run = tuple[FitResult, list[dict[str, Any]]]


class PausedUntil:
    """Pauses its run at its second report, then answers nothing until `until()` holds: then it resumes.
    It refuses to be waited on before that (a group held by one paused run would wait on it for ever)."""

    def __init__(self, until: Callable[[], bool]) -> None:
        self.until, self.polls = until, 0

    def poll(self, wait: float) -> list[Command]:
        self.polls += 1
        if self.polls == 2:
            return [PauseCommand(action="pause")]
        if self.polls > 2 and self.until():
            self.until = lambda: False  # once
            return [ResumeCommand(action="resume")]
        assert not wait or self.polls < 2, "the group waited on its paused run while others could train"
        return []


def pause_one_until_the_others_end(
    jobs: list[JobSpec], paused: int
) -> tuple[list[tuple[FitResult, list[dict[str, Any]]]], list[int]]:
    """The group trained with run `paused` paused at its second report until every other run has ended;
    each run's (result, events), and the order the runs ended in."""
    order: list[int] = []
    control = PausedUntil(lambda: len(order) == len(jobs) - 1)
    events: list[list[dict[str, Any]]] = [[] for _ in jobs]
    controls: list[Control | None] = [control if run == paused else None for run in range(len(jobs))]
    results = fit_stacked(
        jobs, [recorder(e) for e in events], controls, EmitPolicy(60.0, 50), lambda run, _: order.append(run)
    )
    return list(zip(results, events, strict=True)), order


@pytest.mark.parametrize("paused", [0, 1])  # the run whose batches the group drew, and another
def test_a_paused_run_is_set_apart_and_the_others_train_on(paused: int) -> None:
    """Every run's events are still its run alone's, bit for bit: the paused run carries on, once resumed,
    from its own parameters, optimizer state (Adam's moments and step count) and place in the batches."""
    jobs = [spec(), spec(optim__lr=0.01), spec(optim__lr=0.1, model__activation="relu")]
    together, order = pause_one_until_the_others_end(jobs, paused)
    assert order[-1] == paused and len(order) == 3  # the others ended while it was paused
    for run, (job, stacked_run) in enumerate(zip(jobs, together, strict=True)):
        control = (
            Script([], [PauseCommand(action="pause")], [ResumeCommand(action="resume")]) if run == paused else None
        )
        same_run(stacked_run, alone(job, control))
    statuses = [(e["status"], e["step"]) for e in together[paused][1] if e["type"] == "status"]
    assert statuses == [("paused", 20), ("running", 20)]  # its second report: its first evaluation


def test_step_set_lr_and_resume_reach_a_paused_run_of_a_group() -> None:
    jobs = [spec(), spec(optim__lr=0.01), spec(optim__lr=0.1)]
    commands = (
        [],
        [PauseCommand(action="pause")],
        [StepCommand(action="step", steps=5)],
        [SetLrCommand(action="set_lr", lr=0.5)],
        [ResumeCommand(action="resume")],
    )
    together = stacked(jobs, [None, Script(*commands), None])
    same_run(together[1], alone(jobs[1], Script(*commands)))
    assert [(e["status"], e["step"]) for e in together[1][1] if e["type"] == "status"] == [
        ("paused", 20),
        ("running", 25),
    ]
    for run in (0, 2):
        same_run(together[run], alone(jobs[run]))


@pytest.mark.parametrize(
    "commands",
    [  # paused once its group-mate has ended: its unit is the group's, kept; paused a second time, set apart
        (
            [],
            [],
            [PauseCommand(action="pause")],
            [StepCommand(action="step", steps=5)],
            [ResumeCommand(action="resume")],
        ),
        (
            [],
            [PauseCommand(action="pause")],
            [ResumeCommand(action="resume")],
            [PauseCommand(action="pause")],
            [StepCommand(action="step", steps=5)],
            [ResumeCommand(action="resume")],
        ),
    ],
)
def test_a_step_command_to_a_run_left_alone_takes_its_count_of_steps(commands: tuple[list[Command], ...]) -> None:
    jobs = [spec(), spec(optim__lr=0.01)]
    cancelled = Script([], [CancelCommand()])  # at its second report, step 20
    together = stacked(jobs, [Script(*commands), cancelled])
    same_run(together[0], alone(jobs[0], Script(*commands)))
    statuses = [(e["status"], e["step"]) for e in together[0][1] if e["type"] == "status"]
    assert statuses[-2:] == [("paused", 40), ("running", 45)]


class SlowResume:
    """Pauses its run at its second report; the next poll takes a while, then says resume."""

    def __init__(self, taking: float) -> None:
        self.taking, self.polls = taking, 0

    def poll(self, wait: float) -> list[Command]:
        self.polls += 1
        if self.polls == 2:
            return [PauseCommand(action="pause")]
        if self.polls == 3:
            time.sleep(self.taking)  # the time limit passes while it is paused
            return [ResumeCommand(action="resume")]
        return []


def test_a_run_resumed_past_its_time_limit_ends_where_it_paused() -> None:
    policy = EmitPolicy(60.0, 50, max_seconds=1.0)
    jobs = [spec(), spec(optim__lr=0.01)]
    alone_result = fit(jobs[1], lambda event: None, SlowResume(1.5), policy)
    results = fit_stacked(jobs, [lambda event: None] * 2, [Script([CancelCommand()]), SlowResume(1.5)], policy)
    assert (results[1].status, results[1].step) == (alone_result.status, alone_result.step) == ("failed", 20)
