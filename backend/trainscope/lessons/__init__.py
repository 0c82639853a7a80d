"""Lessons: the catalogue (data), how a lesson becomes a group of runs, and how its observation is judged."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from trainscope.config import Limits
from trainscope.jobs.groups import Loc, PlannedRun, describe, plan, variations_of, with_changes
from trainscope.lessons.catalog import Lesson
from trainscope.lessons.checks import evaluate, waiting_verdict
from trainscope.lessons.evidence import gather
from trainscope.schemas.groups import GroupCreate, GroupRun, Variation, Verdict
from trainscope.store.base import DatasetRecord, GroupRecord, RunStore


def replicated(group: GroupCreate, seeds: int) -> GroupCreate:
    """Each of the group's runs on `seeds` consecutive seeds from the base spec's, under the same label
    (a seed that is not an integer is left for the planner to refuse)."""
    first = group.base.get("seed", 0)
    if seeds == 1 or not isinstance(first, int) or isinstance(first, bool):
        return group
    variations = [
        Variation(
            label=variation.label or describe(variation.changes),
            label_ko=variation.label_ko,
            changes={**variation.changes, "seed": first + offset},
        )
        for variation, _ in variations_of(group, ())
        for offset in range(seeds)
    ]
    return group.model_copy(update={"variations": variations, "grid": {}})


def plan_lesson(
    lesson: Lesson, overrides: dict[str, Any], limits: Limits, datasets: Mapping[str, DatasetRecord] | None = None
) -> list[PlannedRun]:
    """The lesson's runs, every experiment's base spec with `overrides` (dotted paths) applied first:
    a smaller `optim.steps` for a quick look, or `data` an uploaded table. Errors locate in the request
    body's `overrides`."""
    parts: list[tuple[str, GroupCreate, Loc]] = []
    for experiment in lesson.experiments:
        group = experiment.group.model_copy(update={"base": with_changes(experiment.group.base, overrides)})
        parts.append((experiment.title.en, replicated(group, experiment.seeds), ("body", "overrides")))
    return plan(parts, limits, datasets)


VERDICT_CACHE = 256  # finished groups whose verdicts are kept in memory


class Judge:
    """Evaluates a lesson group's observation on its stored runs. Reading every run's events costs
    ~10-100 ms, and the page polls each second: runs still going get "waiting" without a read, and a
    finished group's verdict is computed once (a deleted run changes the key, so it is judged again)."""

    def __init__(self, lessons: dict[str, Lesson], store: RunStore) -> None:
        self.lessons, self.store = lessons, store
        self._cache: OrderedDict[tuple[str, tuple[int, ...]], Verdict] = OrderedDict()

    def __call__(self, group: GroupRecord, runs: list[GroupRun]) -> Verdict | None:
        lesson = self.lessons.get(group.lesson or "")
        if lesson is None:
            return None
        jobs = [run.job for run in runs if run.job is not None]
        waiting = sum(not job.status.terminal for job in jobs)
        if waiting:
            return waiting_verdict(waiting, len(jobs))
        key = (group.id, tuple(job.last_seq for job in jobs))
        verdict = self._cache.get(key)
        if verdict is None:
            observation = lesson.observation
            views = gather(self.store, runs)
            titles_ko = {experiment.title.en: experiment.title.ko for experiment in lesson.experiments}
            for view in views:
                view.part_ko = titles_ko.get(view.part, view.part)
            verdict = evaluate(observation.check, views, observation.params)
            self._cache[key] = verdict
            while len(self._cache) > VERDICT_CACHE:
                self._cache.popitem(last=False)
        return verdict
