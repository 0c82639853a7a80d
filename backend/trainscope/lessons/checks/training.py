"""Checks of the lessons on how training moves: the learning rate, batch norm, optimizers, batch size,
and debugging a training run."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from trainscope.lessons.checks.figures import Figures, Params, key, steps_to_loss
from trainscope.lessons.evidence import (
    Missing,
    RunView,
    final,
    needed,
    run,
    steps_to,
)
from trainscope.schemas.groups import Verdict


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
    # the theory's edge: full-batch gradient descent on a quadratic converges exactly below 2 / the largest
    # curvature; judged, since the runs could put it elsewhere (a rate under it diverging, or over it not)
    curvature = needed(largest.analysis("surface"), "the loss surface")[0]["data"]["largest_curvature"]
    edge = figures.add("max_stable_lr", "2 / the bowl's largest curvature", "2 / 그릇의 가장 큰 곡률", 2 / curvature)
    margin = p["edge_margin"]  # how far from the edge each rate must be, as a factor (1: on the right side)
    theory = all(
        float(view.changes["optim.lr"]) * margin < edge
        if view.status == "done"
        else float(view.changes["optim.lr"]) > edge * margin
        for view in ordered
    )
    return figures.verdict(rose and slow and theory)


def batchnorm(runs: list[RunView], p: Params) -> Verdict:
    with_bn, without = run(runs, p["with_bn"]), run(runs, p["without_bn"])
    figures = Figures()
    fast = steps_to_loss(with_bn, p["loss_threshold"], figures)
    slow = steps_to_loss(without, p["loss_threshold"], figures)
    modes = needed(with_bn.analysis("bn_modes"), "the train/eval comparison")[-1]["figures"]
    eval_acc = figures.add("eval_mode_acc", "eval mode accuracy", "평가 모드 정확도", modes["eval_mode_acc"])
    # shown, not judged: one example in train mode normalizes every unit to its shift, whatever the weights
    figures.add(
        "train_mode_single_acc",
        "train mode, one example at a time, accuracy (at chance by construction)",
        "학습 모드, 한 예제씩 예측한 정확도 (구조상 우연 수준)",
        modes["train_mode_single_acc"],
    )
    one_class = figures.add(
        "train_mode_one_class_acc",
        "train mode, batches of 16 examples of one class (data sorted by label), accuracy",
        "학습 모드, 한 클래스의 예제 16개씩 묶은 배치(레이블로 정렬한 데이터)의 정확도",
        modes["train_mode_one_class_acc"],
    )
    return figures.verdict(fast * p["speedup"] <= slow and one_class <= eval_acc - p["mode_gap"])


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
    gain = figures.add(
        "rosenbrock.momentum_gain",
        f"{rosenbrock}: {p['sgd']}'s final loss over {p['momentum']}'s",
        "로젠브록 함수 위의 경주: sgd의 최종 손실 / 모멘텀의 최종 손실",
        final_loss[rosenbrock, p["sgd"]] / max(final_loss[rosenbrock, p["momentum"]], 1e-30),
    )
    momentum_wins = gain >= p["race_factor"]
    adaptive_win = all(steps[label] < steps[p["sgd"]] for label in p["adaptive"])
    # shown, not judged: plain SGD's lowest loss comes within 0.001 of the threshold on one seed of 0-14
    sgd = run([view for view in runs if view.part not in p["race_parts"]], p["sgd"])
    figures.add(
        key(p["sgd"], "lowest_loss"),
        f"{sgd.label}: lowest training loss in its {sgd.series('train/loss')[-1][0]} steps",
        f"{sgd.label_ko}: {sgd.series('train/loss')[-1][0]}스텝 동안 가장 낮은 학습 손실",
        min(loss for _, loss in needed(sgd.series("train/loss"), "SGD's losses")),
    )
    return figures.verdict(momentum_wins and adaptive_win)


def batch_size(runs: list[RunView], p: Params) -> Verdict:
    ordered = sorted(runs, key=lambda view: int(view.changes["optim.batch_size"]))
    sizes = [int(view.changes["optim.batch_size"]) for view in ordered]
    at_start = [needed(view.analysis("grad_variance"), "gradient variance")[0]["figures"] for view in ordered]
    if any("steps_per_s" not in view.summary for view in ordered):
        raise Missing("a run's throughput")
    speed = [view.summary["steps_per_s"] * size for view, size in zip(ordered, sizes, strict=True)]
    figures = Figures()
    faster = True
    for i, size in enumerate(sizes):
        variance = at_start[i]["variance"]
        figures.add(f"b{size}.grad_variance", f"B={size}: gradient variance", f"B={size}: 기울기 분산", variance)
        figures.add(f"b{size}.samples_per_s", f"B={size}: samples/s", f"B={size}: 초당 샘플 수", speed[i])
        if i:
            # shown, not judged: batches drawn without replacement from N examples have variance
            # tr(Cov)/B * (N-B)/(N-1) in expectation, so this is 1 up to the probe's sampling error
            n = at_start[i]["train_size"]
            drawn = (n - size) / (size * (n - 1)) / ((n - sizes[i - 1]) / (sizes[i - 1] * (n - 1)))
            name = f"B={sizes[i - 1]}->{size}"
            figures.add(
                f"b{sizes[i - 1]}_to_b{size}.scaling",
                f"{name}: variance drop over (N-B)/(B(N-1))'s drop",
                f"{name}: 분산 감소 / (N-B)/(B(N-1))의 감소",
                variance / at_start[i - 1]["variance"] / drawn,
            )
            faster = faster and speed[i] > speed[i - 1]
    # the claim the runs could fail: if learning went with samples seen, the largest batch would be far ahead
    middle, largest = ordered[-2], ordered[-1]
    val_ratio = figures.add(
        "equal_steps.val_ratio",
        f"after the same steps: {largest.label}'s validation loss over {middle.label}'s "
        f"({sizes[-1] // sizes[-2]}x the samples)",
        f"같은 스텝 뒤: {largest.label_ko}의 검증 손실 / {middle.label_ko}의 검증 손실 "
        f"(샘플 {sizes[-1] // sizes[-2]}배)",
        final(largest, "val/loss") / final(middle, "val/loss"),
    )
    for view in ordered:
        en, ko = f"{view.label}: final validation loss", f"{view.label_ko}: 마지막 검증 손실"
        figures.add(key(view.label, "val_loss"), en, ko, final(view, "val/loss"))
    return figures.verdict(faster and val_ratio >= 1 - p["max_val_gain"])


def debugging(runs: list[RunView], p: Params) -> Verdict:
    correct, shuffled, accumulating, probabilities = (
        run(runs, p[role]) for role in ("correct", "shuffled", "accumulating", "probabilities")
    )
    figures = Figures()
    classes = p["classes"]
    chance = figures.add(
        "ln_classes",
        f"ln C for C = {classes} balanced classes",
        f"균형 잡힌 클래스 {classes}개의 ln C",
        math.log(classes),
    )
    first = needed(correct.series("train/loss"), f"train/loss of {correct.label}")[0][1]
    initial = figures.add(
        "correct.initial_loss", "correct: the loss at the first step", "올바름: 첫 스텝의 손실", first
    )

    def final_loss(view: RunView) -> float:
        en, ko = f"{view.label}: final training loss", f"{view.label_ko}: 마지막 학습 손실"
        return figures.add(key(view.label, "final_loss"), en, ko, final(view, "train/loss"))

    def val_acc(view: RunView) -> float:
        en, ko = f"{view.label}: validation accuracy", f"{view.label_ko}: 검증 정확도"
        return figures.add(key(view.label, "val_acc"), en, ko, final(view, "val/acc"))

    overfit, memorized, stuck = final_loss(correct), final_loss(shuffled), final_loss(probabilities)
    generalizes, at_chance = val_acc(correct), val_acc(shuffled)
    # against the run's own start, not the correct run's end: that one falls ~160x by itself
    norms = [float(e["layers"][0]["grad_norm"]) for e in needed(accumulating.of_type("layers"), "layer figures")]
    growth = figures.add(
        "zero_grad.grad_growth",
        "zero_grad forgotten: first-layer gradient norm at the end, over its own at the start",
        "zero_grad 잊음: 마지막 첫 층 기울기 노름을 처음 것으로 나눈 값",
        norms[-1] / norms[0],
    )
    rise = figures.add(
        "zero_grad.loss_rise",
        "zero_grad forgotten: how far the training loss climbs back above its lowest point so far",
        "zero_grad 잊음: 학습 손실이 그때까지의 최저점 위로 다시 올라간 폭",
        climb(accumulating.series("train/loss")),
    )
    floor = math.log(1 + (classes - 1) / math.e)
    figures.add(
        "softmax.floor",
        "the lowest loss softmax-twice can reach, ln(1 + (C-1)/e)",
        "소프트맥스를 두 번 쓸 때의 최저 손실",
        floor,
    )
    over_floor = figures.add(
        "softmax.final_over_floor",
        "softmax fed to the loss: final training loss over that floor",
        "손실에 소프트맥스 입력: 마지막 학습 손실을 그 최저 손실로 나눈 값",
        stuck / floor,
    )
    mismatches = figures.add(
        "tensorboard.mismatches",
        "correct run: exported scalar points and histograms TensorBoard's reader returns differently",
        "올바른 실행: TensorBoard 리더가 다르게 돌려준 내보낸 스칼라와 히스토그램 수",
        tensorboard_mismatches(correct),
    )
    held = (
        abs(initial - chance) <= p["init_tolerance"] * chance
        and overfit <= p["max_overfit_loss"]
        and memorized <= p["max_memorized_loss"]
        and at_chance <= p["max_chance_acc"]
        and generalizes >= p["min_val_acc"]
        and growth >= p["min_grad_growth"]
        and rise >= p["min_loss_rise"]
        and abs(over_floor - 1) <= p["softmax_tolerance"]
        and mismatches == 0
    )
    return figures.verdict(held)


def climb(losses: list[tuple[int, float]]) -> float:
    """The most a loss curve rises above its lowest point so far (0 for a curve that never goes up)."""
    lowest, most = math.inf, 0.0
    for _, loss in losses:
        lowest = min(lowest, loss)
        most = max(most, loss - lowest)
    return most


def tensorboard_mismatches(view: RunView) -> float:
    """Write the run's scalars and histograms as a TensorBoard log directory, read it back with
    TensorBoard's own reader and count what differs (every scalar bit for bit)."""
    from trainscope.jobs.tensorboard import read_back, write_events  # imports tensorboard (~1 s): only here

    scalars, histograms = view.of_type("scalars"), view.of_type("histogram")
    with tempfile.TemporaryDirectory(prefix="trainscope-lesson-") as folder:
        write_events([*scalars, *histograms], dict(view.changes), 0.0, Path(folder))
        read_scalars, read_histograms = read_back(Path(folder))
    wrong = 0
    for tag in {tag for event in scalars for point in event["points"] for tag in point["values"]}:
        expected = view.series(tag)
        got = read_scalars.get(tag, [])
        wrong += sum(a != b for a, b in zip(expected, got, strict=False)) + abs(len(expected) - len(got))
    for event in histograms:
        got_counts = dict(read_histograms.get(event["tag"], [])).get(event["step"])
        wrong += got_counts is None or [float(c) for c in event["counts"]] != got_counts
    return float(wrong)


def random_search(runs: list[RunView], p: Params) -> Verdict:
    """Steps to a training loss per method and dimension, and how much each method's grow from the smallest
    dimension to the largest. The loss is full-batch and exact, so its first crossing counts (no smoothing)."""
    figures = Figures()
    steps: dict[tuple[str, int], float] = {}
    threshold = p["loss_threshold"]
    for view in runs:
        method = "random" if view.changes.get("optim.optimizer") == "random_search" else "gradient"
        dims = int(view.changes["data.dims"])
        losses = needed(view.series("train/loss"), f"train/loss of {view.label}")
        steps[method, dims] = figures.add(
            f"{method}.d{dims}.steps",
            f"{view.label}: steps to a training loss of {threshold}",
            f"{view.label_ko}: 학습 손실 {threshold}까지 스텝",
            steps_to(losses, threshold, window=1),
        )
    low, high = min(d for _, d in steps), max(d for _, d in steps)
    growth = {}
    for method, en, ko in (("gradient", "gradient descent", "경사 하강법"), ("random", "random search", "무작위 탐색")):
        if (method, low) not in steps or (method, high) not in steps:
            raise Missing(f"{en} at d = {low} and d = {high}")
        growth[method] = figures.add(
            f"{method}.growth",
            f"{en}: steps at d = {high} over steps at d = {low}",
            f"{ko}: d = {high}의 스텝 / d = {low}의 스텝",
            steps[method, high] / steps[method, low],
        )
    figures.add(
        "growth_gap",
        "random search's growth over gradient descent's",
        "무작위 탐색의 증가 배수 / 경사 하강법의 증가 배수",
        growth["random"] / growth["gradient"],
    )
    reached = all(math.isfinite(value) for value in steps.values())
    held = (
        reached
        and growth["gradient"] <= p["max_gradient_growth"]
        and growth["random"] >= p["min_growth_gap"] * growth["gradient"]
    )
    return figures.verdict(held)
