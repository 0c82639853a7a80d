"""Checks of the lessons on how training moves: the learning rate, batch norm, optimizers, batch size."""

from __future__ import annotations

from trainscope.lessons.checks.figures import Figures, Params, key, steps_to_loss
from trainscope.lessons.evidence import (
    Missing,
    RunView,
    final,
    needed,
    run,
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
    return figures.verdict(rose and slow)


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
