"""The lesson files: complete in both languages, each check known, each preset within the default limits."""

from __future__ import annotations

import pytest

from trainscope.config import Limits
from trainscope.lessons import plan_lesson
from trainscope.lessons.catalog import Lesson, load_catalog
from trainscope.lessons.checks import CHECKS, LABEL_PARAMS, PART_PARAMS

CATALOG = load_catalog()
CHARTS = {
    "loss", "val_loss", "layer_grads", "act_histograms", "weight_histograms", "dead", "boundary", "collapse",
    "surface", "gradcheck", "network", "selection", "bn", "race", "variance", "throughput", "loss_samples", "embedding",
    "accuracy", "pictures", "parameters", "final_error", "memory",
}  # fmt: skip  # the compare view's panels (trainscope/frontend/js/views/compare.js)


def test_the_catalogue_lists_the_part_one_lessons_in_order() -> None:
    assert list(CATALOG) == [
        "activations", "dying-relu", "nonlinearity", "bias", "learning-rate", "backprop",
        "generalization", "regularization", "batchnorm", "optimizers", "batch-size", "cnn-vs-mlp", "cnn-sequences",
        "debugging", "random-search", "word2vec", "autoencoder", "vae", "kmeans-pca", "data-parallel",
        "gpu-memory", "gpu-utilization",
    ]  # fmt: skip


@pytest.mark.parametrize("lesson", CATALOG.values(), ids=list(CATALOG))
def test_lesson_is_complete_and_plans_within_limits(lesson: Lesson) -> None:
    texts = [lesson.title, lesson.question, lesson.explanation, lesson.observation.text, *lesson.look_at]
    texts += [e.title for e in lesson.experiments]
    assert all(t.en.strip() and t.ko.strip() and t.en != t.ko for t in texts)
    assert lesson.observation.check in CHECKS
    assert set(lesson.charts) <= CHARTS
    runs = plan_lesson(lesson, {}, Limits())
    assert 1 <= len(runs) <= Limits().max_group_runs
    for experiment in lesson.experiments:
        mine = [run for run in runs if run.part == experiment.title.en]
        labels = {run.label for run in mine}
        by_seed: dict[int, set[str]] = {}
        for run in mine:
            by_seed.setdefault(run.spec.seed, set()).add(run.label)
        # matched runs share the seed; a repeated experiment runs every variation on each of its seeds
        assert sorted(by_seed) == list(range(experiment.seeds))
        assert all(seen == labels for seen in by_seed.values())


def test_a_repeated_experiment_runs_each_variation_on_consecutive_seeds_from_the_override() -> None:
    runs = plan_lesson(CATALOG["regularization"], {"seed": 40}, Limits())
    assert [(run.label, run.spec.seed) for run in runs][:3] == [("none", 40), ("none", 41), ("none", 42)]
    assert {run.changes["seed"] for run in runs} == {40, 41, 42, 43, 44}
    assert len({run.label for run in runs}) == 3 and len(runs) == 15


@pytest.mark.parametrize("lesson", CATALOG.values(), ids=list(CATALOG))
def test_check_params_name_real_runs_and_experiments(lesson: Lesson) -> None:
    labels = {run.label for run in plan_lesson(lesson, {}, Limits())}
    titles = {experiment.title.en for experiment in lesson.experiments}
    for key, value in lesson.observation.params.items():
        if key not in LABEL_PARAMS | PART_PARAMS:
            continue  # a threshold, or words the check looks for
        names = set(value) if isinstance(value, list) else {value}
        if key in LABEL_PARAMS:
            assert names <= labels, f"{key} names no run"
        if key in PART_PARAMS:
            assert names <= titles, f"{key} names no experiment"


def test_overrides_apply_to_every_experiment() -> None:
    runs = plan_lesson(CATALOG["optimizers"], {"optim.steps": 200}, Limits())
    assert {run.spec.optim.steps for run in runs} == {200}
