"""What a lesson's check looks at: each run of a group with its stored events, small helpers over them
(series, moving averages, decoded arrays), and the lookups checks share (a run by label, its final
value of a tag, its layer figures), which raise Missing when the evidence is not there. Pure reads; no
torch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trainscope.schemas.decode import decode, floats, series
from trainscope.schemas.groups import GroupRun
from trainscope.store.base import RunStore, read_pages

EVIDENCE_TYPES = ("scalars", "layers", "analysis", "histogram", "boundary", "embedding", "system")
NEWEST_ONLY = ("histogram", "boundary", "embedding")  # snapshot series: checks read only the newest of each
EVIDENCE_PAGE_BYTES = 4 * 2**20


@dataclass
class RunView:
    label: str
    part: str
    changes: dict[str, Any]
    status: str
    summary: dict[str, float]
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    label_ko: str = ""
    part_ko: str = ""

    def __post_init__(self) -> None:
        self.label_ko = self.label_ko or self.label
        self.part_ko = self.part_ko or self.part

    def series(self, tag: str) -> list[tuple[int, float]]:
        return list(zip(*series(self.events.get("scalars", []), tag), strict=True))

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return self.events.get(type_, [])

    def analysis(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.of_type("analysis") if e["name"] == name]

    def histograms(self, tag: str) -> list[dict[str, Any]]:
        return [e for e in self.of_type("histogram") if e["tag"] == tag]


def gather(store: RunStore, runs: list[GroupRun]) -> list[RunView]:
    """Each run of a group (as read_group returned it, jobs included) with the events checks use; a
    deleted job is left out. Only the events are read here: the jobs are already at hand. Events are
    read a page at a time and only the newest snapshot of each histogram and boundary series is kept
    (all a check looks at), so judging a heavy group holds its scalars, not its every snapshot."""
    views = []
    for run in runs:
        if run.job is None:
            continue
        view = RunView(run.label, run.part, run.changes, run.job.status.value, run.job.summary, label_ko=run.label_ko)
        newest: dict[tuple[str, str], dict[str, Any]] = {}
        for page in read_pages(store, run.job_id, 0, run.job.last_seq, EVIDENCE_PAGE_BYTES, EVIDENCE_TYPES):
            for event in page:
                body = decode(event.body)
                if event.type in NEWEST_ONLY:
                    newest[event.type, body.get("tag", "")] = body
                else:
                    view.events.setdefault(event.type, []).append(body)
        for (type_, _), body in newest.items():
            view.events.setdefault(type_, []).append(body)
        views.append(view)
    return views


def smoothed(series: list[tuple[int, float]], window: int = 10) -> list[tuple[int, float]]:
    """Trailing moving average (mini-batch losses are noisy; a threshold on one batch would be luck)."""
    if len(series) < window:
        return []
    values = np.convolve([v for _, v in series], np.ones(window) / window, mode="valid")
    return [(series[i + window - 1][0], float(v)) for i, v in enumerate(values)]


def steps_to(series: list[tuple[int, float]], threshold: float, window: int = 10) -> float:
    """The first step at which the smoothed series is below threshold (inf: never)."""
    return next((float(step) for step, value in smoothed(series, window) if value < threshold), math.inf)


def tail_mean(series: list[tuple[int, float]], share: float = 0.1) -> float:
    """Mean of the last share of a series (at least one point)."""
    values = [v for _, v in series]
    count = max(1, int(len(values) * share))
    return float(np.mean(values[-count:])) if values else math.nan


def histogram_std(event: dict[str, Any]) -> float:
    """Standard deviation of a fixed-bin histogram, from its bin centres."""
    counts = np.asarray(event["counts"], dtype=np.float64)
    edges = np.linspace(event["min"], event["max"], len(counts) + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    mean = float((counts * centres).sum() / counts.sum())
    return float(np.sqrt((counts * (centres - mean) ** 2).sum() / counts.sum()))


def boundary_grid(event: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x coordinates, y coordinates, P(class 1)) of a boundary event, grid x grid."""
    size = event["grid"]
    (x0, x1), (y0, y1) = event["x_range"], event["y_range"]
    xs, ys = np.linspace(x0, x1, size), np.linspace(y0, y1, size)
    return xs, ys, floats(event["probs"]).reshape(size, size)


def linearity(event: dict[str, Any]) -> float:
    """R^2 of a plane fitted to the log-odds over the boundary grid: 1 when the logit difference is an
    affine function of the input, i.e. the decision boundary is a straight line."""
    xs, ys, probs = boundary_grid(event)
    p = np.clip(probs, 1e-6, 1 - 1e-6)
    log_odds = np.log(p / (1 - p)).ravel()
    gx, gy = np.meshgrid(xs, ys)
    design = np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)], axis=1)
    coef, *_ = np.linalg.lstsq(design, log_odds, rcond=None)
    residual = log_odds - design @ coef
    total = log_odds.var()
    return float(1 - residual.var() / total) if total > 0 else 1.0


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


def final(view: RunView, tag: str) -> float:
    series = needed(view.series(tag), f"{tag} in {view.label}")
    return float(series[-1][1])


def last_boundary(view: RunView) -> dict[str, Any]:
    boundaries: list[dict[str, Any]] = needed(view.of_type("boundary"), f"decision boundary of {view.label}")
    return boundaries[-1]


def replicas(runs: list[RunView], label: str) -> list[RunView]:
    """The runs of one variation, one per seed, in seed order (a lesson may repeat each run)."""
    views = [view for view in runs if view.label == label]
    return sorted(needed(views, f"runs labelled {label!r}"), key=lambda view: int(view.changes.get("seed", 0)))


def lowest_val_loss(view: RunView) -> float:
    return float(min(value for _, value in needed(view.series("val/loss"), f"val/loss of {view.label}")))


def unit_vectors(view: RunView) -> dict[str, np.ndarray]:
    """The newest embedding's stored vectors by point name, each of length 1."""
    found = [e for e in view.of_type("embedding") if e.get("vectors") and e.get("names")]
    event = needed(found, f"named vectors in {view.label}")[-1]
    vectors = floats(event["vectors"]).reshape(event["n"], event["width"])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return dict(zip(event["names"], vectors / np.where(norms > 0, norms, 1.0), strict=True))
