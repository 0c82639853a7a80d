"""Each lesson's observation as a check over the group's runs: held or not, and the figures behind it.

Thresholds come from the lesson file (measured on the presets; see tests/lessons for the figures).
A check raises Missing when a run it needs, or that run's evidence, is absent (a deleted job, a
probe turned off): the verdict is then "cannot tell", never a guess.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from trainscope.lessons.evidence import (
    RunView,
    histogram_std,
    linearity,
    steps_to,
    tail_mean,
)
from trainscope.schemas.groups import Figure, Verdict

Params = dict[str, Any]
log = logging.getLogger(__name__)

# params that name runs by label, and params that name experiments by their English title: the catalogue
# test holds every lesson file to them, so a renamed variation cannot silently break its check
LABEL_PARAMS = frozenset(
    {"slow", "fast", "relu", "leaky", "linear", "nonlinear", "with_bias", "without_bias", "overfit", "plain"}
    | {"dropout", "weight_decay", "with_bn", "without_bn", "sgd", "momentum", "adaptive"}
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


def key(*parts: str) -> str:
    """A stable figure key from run labels and a measure: "weight decay 0.01" + "gap" -> weight_decay_0_01.gap."""
    return ".".join(re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_") for part in parts)


class Figures:
    """The numbers behind a verdict by stable key, each named in English and in Korean. A value that is
    not finite (a threshold never reached) is kept as null, which the page words as "never reached"."""

    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}

    def add(self, name: str, en: str, ko: str, value: float) -> float:
        self.figures[name] = Figure(value=float(value) if math.isfinite(value) else None, en=en, ko=ko)
        return float(value)

    def verdict(self, held: bool) -> Verdict:
        return Verdict(held=held, figures=self.figures)


def steps_to_loss(view: RunView, threshold: float, figures: Figures) -> float:
    steps = steps_to(view.series("train/loss"), threshold)
    en, ko = f"{view.label}: steps to training loss {threshold}", f"{view.label_ko}: 학습 손실 {threshold}까지 스텝"
    return figures.add(key(view.label, "steps_to_loss"), en, ko, steps)


def activations(runs: list[RunView], p: Params) -> Verdict:
    slow = run(runs, p["slow"])
    fast = [run(runs, label) for label in p["fast"]]
    figures = Figures()
    ratio, steps = {}, {}
    for view in (slow, *fast):
        ratio[view.label] = figures.add(
            key(view.label, "grad_ratio"),
            f"{view.label}: first-layer / last-layer gradient norm",
            f"{view.label_ko}: 첫 층 / 마지막 층 기울기 노름",
            layer_ratio(view),
        )
    figures.add(
        key(slow.label, "shrink"),
        f"{slow.label}: the gradient shrinks by this factor on its way to the first layer",
        f"{slow.label_ko}: 첫 층까지 내려가며 기울기가 줄어드는 배수",
        1 / ratio[slow.label],
    )
    for view in (slow, *fast):
        steps[view.label] = steps_to_loss(view, p["loss_threshold"], figures)
    held = all(
        ratio[slow.label] * p["ratio_factor"] <= ratio[view.label] and steps[view.label] < steps[slow.label]
        for view in fast
    )
    return figures.verdict(held)


def layer_means(view: RunView, figure: str) -> list[float]:
    """Per layers event, the mean of a figure over the hidden layers."""
    events = needed(view.of_type("layers"), f"layer figures in {view.label}")
    means = []
    for event in events:
        values = [layer[figure] for layer in event["layers"] if layer.get(figure) is not None]
        means.append(float(np.mean(needed(values, f"{figure} in {view.label}"))))
    return means


def revivals(view: RunView, first_layer_only: bool = False) -> float:
    """Units found alive again after a sample that had them dead, summed over the run."""
    return float(
        sum(
            layer.get("revived") or 0
            for event in view.of_type("layers")
            for layer in (event["layers"][:1] if first_layer_only else event["layers"][:-1])
        )
    )


def dying_relu(runs: list[RunView], p: Params) -> Verdict:
    relu, leaky = run(runs, p["relu"]), run(runs, p["leaky"])
    figures = Figures()
    final_dead = {}
    for view in (relu, leaky):
        dead = layer_means(view, "dead_fraction")
        final_dead[view.label] = figures.add(
            key(view.label, "dead_fraction"),
            f"{view.label}: dead fraction at the end (mean over hidden layers, whole training set)",
            f"{view.label_ko}: 마지막 죽은 유닛 비율 (은닉층 평균, 전체 학습 데이터)",
            dead[-1],
        )
        figures.add(
            key(view.label, "peak_dead_fraction"),
            f"{view.label}: highest dead fraction",
            f"{view.label_ko}: 가장 높았던 죽은 유닛 비율",
            max(dead),
        )
        figures.add(
            key(view.label, "revived"),
            f"{view.label}: dead units that came back",
            f"{view.label_ko}: 되살아난 죽은 유닛",
            revivals(view),
        )
    figures.add(  # an illustration: zero under plain SGD, a few under Adam's leftover momentum
        key(relu.label, "revived_first_layer"),
        f"{relu.label}: dead units that came back in the first layer (its inputs are the data)",
        f"{relu.label_ko}: 첫 층에서 되살아난 죽은 유닛 (입력이 데이터 자체)",
        revivals(relu, first_layer_only=True),
    )
    for view in (relu, leaky):
        figures.add(
            key(view.label, "val_acc"),
            f"{view.label}: validation accuracy",
            f"{view.label_ko}: 검증 정확도",
            final(view, "val/acc"),
        )
    revived = revivals(relu), revivals(leaky)
    held = final_dead[relu.label] >= final_dead[leaky.label] + p["margin"] and revived[1] >= p["revival_factor"] * max(
        revived[0], 1
    )
    return figures.verdict(held)


def final(view: RunView, tag: str) -> float:
    series = needed(view.series(tag), f"{tag} in {view.label}")
    return float(series[-1][1])


def last_boundary(view: RunView) -> dict[str, Any]:
    boundaries: list[dict[str, Any]] = needed(view.of_type("boundary"), f"decision boundary of {view.label}")
    return boundaries[-1]


def accuracy(view: RunView, figures: Figures) -> float:
    en, ko = f"{view.label}: validation accuracy", f"{view.label_ko}: 검증 정확도"
    return figures.add(key(view.label, "val_acc"), en, ko, final(view, "val/acc"))


def nonlinearity(runs: list[RunView], p: Params) -> Verdict:
    linear, curved = run(runs, p["linear"]), run(runs, p["nonlinear"])
    collapse = needed(linear.analysis("linear_collapse"), "the collapsed linear map")[-1]["figures"]
    figures = Figures()
    # illustrations, true by construction for a net without non-linearities
    figures.add(
        "collapse.max_abs_diff",
        "collapsed single layer vs the network: max |difference|",
        "하나로 합친 층과 신경망의 최대 |차이|",
        collapse["max_abs_diff"],
    )
    for view in (linear, curved):
        figures.add(
            key(view.label, "straightness"),
            f"{view.label}: boundary straightness (R^2 of a plane fitted to the log-odds)",
            f"{view.label_ko}: 경계의 직선성 (로그 오즈에 맞춘 평면의 R^2)",
            linearity(last_boundary(view)),
        )
    # the verdict rests on what training found, which could have gone either way
    acc_linear, acc_curved = accuracy(linear, figures), accuracy(curved, figures)
    held = acc_curved >= p["min_accuracy"] and acc_linear <= acc_curved - p["accuracy_gap"]
    return figures.verdict(held)


def bias(runs: list[RunView], p: Params) -> Verdict:
    with_bias, without = run(runs, p["with_bias"]), run(runs, p["without_bias"])
    figures = Figures()
    for view in (with_bias, without):
        query = needed(view.analysis("query_points"), f"the probability at the origin in {view.label}")[-1]["data"]
        if [0.0, 0.0] not in query["points"]:
            raise Missing(f"the origin among the query points of {view.label}")
        at_origin = query["probs"][query["points"].index([0.0, 0.0])][1]
        figures.add(
            key(view.label, "p_origin"),
            f"{view.label}: P(class 1) at the origin (0, 0)",
            f"{view.label_ko}: 원점 (0, 0)의 P(클래스 1)",
            at_origin,
        )
    acc_with, acc_without = accuracy(with_bias, figures), accuracy(without, figures)
    return figures.verdict(acc_with >= p["min_accuracy"] and acc_without <= acc_with - p["accuracy_gap"])


def learning_rate(runs: list[RunView], p: Params) -> Verdict:
    ordered = sorted(runs, key=lambda view: float(view.changes["optim.lr"]))
    smallest, largest = ordered[0], ordered[-1]
    losses = {view.label: view.series("train/loss") for view in ordered}
    start = needed(losses[largest.label], "the largest rate's losses")[0][1]
    rose = largest.status == "diverged" or max(v for _, v in losses[largest.label]) > start
    converged = needed([view for view in ordered if view.status == "done"], "a run that did not diverge")
    figures = Figures()
    for view in converged:
        figures.add(
            key(view.label, "final_loss"),
            f"{view.label}: final loss",
            f"{view.label_ko}: 최종 손실",
            final(view, "full/loss"),
        )
    figures.add(
        key(largest.label, "diverged"),
        f"{largest.label}: diverged (1: yes)",
        f"{largest.label_ko}: 발산 (1: 예)",
        largest.status == "diverged",
    )
    best = figures.add(
        "best_final_loss", "best final loss", "가장 낮은 최종 손실", min(final(view, "full/loss") for view in converged)
    )
    slow_final = final(smallest, "full/loss")
    slow = slow_final >= p["slow_factor"] * best and slow_final < losses[smallest.label][0][1]
    return figures.verdict(rose and slow)


def backprop(runs: list[RunView], p: Params) -> Verdict:
    check = needed(runs[0].analysis("gradient_check"), "a gradient check")[-1]
    figures = Figures()
    error = figures.add(
        "max_relative_error",
        "largest relative error, autograd vs finite differences",
        "가장 큰 상대 오차, 자동 미분 대 유한 차분",
        check["figures"]["max_relative_error"],
    )
    if "chain_rule_max_error" not in check["figures"]:
        raise Missing("the chain rule by hand (this network's layers are not all written out)")
    by_hand = figures.add(
        "chain_rule_max_error",
        "chain rule written out by hand vs autograd, every weight: largest difference / largest gradient",
        "손으로 풀어 쓴 연쇄 법칙 대 자동 미분, 모든 가중치: 가장 큰 차이 / 가장 큰 기울기",
        check["figures"]["chain_rule_max_error"],
    )
    return figures.verdict(error < p["max_relative_error"] and by_hand < p["max_chain_rule_error"])


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


def replicas(runs: list[RunView], label: str) -> list[RunView]:
    """The runs of one variation, one per seed, in seed order (a lesson may repeat each run)."""
    views = [view for view in runs if view.label == label]
    return sorted(needed(views, f"runs labelled {label!r}"), key=lambda view: int(view.changes.get("seed", 0)))


def lowest_val_loss(view: RunView) -> float:
    return float(min(value for _, value in needed(view.series("val/loss"), f"val/loss of {view.label}")))


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


def batchnorm(runs: list[RunView], p: Params) -> Verdict:
    with_bn, without = run(runs, p["with_bn"]), run(runs, p["without_bn"])
    figures = Figures()
    fast = steps_to_loss(with_bn, p["loss_threshold"], figures)
    slow = steps_to_loss(without, p["loss_threshold"], figures)
    modes = needed(with_bn.analysis("bn_modes"), "the train/eval comparison")[-1]["figures"]
    eval_acc = figures.add("eval_mode_acc", "eval mode accuracy", "평가 모드 정확도", modes["eval_mode_acc"])
    single = figures.add(
        "train_mode_single_acc",
        "train mode, one example at a time, accuracy",
        "학습 모드, 한 예제씩 예측한 정확도",
        modes["train_mode_single_acc"],
    )
    return figures.verdict(fast * p["speedup"] <= slow and single <= eval_acc - p["mode_gap"])


def optimizers(runs: list[RunView], p: Params) -> Verdict:
    figures = Figures()
    final_loss: dict[tuple[str, str], float] = {}
    steps: dict[str, float] = {}
    for view in runs:
        if view.part in p["race_parts"]:
            if len(view.series("path/x")) < p["min_path_points"]:
                raise Missing(f"the whole path of {view.label} in {view.part}")
            final_loss[view.part, view.label] = figures.add(
                key(view.part, view.label, "final_loss"),
                f"{view.part}: {view.label} final loss",
                f"{view.part_ko}: {view.label_ko} 최종 손실",
                final(view, "train/loss"),
            )
        else:
            steps[view.label] = steps_to_loss(view, p["loss_threshold"], figures)
    rosenbrock = p["race_parts"][0]
    momentum_wins = final_loss[rosenbrock, p["momentum"]] * p["race_factor"] <= final_loss[rosenbrock, p["sgd"]]
    adaptive_win = all(steps[label] < steps[p["sgd"]] for label in p["adaptive"])
    return figures.verdict(momentum_wins and adaptive_win)


def batch_size(runs: list[RunView], p: Params) -> Verdict:
    ordered = sorted(runs, key=lambda view: int(view.changes["optim.batch_size"]))
    sizes = [int(view.changes["optim.batch_size"]) for view in ordered]
    at_start = [needed(view.analysis("grad_variance"), "gradient variance")[0] for view in ordered]
    variance = [event["figures"]["variance"] for event in at_start]
    if any("steps_per_s" not in view.summary for view in ordered):
        raise Missing("a run's throughput")
    speed = [view.summary["steps_per_s"] * size for view, size in zip(ordered, sizes, strict=True)]
    figures = Figures()
    held = True
    for i, size in enumerate(sizes):
        figures.add(f"b{size}.grad_variance", f"B={size}: gradient variance", f"B={size}: 기울기 분산", variance[i])
        figures.add(f"b{size}.samples_per_s", f"B={size}: samples/s", f"B={size}: 초당 샘플 수", speed[i])
        if i:
            # variance ratio over the batch-size ratio: 1 when variance falls exactly as 1/B
            scaling = (variance[i - 1] / variance[i]) / (size / sizes[i - 1])
            name = f"B={sizes[i - 1]}->{size}"
            figures.add(
                f"b{sizes[i - 1]}_to_b{size}.scaling",
                f"{name}: variance drop / batch growth",
                f"{name}: 분산 감소 / 배치 증가",
                scaling,
            )
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
    return verdict
