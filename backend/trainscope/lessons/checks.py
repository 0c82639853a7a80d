"""Each lesson's observation as a check over the group's runs: held or not, and the figures behind it.

Thresholds come from the lesson file (measured on the presets; see tests/lessons for the figures).
A check raises Missing when a run it needs, or that run's evidence, is absent (a deleted job, a
probe turned off): the verdict is then "cannot tell", never a guess.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from trainscope.lessons.evidence import (
    RunView,
    histogram_std,
    linearity,
    probability_at,
    steps_to,
    tail_mean,
)
from trainscope.schemas.groups import Verdict

Params = dict[str, Any]
log = logging.getLogger(__name__)

# params that name runs by label, and params that name experiments by their English title: the catalogue
# test holds every lesson file to them, so a renamed variation cannot silently break its check
LABEL_PARAMS = frozenset(
    {"slow", "fast", "relu", "leaky", "linear", "nonlinear", "with_bias", "without_bias", "overfit", "plain"}
    | {"regularized", "weight_decay", "with_bn", "without_bn"}
)
PART_PARAMS = frozenset({"selection_part", "race_parts"})


class Missing(LookupError):
    """Evidence a check needs is not there."""


def run(runs: list[RunView], label: str, part: str | None = None) -> RunView:
    for view in runs:
        if view.label == label and (part is None or view.part == part):
            return view
    raise Missing(f"no run labelled {label!r}")


def needed(items: list[Any], what: str) -> list[Any]:
    if not items:
        raise Missing(f"{what}: missing")
    return items


def layer_ratio(view: RunView) -> float:
    """First hidden layer's gradient norm over the read-out's, at the first sampled step."""
    layers = needed(view.of_type("layers"), f"layer figures in {view.label}")[0]["layers"]
    first, last = layers[0]["grad_norm"], layers[-1]["grad_norm"]
    if first is None or not last:
        raise Missing(f"gradient norms in {view.label}")
    return float(first / last)


class Figures:
    """The numbers behind a verdict, named in English (the keys clients and tests read) and in Korean."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.names_ko: dict[str, str] = {}

    def add(self, en: str, ko: str, value: float) -> None:
        self.values[en] = float(value)
        self.names_ko[en] = ko

    def verdict(self, held: bool) -> Verdict:
        return Verdict(held=held, figures=self.values, names_ko=self.names_ko)


def activations(runs: list[RunView], p: Params) -> Verdict:
    slow, fast = run(runs, p["slow"]), run(runs, p["fast"])
    ratio = {view.label: layer_ratio(view) for view in runs}
    threshold = p["loss_threshold"]
    steps_slow = steps_to(slow.series("train/loss"), threshold)
    steps_fast = steps_to(fast.series("train/loss"), threshold)
    figures = Figures()
    for view in (slow, fast, *(v for v in runs if v not in (slow, fast))):
        figures.add(
            f"{view.label} first/last gradient ratio", f"{view.label_ko} 첫 층/마지막 층 기울기 비율", ratio[view.label]
        )
    figures.add(f"{fast.label} steps to loss {threshold}", f"{fast.label_ko} 손실 {threshold}까지 스텝", steps_fast)
    figures.add(f"{slow.label} steps to loss {threshold}", f"{slow.label_ko} 손실 {threshold}까지 스텝", steps_slow)
    return figures.verdict(ratio[slow.label] * p["ratio_factor"] <= ratio[fast.label] and steps_fast < steps_slow)


def mean_dead(view: RunView) -> float:
    layers = needed(view.of_type("layers"), f"layer figures in {view.label}")[-1]["layers"]
    dead = [layer["dead_fraction"] for layer in layers if layer["dead_fraction"] is not None]
    return float(np.mean(needed(dead, f"dead fractions in {view.label}")))


def dying_relu(runs: list[RunView], p: Params) -> Verdict:
    relu, leaky = run(runs, p["relu"]), run(runs, p["leaky"])
    dead_relu, dead_leaky = mean_dead(relu), mean_dead(leaky)
    figures = Figures()
    figures.add(f"{relu.label} dead fraction", f"{relu.label_ko} 죽은 유닛 비율", dead_relu)
    figures.add(f"{leaky.label} dead fraction", f"{leaky.label_ko} 죽은 유닛 비율", dead_leaky)
    return figures.verdict(dead_relu >= dead_leaky + p["margin"])


def final(view: RunView, tag: str) -> float:
    series = needed(view.series(tag), f"{tag} in {view.label}")
    return float(series[-1][1])


def last_boundary(view: RunView) -> dict[str, Any]:
    boundaries: list[dict[str, Any]] = needed(view.of_type("boundary"), f"decision boundary of {view.label}")
    return boundaries[-1]


def nonlinearity(runs: list[RunView], p: Params) -> Verdict:
    linear, curved = run(runs, p["linear"]), run(runs, p["nonlinear"])
    collapse = needed(linear.analysis("linear_collapse"), "the collapsed linear map")[-1]["figures"]
    straight = linearity(last_boundary(linear))
    acc_linear, acc_curved = final(linear, "val/acc"), final(curved, "val/acc")
    figures = Figures()
    figures.add("collapsed vs network, max |difference|", "합친 사상과 신경망의 최대 |차이|", collapse["max_abs_diff"])
    figures.add(
        f"{linear.label} boundary straightness (R^2 of log-odds plane)",
        f"{linear.label_ko} 경계의 직선성 (로그 오즈 평면의 R^2)",
        straight,
    )
    figures.add(
        f"{curved.label} boundary straightness", f"{curved.label_ko} 경계의 직선성", linearity(last_boundary(curved))
    )
    figures.add(f"{linear.label} validation accuracy", f"{linear.label_ko} 검증 정확도", acc_linear)
    figures.add(f"{curved.label} validation accuracy", f"{curved.label_ko} 검증 정확도", acc_curved)
    held = (
        collapse["max_abs_diff"] <= p["max_abs_diff"]
        and straight >= p["min_linearity"]
        and acc_curved >= p["min_accuracy"]
        and acc_linear < acc_curved
    )
    return figures.verdict(held)


def bias(runs: list[RunView], p: Params) -> Verdict:
    with_bias, without = run(runs, p["with_bias"]), run(runs, p["without_bias"])
    at_origin = probability_at(last_boundary(without), 0.0, 0.0)
    acc_with, acc_without = final(with_bias, "val/acc"), final(without, "val/acc")
    figures = Figures()
    figures.add(f"{without.label}: P(class 1) at the origin", f"{without.label_ko}: 원점의 P(클래스 1)", at_origin)
    figures.add(f"{with_bias.label} validation accuracy", f"{with_bias.label_ko} 검증 정확도", acc_with)
    figures.add(f"{without.label} validation accuracy", f"{without.label_ko} 검증 정확도", acc_without)
    return figures.verdict(
        abs(at_origin - 0.5) <= p["origin_tolerance"] and acc_with >= acc_without + p["accuracy_gap"]
    )


def learning_rate(runs: list[RunView], p: Params) -> Verdict:
    ordered = sorted(runs, key=lambda view: float(view.changes["optim.lr"]))
    smallest, largest = ordered[0], ordered[-1]
    losses = {view.label: view.series("train/loss") for view in ordered}
    start = needed(losses[largest.label], "the largest rate's losses")[0][1]
    rose = largest.status == "diverged" or max(v for _, v in losses[largest.label]) > start
    converged = needed([view for view in ordered if view.status == "done"], "a run that did not diverge")
    best = min(final(view, "full/loss") for view in converged)
    slow_final = final(smallest, "full/loss")
    slow = slow_final >= p["slow_factor"] * best and slow_final < losses[smallest.label][0][1]
    figures = Figures()
    for view in ordered:
        if view.status == "done":
            figures.add(f"{view.label} final loss", f"{view.label_ko} 최종 손실", final(view, "full/loss"))
    figures.add(f"{largest.label} diverged", f"{largest.label_ko} 발산 (1: 예)", largest.status == "diverged")
    figures.add("best final loss", "가장 낮은 최종 손실", best)
    return figures.verdict(rose and slow)


def backprop(runs: list[RunView], p: Params) -> Verdict:
    check = needed(runs[0].analysis("gradient_check"), "a gradient check")[-1]
    error = check["figures"]["max_relative_error"]
    figures = Figures()
    figures.add("largest relative error", "가장 큰 상대 오차", error)
    return figures.verdict(error < p["max_relative_error"])


def overfitting(view: RunView, p: Params, figures: Figures) -> bool:
    val = needed(view.series("val/loss"), f"validation losses of {view.label}")
    best_step, best = min(val, key=lambda point: point[1])
    train = view.series("train/loss")
    train_at_best = tail_mean([pt for pt in train if pt[0] <= best_step], 0.2)
    train_end = tail_mean(train)
    figures.add("early-stopping step (lowest validation loss)", "조기 종료 스텝 (가장 낮은 검증 손실)", best_step)
    figures.add("lowest validation loss", "가장 낮은 검증 손실", best)
    figures.add("final validation loss", "최종 검증 손실", val[-1][1])
    figures.add("training loss at the early-stopping step", "조기 종료 스텝의 학습 손실", train_at_best)
    figures.add("final training loss", "최종 학습 손실", train_end)
    turned_up = val[-1][1] >= best * p["val_rise"] and best_step < val[-1][0]
    return turned_up and train_end < train_at_best


def generalization(runs: list[RunView], p: Params) -> Verdict:
    figures = Figures()
    overfit = overfitting(run(runs, p["overfit"]), p, figures)
    selection = [view for view in runs if view.part == p["selection_part"]]
    scored = [view for view in needed(selection, "the selection runs") if "test/acc" in view.summary]
    best = max(needed(scored, "test scores"), key=lambda view: view.summary["test/acc"])
    if "holdout/acc" not in best.summary:
        raise Missing("a fresh held-out score (data.holdout_fraction is 0)")
    test, fresh = best.summary["test/acc"], best.summary["holdout/acc"]
    figures.add(
        "chosen run's test accuracy (what selection reports)", "고른 실행의 테스트 정확도 (선택이 보고하는 값)", test
    )
    figures.add(
        "chosen run's fresh held-out accuracy (what it really does)",
        "고른 실행의 새 보류 세트 정확도 (실제 성능)",
        fresh,
    )
    mean_test = float(np.mean([v.summary["test/acc"] for v in scored]))
    figures.add("mean test accuracy over the runs", "실행들의 평균 테스트 정확도", mean_test)
    return figures.verdict(overfit and test > fresh)


def gap(view: RunView) -> float:
    return final(view, "val/loss") - tail_mean(view.series("train/loss"))


def regularization(runs: list[RunView], p: Params) -> Verdict:
    plain = run(runs, p["plain"])
    regularized = [run(runs, label) for label in p["regularized"]]
    decay = run(runs, p["weight_decay"])
    tag = p["weight_tag"]
    width = {view.label: histogram_std(needed(view.histograms(tag), f"{tag} of {view.label}")[-1]) for view in runs}
    gaps = {view.label: gap(view) for view in runs}
    figures = Figures()
    for view in runs:
        figures.add(f"{view.label} validation - training loss", f"{view.label_ko} 검증 - 학습 손실", gaps[view.label])
    for view in runs:
        figures.add(f"{view.label} {tag} spread (std)", f"{view.label_ko} {tag} 퍼짐 (표준편차)", width[view.label])
    held = all(gaps[view.label] < gaps[plain.label] for view in regularized) and width[decay.label] < width[plain.label]
    return figures.verdict(held)


def batchnorm(runs: list[RunView], p: Params) -> Verdict:
    with_bn, without = run(runs, p["with_bn"]), run(runs, p["without_bn"])
    threshold = p["loss_threshold"]
    fast = steps_to(with_bn.series("train/loss"), threshold)
    slow = steps_to(without.series("train/loss"), threshold)
    modes = needed(with_bn.analysis("bn_modes"), "the train/eval comparison")[-1]["figures"]
    figures = Figures()
    figures.add(f"{with_bn.label} steps to loss {threshold}", f"{with_bn.label_ko} 손실 {threshold}까지 스텝", fast)
    figures.add(f"{without.label} steps to loss {threshold}", f"{without.label_ko} 손실 {threshold}까지 스텝", slow)
    figures.add("eval mode accuracy", "평가 모드 정확도", modes["eval_mode_acc"])
    figures.add(
        "train mode, one example at a time, accuracy",
        "학습 모드, 한 예제씩 예측한 정확도",
        modes["train_mode_single_acc"],
    )
    return figures.verdict(fast < slow and modes["train_mode_single_acc"] <= modes["eval_mode_acc"] - p["mode_gap"])


def optimizers(runs: list[RunView], p: Params) -> Verdict:
    figures = Figures()
    drawn, reached = True, False
    threshold = p["loss_threshold"]
    for view in runs:
        if view.part in p["race_parts"]:
            drawn = drawn and len(view.series("path/x")) >= p["min_path_points"]
            loss = final(view, "train/loss")
            figures.add(f"{view.part}: {view.label} final loss", f"{view.part_ko}: {view.label_ko} 최종 손실", loss)
        else:
            steps = steps_to(view.series("train/loss"), threshold)
            reached = reached or math.isfinite(steps)
            figures.add(f"{view.label} steps to loss {threshold}", f"{view.label_ko} 손실 {threshold}까지 스텝", steps)
    return figures.verdict(drawn and reached)


def batch_size(runs: list[RunView], p: Params) -> Verdict:
    ordered = sorted(runs, key=lambda view: int(view.changes["optim.batch_size"]))
    sizes = [int(view.changes["optim.batch_size"]) for view in ordered]
    at_start = [needed(view.analysis("grad_variance"), "gradient variance")[0] for view in ordered]
    variance = [event["figures"]["variance"] for event in at_start]
    speed = [view.summary.get("steps_per_s", math.nan) * size for view, size in zip(ordered, sizes, strict=True)]
    figures = Figures()
    held = True
    for i, size in enumerate(sizes):
        figures.add(f"B={size} gradient variance", f"B={size} 기울기 분산", variance[i])
        figures.add(f"B={size} samples/s", f"B={size} 초당 샘플 수", speed[i])
        if i:
            # variance ratio over the batch-size ratio: 1 when variance falls exactly as 1/B
            scaling = (variance[i - 1] / variance[i]) / (size / sizes[i - 1])
            name = f"B={sizes[i - 1]}->{size}"
            figures.add(f"{name}: variance drop / batch growth", f"{name}: 분산 감소 / 배치 증가", scaling)
            held = held and 1 / p["tolerance"] <= scaling <= p["tolerance"] and speed[i] > speed[i - 1]
    return figures.verdict(held)


CHECKS: dict[str, Callable[[list[RunView], Params], Verdict]] = {
    "activations": activations,
    "dying_relu": dying_relu,
    "nonlinearity": nonlinearity,
    "bias": bias,
    "learning_rate": learning_rate,
    "backprop": backprop,
    "generalization": generalization,
    "regularization": regularization,
    "batchnorm": batchnorm,
    "optimizers": optimizers,
    "batch_size": batch_size,
}


def waiting_verdict(waiting: int, total: int) -> Verdict:
    return Verdict(
        held=None,
        detail=f"waiting for {waiting} of {total} runs",
        detail_ko=f"실행 {total}개 중 {waiting}개를 기다리는 중",
    )


def evaluate(check: str, runs: list[RunView], params: Params) -> Verdict:
    """The verdict once every run has ended; held=None while any is still going or evidence is missing."""
    waiting = [view for view in runs if view.status in ("queued", "running", "paused")]
    if waiting:
        return waiting_verdict(len(waiting), len(runs))
    unfinished = [view.label for view in runs if view.status in ("failed", "cancelled")]
    if unfinished:
        names = ", ".join(unfinished)
        return Verdict(
            held=None, detail=f"cannot tell: {names} did not finish", detail_ko=f"판단할 수 없음: {names} 끝나지 않음"
        )
    try:
        verdict = CHECKS[check](runs, params)
    except Missing as missing:
        return Verdict(held=None, detail=f"cannot tell: {missing}", detail_ko=f"판단할 수 없음: {missing}")
    except (LookupError, ValueError, ArithmeticError) as error:
        # runs changed past what the check expects (say, overrides that made every rate diverge): the
        # page must still load, so say so instead of failing the request
        log.warning("check %s could not judge these runs: %r", check, error)
        reason = f"these runs lack what the check compares ({error!r})"
        return Verdict(held=None, detail=f"cannot tell: {reason}", detail_ko=f"판단할 수 없음: {reason}")
    # JSON has no infinity: a threshold never reached is reported as -1 steps, and said so
    never = [name for name, value in verdict.figures.items() if not math.isfinite(value)]
    for name in never:
        verdict.figures[name] = -1.0
    if never:
        verdict.detail = "-1: never reached"
        verdict.detail_ko = "-1: 도달하지 못함"
    return verdict
