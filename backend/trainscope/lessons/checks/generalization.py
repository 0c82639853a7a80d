"""Checks of the lessons on fitting versus generalizing: train/validation/test and regularization."""

from __future__ import annotations

import numpy as np

from trainscope.lessons.checks.figures import Figures, Params, key
from trainscope.lessons.evidence import (
    Missing,
    RunView,
    final,
    histogram_std,
    lowest_val_loss,
    needed,
    replicas,
    tail_mean,
)
from trainscope.schemas.groups import Verdict


def overfitting(views: list[RunView], p: Params, figures: Figures) -> bool:
    """Each run's validation loss at the end over its lowest (judged as the median over the seeds: one run's
    rise depends on which examples it drew), and whether its training loss kept falling past that point."""
    rises, falling = [], True
    for view in views:
        val = needed(view.series("val/loss"), f"validation losses of {view.label}")
        best_step, best = min(val, key=lambda point: point[1])
        train = view.series("train/loss")
        train_at_best = tail_mean([pt for pt in train if pt[0] <= best_step], 0.2)
        falling = falling and best_step < val[-1][0] and tail_mean(train) < train_at_best
        rises.append(val[-1][1] / best)
        if view is views[0]:
            seed = f"seed {view.changes.get('seed', 0)}"
            figures.add("early_stop.step", f"{seed}: early-stopping step", f"{seed}: 조기 종료 스텝", best_step)
            figures.add("early_stop.val_loss", f"{seed}: lowest validation loss", f"{seed}: 가장 낮은 검증 손실", best)
            figures.add("final.val_loss", f"{seed}: final validation loss", f"{seed}: 최종 검증 손실", val[-1][1])
    rise = figures.add(
        "val_rise",
        f"final validation loss over its lowest, median of {len(views)} seeds",
        f"최종 검증 손실 / 가장 낮은 검증 손실, 시드 {len(views)}개의 중앙값",
        float(np.median(rises)),
    )
    return falling and rise >= p["val_rise"]


def selection_excess(scored: list[RunView]) -> tuple[RunView, float, float]:
    """Among runs on one split: the run with the best test score, the mean over the runs of test minus
    held-out accuracy, and how far the chosen run's test minus held-out lies above that mean. The two
    sets differ in difficulty by chance, and that difference is in every run; what choosing by the
    test score adds is the chosen run's excess."""
    best = max(scored, key=lambda view: view.summary["test/acc"])
    mean_gap = float(np.mean([drop(view) for view in scored]))
    return best, mean_gap, drop(best) - mean_gap


def drop(view: RunView) -> float:
    return view.summary["test/acc"] - view.summary["holdout/acc"]


def halves_gap(scored: list[RunView]) -> float:
    """How much more the better half of the runs by test score drops from test to held-out accuracy than
    the worse half: what selecting by a score adds, measured with every run (lower spread than the
    single chosen run's excess)."""
    ordered = sorted(scored, key=lambda view: view.summary["test/acc"])
    half = len(ordered) // 2
    return float(np.mean([drop(v) for v in ordered[-half:]]) - np.mean([drop(v) for v in ordered[:half]]))


def generalization(runs: list[RunView], p: Params) -> Verdict:
    figures = Figures()
    overfit = overfitting(replicas(runs, p["overfit"]), p, figures)
    selection = [view for view in runs if view.part == p["selection_part"]]
    scored = [view for view in needed(selection, "the selection runs") if "test/acc" in view.summary]
    if any("holdout/acc" not in view.summary for view in needed(scored, "test scores")):
        raise Missing("a fresh held-out score (data.holdout_fraction is 0)")
    splits: dict[int, list[RunView]] = {}
    for view in scored:
        splits.setdefault(int(view.changes.get("data.split_index", 0)), []).append(view)
    excesses, halves = [], []
    for index, views in sorted(splits.items()):
        best, _, excess = selection_excess(views)
        excesses.append(excess)
        halves.append(halves_gap(views))
        if index == 0:  # one split's numbers, to read beside the ringed points
            figures.add(
                "split0.chosen_test_acc",
                "split 0: chosen run's test accuracy (what selection reports)",
                "분할 0: 고른 실행의 테스트 정확도 (선택이 보고하는 값)",
                best.summary["test/acc"],
            )
            figures.add(
                "split0.chosen_holdout_acc",
                "split 0: its fresh held-out accuracy",
                "분할 0: 그 실행의 새 보류 세트 정확도",
                best.summary["holdout/acc"],
            )
    figures.add(
        "selection.excess",
        f"the chosen run's drop from test to held-out above its split's mean drop, mean of {len(splits)} splits",
        f"고른 실행의 테스트→보류 하락이 그 분할 평균 하락보다 큰 만큼, 분할 {len(splits)}개의 평균",
        float(np.mean(excesses)),
    )
    flattery = figures.add(
        "selection.halves",
        f"the better half by test score drops more than the worse half by, mean of {len(splits)} splits",
        f"테스트 점수 상위 절반이 하위 절반보다 더 떨어진 정도, 분할 {len(splits)}개의 평균",
        float(np.mean(halves)),
    )
    return figures.verdict(overfit and flattery >= p["min_excess"])


def regularization(runs: list[RunView], p: Params) -> Verdict:
    tag = p["weight_tag"]

    def train_val_gap(view: RunView) -> float:
        return final(view, "val/loss") - final(view, "train_eval/loss")

    def spread(view: RunView) -> float:
        return histogram_std(needed(view.histograms(tag), f"{tag} of {view.label}")[-1])

    plain, dropout, decay = (replicas(runs, p[role]) for role in ("plain", "dropout", "weight_decay"))
    if not len(plain) == len(dropout) == len(decay):
        raise Missing("the same seeds for every variation")
    seeds = f"mean of {len(plain)} seeds" if len(plain) > 1 else "one seed"
    seeds_ko = f"시드 {len(plain)}개의 평균" if len(plain) > 1 else "시드 하나"
    measures = (
        ("lowest_val_loss", "lowest validation loss", "가장 낮은 검증 손실", lowest_val_loss),
        (
            "gap",
            "validation minus training loss at the end (training set scored with dropout off)",
            "마지막 검증 손실 빼기 학습 손실 (학습 세트는 드롭아웃 없이 채점)",
            train_val_gap,
        ),
        ("weight_spread", f"{tag} spread (std)", f"{tag} 퍼짐 (표준편차)", spread),
    )
    figures = Figures()
    mean: dict[tuple[str, str], float] = {}
    for name, en, ko, measure in measures:
        for views in (plain, dropout, decay):
            label, label_ko = views[0].label, views[0].label_ko
            mean[label, name] = figures.add(
                key(label, name),
                f"{label}: {en}, {seeds}",
                f"{label_ko}: {ko}, {seeds_ko}",
                float(np.mean([measure(view) for view in views])),
            )
    names = plain[0].label, dropout[0].label, decay[0].label
    # paired by seed: each seed's runs share data and initial weights, so the difference is the regularizer's
    val_gain = figures.add(
        key(names[1], "val_gain"),
        f"{names[1]}: lowers the lowest validation loss by ({seeds})",
        f"{dropout[0].label_ko}: 가장 낮은 검증 손실을 낮춘 정도 ({seeds_ko})",
        mean[names[0], "lowest_val_loss"] - mean[names[1], "lowest_val_loss"],
    )
    gap_cut = figures.add(
        key(names[2], "gap_cut"),
        f"{names[2]}: narrows the gap by ({seeds})",
        f"{decay[0].label_ko}: 차이를 줄인 정도 ({seeds_ko})",
        mean[names[0], "gap"] - mean[names[2], "gap"],
    )
    held = (
        val_gain >= p["min_val_gain"]
        and gap_cut >= p["min_gap_cut"]
        and mean[names[2], "weight_spread"] <= mean[names[0], "weight_spread"] * p["max_spread_ratio"]
    )
    return figures.verdict(held)
