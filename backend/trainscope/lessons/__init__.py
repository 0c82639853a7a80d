"""Lessons: the catalogue (data), how a lesson becomes a group of runs, and how its observation is judged."""

from __future__ import annotations

from typing import Any

from trainscope.config import Limits
from trainscope.jobs.groups import Loc, PlannedRun, plan, with_changes
from trainscope.lessons.catalog import Lesson
from trainscope.lessons.checks import evaluate
from trainscope.lessons.evidence import gather
from trainscope.schemas.groups import GroupCreate, GroupRun, Verdict
from trainscope.store.base import GroupRecord, RunStore


def plan_lesson(lesson: Lesson, overrides: dict[str, Any], limits: Limits) -> list[PlannedRun]:
    """The lesson's runs, every experiment's base spec with `overrides` (dotted paths) applied first:
    a smaller `optim.steps` for a quick look, say. Errors locate in the request body's `overrides`."""
    parts: list[tuple[str, GroupCreate, Loc]] = []
    for experiment in lesson.experiments:
        group = experiment.group.model_copy(update={"base": with_changes(experiment.group.base, overrides)})
        parts.append((experiment.title.en, group, ("body", "overrides")))
    return plan(parts, limits)


class Judge:
    """Evaluates a lesson group's observation on its stored runs."""

    def __init__(self, lessons: dict[str, Lesson], store: RunStore) -> None:
        self.lessons, self.store = lessons, store

    def __call__(self, group: GroupRecord, runs: list[GroupRun]) -> Verdict | None:
        lesson = self.lessons.get(group.lesson or "")
        if lesson is None:
            return None
        observation = lesson.observation
        return evaluate(observation.check, gather(self.store, group), observation.params)
