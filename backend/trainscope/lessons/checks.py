"""Each lesson's observation as a check over the group's runs: held or not, and the figures behind it.

Thresholds come from the lesson file (measured on the presets; see tests/lessons for the figures).
A check raises Missing when a run it needs, or that run's evidence, is absent (a deleted job, a
probe turned off): the verdict is then "cannot tell", never a guess.
"""

from __future__ import annotations

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


def activations(runs: list[RunView], p: Params) -> Verdict:
    slow, fast = run(runs, p["slow"]), run(runs, p["fast"])
    ratio_slow, ratio_fast = layer_ratio(slow), layer_ratio(fast)
    steps_slow = steps_to(slow.series("train/loss"), p["loss_threshold"])
    steps_fast = steps_to(fast.series("train/loss"), p["loss_threshold"])
    held = ratio_slow * p["ratio_factor"] <= ratio_fast and steps_fast < steps_slow
    figures = {
        f"{slow.label} first/last gradient ratio": ratio_slow,
        f"{fast.label} first/last gradient ratio": ratio_fast,
        f"{fast.label} steps to loss {p['loss_threshold']}": steps_fast,
        f"{slow.label} steps to loss {p['loss_threshold']}": steps_slow,
    }
    for view in runs:
        if view not in (slow, fast):
            figures[f"{view.label} first/last gradient ratio"] = layer_ratio(view)
    return Verdict(held=held, figures=figures)


def mean_dead(view: RunView) -> float:
    layers = needed(view.of_type("layers"), f"layer figures in {view.label}")[-1]["layers"]
    dead = [layer["dead_fraction"] for layer in layers if layer["dead_fraction"] is not None]
    return float(np.mean(needed(dead, f"dead fractions in {view.label}")))


def dying_relu(runs: list[RunView], p: Params) -> Verdict:
    relu, leaky = run(runs, p["relu"]), run(runs, p["leaky"])
    dead_relu, dead_leaky = mean_dead(relu), mean_dead(leaky)
    held = dead_relu >= dead_leaky + p["margin"]
    return Verdict(
        held=held, figures={f"{relu.label} dead fraction": dead_relu, f"{leaky.label} dead fraction": dead_leaky}
    )


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
    held = (
        collapse["max_abs_diff"] <= p["max_abs_diff"]
        and straight >= p["min_linearity"]
        and acc_curved >= p["min_accuracy"]
        and acc_linear < acc_curved
    )
    figures = {
        "collapsed vs network, max |difference|": collapse["max_abs_diff"],
        f"{linear.label} boundary straightness (R^2 of log-odds plane)": straight,
        f"{curved.label} boundary straightness": linearity(last_boundary(curved)),
        f"{linear.label} validation accuracy": acc_linear,
        f"{curved.label} validation accuracy": acc_curved,
    }
    return Verdict(held=held, figures=figures)


def bias(runs: list[RunView], p: Params) -> Verdict:
    with_bias, without = run(runs, p["with_bias"]), run(runs, p["without_bias"])
    at_origin = probability_at(last_boundary(without), 0.0, 0.0)
    acc_with, acc_without = final(with_bias, "val/acc"), final(without, "val/acc")
    held = abs(at_origin - 0.5) <= p["origin_tolerance"] and acc_with >= acc_without + p["accuracy_gap"]
    figures = {
        f"{without.label}: P(class 1) at the origin": at_origin,
        f"{with_bias.label} validation accuracy": acc_with,
        f"{without.label} validation accuracy": acc_without,
    }
    return Verdict(held=held, figures=figures)


def learning_rate(runs: list[RunView], p: Params) -> Verdict:
    ordered = sorted(runs, key=lambda view: float(view.changes["optim.lr"]))
    smallest, largest = ordered[0], ordered[-1]
    losses = {view.label: view.series("train/loss") for view in ordered}
    start = needed(losses[largest.label], "the largest rate's losses")[0][1]
    rose = largest.status == "diverged" or max(v for _, v in losses[largest.label]) > start
    best = min(final(view, "full/loss") for view in ordered if view.status == "done")
    slow_final = final(smallest, "full/loss")
    slow = slow_final >= p["slow_factor"] * best and slow_final < losses[smallest.label][0][1]
    figures = {f"{view.label} final loss": final(view, "full/loss") for view in ordered if view.status == "done"}
    figures[f"{largest.label} diverged"] = float(largest.status == "diverged")
    figures["best final loss"] = best
    return Verdict(held=rose and slow, figures=figures)


def backprop(runs: list[RunView], p: Params) -> Verdict:
    check = needed(runs[0].analysis("gradient_check"), "a gradient check")[-1]
    error = check["figures"]["max_relative_error"]
    return Verdict(held=error < p["max_relative_error"], figures={"largest relative error": error})


def overfitting(view: RunView, p: Params) -> tuple[bool, dict[str, float]]:
    val = needed(view.series("val/loss"), f"validation losses of {view.label}")
    best_step, best = min(val, key=lambda point: point[1])
    train = view.series("train/loss")
    train_at_best = tail_mean([pt for pt in train if pt[0] <= best_step], 0.2)
    train_end = tail_mean(train)
    turned_up = val[-1][1] >= best * p["val_rise"] and best_step < val[-1][0]
    still_falling = train_end < train_at_best
    figures = {
        "early-stopping step (lowest validation loss)": float(best_step),
        "lowest validation loss": best,
        "final validation loss": val[-1][1],
        "training loss at the early-stopping step": train_at_best,
        "final training loss": train_end,
    }
    return turned_up and still_falling, figures


def generalization(runs: list[RunView], p: Params) -> Verdict:
    overfit, figures = overfitting(run(runs, p["overfit"]), p)
    selection = [view for view in runs if view.part == p["selection_part"]]
    scored = [view for view in needed(selection, "the selection runs") if "test/acc" in view.summary]
    best = max(needed(scored, "test scores"), key=lambda view: view.summary["test/acc"])
    test, fresh = best.summary["test/acc"], best.summary["holdout/acc"]
    figures.update(
        {
            "chosen run's test accuracy (what selection reports)": test,
            "chosen run's fresh held-out accuracy (what it really does)": fresh,
            "mean test accuracy over the runs": float(np.mean([v.summary["test/acc"] for v in scored])),
        }
    )
    return Verdict(held=overfit and test > fresh, figures=figures)


def gap(view: RunView) -> float:
    return final(view, "val/loss") - tail_mean(view.series("train/loss"))


def regularization(runs: list[RunView], p: Params) -> Verdict:
    plain = run(runs, p["plain"])
    regularized = [run(runs, label) for label in p["regularized"]]
    decay = run(runs, p["weight_decay"])
    tag = p["weight_tag"]
    width = {view.label: histogram_std(needed(view.histograms(tag), f"{tag} of {view.label}")[-1]) for view in runs}
    gaps = {view.label: gap(view) for view in runs}
    held = all(gaps[view.label] < gaps[plain.label] for view in regularized) and width[decay.label] < width[plain.label]
    figures = {f"{label} validation - training loss": value for label, value in gaps.items()}
    figures.update({f"{label} {tag} spread (std)": value for label, value in width.items()})
    return Verdict(held=held, figures=figures)


def batchnorm(runs: list[RunView], p: Params) -> Verdict:
    with_bn, without = run(runs, p["with_bn"]), run(runs, p["without_bn"])
    fast = steps_to(with_bn.series("train/loss"), p["loss_threshold"])
    slow = steps_to(without.series("train/loss"), p["loss_threshold"])
    modes = needed(with_bn.analysis("bn_modes"), "the train/eval comparison")[-1]["figures"]
    held = fast < slow and modes["train_mode_single_acc"] <= modes["eval_mode_acc"] - p["mode_gap"]
    figures = {
        f"{with_bn.label} steps to loss {p['loss_threshold']}": fast,
        f"{without.label} steps to loss {p['loss_threshold']}": slow,
        "eval mode accuracy": modes["eval_mode_acc"],
        "train mode, one example at a time, accuracy": modes["train_mode_single_acc"],
    }
    return Verdict(held=held, figures=figures)


def optimizers(runs: list[RunView], p: Params) -> Verdict:
    figures: dict[str, float] = {}
    drawn = True
    for view in runs:
        if view.part in p["race_parts"]:
            path = view.series("path/x")
            drawn = drawn and len(path) >= p["min_path_points"]
            figures[f"{view.part}: {view.label} final loss"] = final(view, "train/loss")
        else:
            figures[f"{view.label} steps to loss {p['loss_threshold']}"] = steps_to(
                view.series("train/loss"), p["loss_threshold"]
            )
    reached = [v for k, v in figures.items() if "steps to" in k and math.isfinite(v)]
    return Verdict(held=drawn and bool(reached), figures=figures)


def batch_size(runs: list[RunView], p: Params) -> Verdict:
    ordered = sorted(runs, key=lambda view: int(view.changes["optim.batch_size"]))
    sizes = [int(view.changes["optim.batch_size"]) for view in ordered]
    variance = [
        needed(view.analysis("grad_variance"), "gradient variance")[0]["figures"]["variance"] for view in ordered
    ]
    speed = [view.summary.get("steps_per_s", math.nan) * size for view, size in zip(ordered, sizes, strict=True)]
    figures: dict[str, float] = {}
    held = True
    for i, size in enumerate(sizes):
        figures[f"B={size} gradient variance"] = variance[i]
        figures[f"B={size} samples/s"] = speed[i]
        if i:
            # variance ratio over the batch-size ratio: 1 when variance falls exactly as 1/B
            scaling = (variance[i - 1] / variance[i]) / (size / sizes[i - 1])
            figures[f"B={sizes[i - 1]}->{size}: variance drop / batch growth"] = scaling
            held = held and 1 / p["tolerance"] <= scaling <= p["tolerance"] and speed[i] > speed[i - 1]
    return Verdict(held=held, figures=figures)


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


def evaluate(check: str, runs: list[RunView], params: Params) -> Verdict:
    """The verdict once every run has ended; held=None while any is still going or evidence is missing."""
    waiting = [view for view in runs if view.status in ("queued", "running", "paused")]
    if waiting:
        return Verdict(held=None, detail=f"waiting for {len(waiting)} of {len(runs)} runs")
    unfinished = [view.label for view in runs if view.status in ("failed", "cancelled")]
    if unfinished:
        return Verdict(held=None, detail=f"cannot tell: {', '.join(unfinished)} did not finish")
    try:
        verdict = CHECKS[check](runs, params)
    except Missing as missing:
        return Verdict(held=None, detail=f"cannot tell: {missing}")
    # JSON has no infinity: a threshold never reached is reported as -1 steps, and said so
    never = [name for name, value in verdict.figures.items() if not math.isfinite(value)]
    for name in never:
        verdict.figures[name] = -1.0
    if never:
        verdict.detail = "-1: never reached"
    return verdict
