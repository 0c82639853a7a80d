"""Checks of the lessons on what a network computes: activations, dead ReLUs, non-linearity, the bias,
backpropagation, convolutions against dense layers."""

from __future__ import annotations

from typing import Any

from trainscope.lessons.checks.figures import Figures, Params, accuracy, key, steps_to_loss
from trainscope.lessons.evidence import (
    Missing,
    RunView,
    final,
    last_boundary,
    layer_means,
    layer_ratio,
    linearity,
    needed,
    revivals,
    run,
)
from trainscope.schemas.groups import Verdict


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


def dying_relu(runs: list[RunView], p: Params) -> Verdict:
    relu, leaky = run(runs, p["relu"]), run(runs, p["leaky"])
    figures = Figures()
    final_dead, came_back = {}, {}
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
        came_back[view.label] = figures.add(
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
        accuracy(view, figures)
    much_deader = final_dead[relu.label] >= final_dead[leaky.label] + p["margin"]
    leaky_recovers = came_back[leaky.label] >= p["revival_factor"] * max(came_back[relu.label], 1)
    return figures.verdict(much_deader and leaky_recovers)


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


def part_accuracy(figures: Figures, runs: list[RunView], label: str, part: str, where: tuple[str, str]) -> float:
    """The final validation accuracy of the run `label` in the experiment `part`, named (en, ko) by where."""
    view = run(runs, label, part)
    en, ko = f"{where[0]}, {view.label}: validation accuracy", f"{where[1]}, {view.label_ko}: 검증 정확도"
    return figures.add(key(part, label, "val_acc"), en, ko, final(view, "val/acc"))


def cnn_vs_mlp(runs: list[RunView], p: Params) -> Verdict:
    shifted, shuffled = p["shifted_part"], p["shuffled_part"]
    figures = Figures()

    names = {shifted: ("shifted digits", "이동된 숫자"), shuffled: ("pixels shuffled", "픽셀을 섞음")}

    def val_acc(label: str, part: str) -> float:
        return part_accuracy(figures, runs, label, part, names[part])

    mlp, cnn = val_acc(p["mlp"], shifted), val_acc(p["cnn"], shifted)
    val_acc(p["average"], shifted)  # max against average pooling: shown, not judged
    mlp_shuffled, cnn_shuffled = val_acc(p["mlp"], shuffled), val_acc(p["cnn"], shuffled)

    def analysed(name: str) -> dict[str, Any]:
        found = [a for view in runs if view.part == shifted for a in view.analysis(name)]
        figures_of: dict[str, Any] = needed(found, f"the {name.replace('_', ' ')}")[-1]["figures"]
        return figures_of

    first = analysed("unrolled_convolution")  # shown: one convolution as the matrix it is
    for name, en, ko in (
        ("dense_parameters", "the first convolution as a dense matrix: weights", "첫 합성곱을 밀집 행렬로: 가중치 수"),
        ("zero_fraction", "share of that matrix that is zero", "그 행렬 중 0인 비율"),
    ):
        figures.add(f"first_conv.{name}", en, ko, first[name])
    whole = analysed("unrolled_network")
    diff = figures.add(
        "unrolled.relative_diff",
        "the whole CNN written out as an MLP: max |difference| of outputs / largest output",
        "MLP로 풀어 쓴 CNN 전체: 출력의 최대 |차이| / 가장 큰 출력",
        whole["max_abs_diff"] / whole["largest_output"],
    )
    counts = [
        ("cnn_parameters", "the CNN: parameters", "CNN: 파라미터 수"),
        ("mlp_parameters", "the CNN written out as an MLP: parameters", "MLP로 풀어 쓴 CNN: 파라미터 수"),
        ("mlp_hidden_layers", "the CNN written out as an MLP: hidden layers", "MLP로 풀어 쓴 CNN: 은닉층 수"),
    ]
    for name, en, ko in counts:
        figures.add(f"unrolled.{name}", en, ko, whole[name])
    mlp_view = run(runs, p["mlp"], shifted)
    trained_mlp = figures.add(
        "mlp.parameters",
        "the MLP trained beside it: parameters",
        "함께 학습한 MLP: 파라미터 수",
        needed(mlp_view.analysis("parameters"), "the MLP's parameter count")[-1]["figures"]["by_torch"],
    )
    drop_gap = figures.add(
        "shuffle.drop_gap",
        "accuracy the CNN loses to shuffling, minus what the MLP loses",
        "섞기로 CNN이 잃는 정확도에서 MLP가 잃는 정확도를 뺀 값",
        (cnn - cnn_shuffled) - (mlp - mlp_shuffled),
    )
    held = (
        cnn - mlp >= p["min_gap"]
        and drop_gap >= p["min_drop_gap"]
        and diff < p["max_unroll_diff"]
        and whole["mlp_parameters"] > whole["cnn_parameters"]
        and whole["cnn_parameters"] < trained_mlp * p["max_parameter_share"]
    )
    return figures.verdict(held)


def cnn_sequences(runs: list[RunView], p: Params) -> Verdict:
    plain, shuffled = p["plain_part"], p["shuffled_part"]
    figures = Figures()
    names = {plain: ("positions in order", "위치 그대로"), shuffled: ("positions shuffled", "위치를 섞음")}
    mlp, cnn = (part_accuracy(figures, runs, p[role], plain, names[plain]) for role in ("mlp", "cnn"))
    mlp_shuffled, cnn_shuffled = (
        part_accuracy(figures, runs, p[role], shuffled, names[shuffled]) for role in ("mlp", "cnn")
    )
    gap = figures.add("gap", "CNN minus MLP, positions in order", "위치 그대로: CNN에서 MLP를 뺀 값", cnn - mlp)
    drop_gap = figures.add(
        "shuffle.drop_gap",
        "accuracy the CNN loses to shuffling, minus what the MLP loses",
        "섞기로 CNN이 잃는 정확도에서 MLP가 잃는 정확도를 뺀 값",
        (cnn - cnn_shuffled) - (mlp - mlp_shuffled),
    )
    mlp_change = figures.add(
        "shuffle.mlp_change",
        "the MLP's accuracy, shuffled minus in order",
        "MLP 정확도: 섞은 것에서 그대로를 뺀 값",
        mlp_shuffled - mlp,
    )
    lead = figures.add(
        "shuffle.cnn_lead",
        "positions shuffled: CNN minus MLP",
        "위치를 섞음: CNN에서 MLP를 뺀 값",
        cnn_shuffled - mlp_shuffled,
    )
    held = (
        gap >= p["min_gap"]
        and drop_gap >= p["min_drop_gap"]
        and abs(mlp_change) <= p["max_mlp_change"]
        and lead <= p["max_shuffled_lead"]
    )
    return figures.verdict(held)
