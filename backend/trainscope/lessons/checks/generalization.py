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
    run,
    tail_mean,
)
from trainscope.schemas.groups import Verdict


def overfitting(view: RunView, p: Params, figures: Figures) -> bool:
    val = needed(view.series("val/loss"), f"validation losses of {view.label}")
    best_step, best = min(val, key=lambda point: point[1])
    train = view.series("train/loss")
    train_at_best = tail_mean([pt for pt in train if pt[0] <= best_step], 0.2)
    train_end = tail_mean(train)
    figures.add(
        "early_stop.step",
        "early-stopping step (lowest validation loss)",
        "조기 종료 스텝 (가장 낮은 검증 손실)",
        best_step,
    )
    figures.add("early_stop.val_loss", "lowest validation loss", "가장 낮은 검증 손실", best)
    figures.add("final.val_loss", "final validation loss", "최종 검증 손실", val[-1][1])
    figures.add(
        "early_stop.train_loss", "training loss at the early-stopping step", "조기 종료 스텝의 학습 손실", train_at_best
    )
    figures.add("final.train_loss", "final training loss", "최종 학습 손실", train_end)
    turned_up = val[-1][1] >= best * p["val_rise"] and best_step < val[-1][0]
    return turned_up and train_end < train_at_best


def selection_excess(scored: list[RunView]) -> tuple[RunView, float, float]:
    """Among runs on one split: the run with the best test score, the mean over the runs of test minus
    held-out accuracy, and how far the chosen run's test minus held-out lies above that mean. The two
    sets differ in difficulty by chance, and that difference is in every run; what choosing by the
    test score adds is the chosen run's excess."""
    best = max(scored, key=lambda view: view.summary["test/acc"])
    mean_gap = float(np.mean([view.summary["test/acc"] - view.summary["holdout/acc"] for view in scored]))
    return best, mean_gap, best.summary["test/acc"] - best.summary["holdout/acc"] - mean_gap


def generalization(runs: list[RunView], p: Params) -> Verdict:
    figures = Figures()
    overfit = overfitting(run(runs, p["overfit"]), p, figures)
    selection = [view for view in runs if view.part == p["selection_part"]]
    scored = [view for view in needed(selection, "the selection runs") if "test/acc" in view.summary]
    if any("holdout/acc" not in view.summary for view in needed(scored, "test scores")):
        raise Missing("a fresh held-out score (data.holdout_fraction is 0)")
    splits: dict[int, list[RunView]] = {}
    for view in scored:
        splits.setdefault(int(view.changes.get("data.split_index", 0)), []).append(view)
    excesses = []
    for index, views in sorted(splits.items()):
        best, mean_gap, excess = selection_excess(views)
        name = f"split {index}"
        figures.add(
            f"split{index}.chosen_test_acc",
            f"{name}: chosen run's test accuracy (what selection reports)",
            f"분할 {index}: 고른 실행의 테스트 정확도 (선택이 보고하는 값)",
            best.summary["test/acc"],
        )
        figures.add(
            f"split{index}.chosen_holdout_acc",
            f"{name}: its fresh held-out accuracy",
            f"분할 {index}: 그 실행의 새 보류 세트 정확도",
            best.summary["holdout/acc"],
        )
        figures.add(
            f"split{index}.mean_gap",
            f"{name}: test minus held-out accuracy, mean over its runs",
            f"분할 {index}: 테스트 빼기 보류 정확도, 실행들의 평균",
            mean_gap,
        )
        excesses.append(
            figures.add(
                f"split{index}.excess",
                f"{name}: the chosen run's test minus held-out, above that mean",
                f"분할 {index}: 고른 실행의 테스트 빼기 보류가 평균보다 높은 만큼",
                excess,
            )
        )
    flattery = figures.add(
        "selection.excess",
        "selection's flattery: that excess, mean over the splits",
        "선택이 부풀린 정도: 그 초과분의 분할 평균",
        float(np.mean(excesses)),
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
