"""Checks of the lessons on training at scale: what a step holds in memory, and data parallelism."""

from __future__ import annotations

from trainscope.lessons.checks.figures import Figures, Params, key
from trainscope.lessons.evidence import Missing, RunView, needed, run
from trainscope.schemas.groups import Verdict


def data_parallel(runs: list[RunView], p: Params) -> Verdict:
    """N ranks of batch B against one process of batch N*B (the same run, judged: the largest loss gap
    over every step) and one of batch B (a different run, judged: its gap); each run's throughput shown."""
    ranks, whole, share = run(runs, p["ranks"]), run(runs, p["whole"]), run(runs, p["share"])
    losses = {
        view.label: dict(needed(view.series("train/loss"), f"training losses of {view.label}"))
        for view in (ranks, whole, share)
    }
    steps = sorted(losses[ranks.label])
    if any(sorted(losses[view.label]) != steps for view in (whole, share)):
        raise Missing("a training loss at every step of every run")

    def gap(other: RunView) -> float:
        return float(max(abs(losses[ranks.label][step] - losses[other.label][step]) for step in steps))

    figures = Figures()
    same = figures.add(
        key(whole.label, "max_loss_gap"),
        f"largest |training loss difference| over {len(steps)} steps: {ranks.label} vs {whole.label}",
        f"{len(steps)}스텝 동안 가장 큰 |학습 손실 차이|: {ranks.label_ko} 대 {whole.label_ko}",
        gap(whole),
    )
    apart = figures.add(
        key(share.label, "max_loss_gap"),
        f"largest |training loss difference| over {len(steps)} steps: {ranks.label} vs {share.label}",
        f"{len(steps)}스텝 동안 가장 큰 |학습 손실 차이|: {ranks.label_ko} 대 {share.label_ko}",
        gap(share),
    )
    for view in (ranks, whole, share):
        if "steps_per_s" in view.summary:
            batch = float(view.changes.get("optim.batch_size", 0))
            ranked = view is ranks  # its total over its ranks
            en = f"{view.label}: samples/s" + (", all ranks" if ranked else "")
            ko = f"{view.label_ko}: 초당 샘플 수" + ("(모든 랭크)" if ranked else "")
            figures.add(key(view.label, "samples_per_s"), en, ko, view.summary["steps_per_s"] * batch)
    for tag, value in sorted(ranks.summary.items()):
        if tag.startswith("rank") and tag.endswith("/samples_per_s"):
            rank = tag.split("/")[0].removeprefix("rank")
            en = f"{ranks.label}: rank {rank}'s samples/s (its share, per second of its own steps)"
            ko = f"{ranks.label_ko}: 랭크 {rank}의 초당 샘플 수(제 몫, 자기 스텝 시간 기준)"
            figures.add(key(ranks.label, f"rank{rank}_samples_per_s"), en, ko, value)
    return figures.verdict(same <= p["max_same_gap"] and apart >= p["min_apart_gap"])


def memory_use(runs: list[RunView], p: Params) -> Verdict:
    """A training step's memory, measured in each run's first step against the estimate made from its
    spec. Judged: Adam's state is exactly twice the parameter bytes, and the step's memory grows from
    batch B to 2B as the estimated activations do (within a tolerance; on a GPU the step's peak, on the
    CPU what autograd saves for backward). Shown: each optimizer's state per parameter byte."""
    adam, double = run(runs, p["adam"]), run(runs, p["double"])

    def part(view: RunView, name: str) -> float:
        value = view.summary.get(f"memory/{name}")
        if value is None:
            raise Missing(f"the memory of {view.label}'s first step ({name})")
        return value

    figures = Figures()
    ratios = {}
    for label in (p["adam"], p["momentum"], p["sgd"]):
        view = run(runs, label)
        ratios[label] = figures.add(
            key(view.label, "state_per_parameter_byte"),
            f"{view.label}: optimizer state over parameter bytes",
            f"{view.label_ko}: 옵티마이저 상태 / 파라미터 바이트",
            part(view, "measured/optimizer_state") / part(view, "measured/parameters"),
        )
    on_gpu = "memory/measured/peak" in adam.summary
    measure = "measured/peak" if on_gpu else "measured/saved_for_backward"
    what_en = "the step's peak on the GPU" if on_gpu else "what autograd saves for backward"
    what_ko = "GPU에서 스텝의 최대 사용량" if on_gpu else "autograd가 역전파용으로 저장하는 양"
    for view in (adam, double):
        figures.add(
            key(view.label, "measured_mb"),
            f"{view.label}: {what_en}, MB",
            f"{view.label_ko}: {what_ko}, MB",
            part(view, measure) / 1e6,
        )
    grown = part(double, measure) - part(adam, measure)
    foreseen = part(double, "estimate/activations") - part(adam, "estimate/activations")
    growth = figures.add(
        key(double.label, "growth_over_estimate"),
        f"growth from {adam.label} to {double.label} ({what_en}) over the estimated activations' growth",
        f"{adam.label_ko}에서 {double.label_ko}로 늘어난 양({what_ko}) / 추정한 활성값 증가",
        grown / foreseen if foreseen else float("nan"),
    )
    return figures.verdict(ratios[p["adam"]] == 2.0 and abs(growth - 1.0) <= p["tolerance"])


def data_waits(runs: list[RunView], p: Params) -> Verdict:
    """Samples/s against batch size on the runs' device (shown; judged on a GPU: the largest batch at
    least `gpu_ratio` times the smallest's), and a loader as slow as the step: judged by the typical
    step's share of its time spent waiting for data (its median wait against its median run), at least
    `min_slow_wait` without prefetching and at most `max_ahead_wait` with loaders working ahead. A share
    within one run holds whatever else the machine runs; samples/s across runs do not (a lesson's runs
    share the workers' cores), so none of those is judged on a CPU; the whole run's share is shown."""
    sizes = [run(runs, label) for label in p["batches"]]
    slow, ahead = run(runs, p["slow"]), run(runs, p["ahead"])
    figures = Figures()

    def rate(view: RunView) -> float:
        steps = view.summary.get("steps_per_s")
        if not steps:
            raise Missing(f"the throughput of {view.label}")
        return float(steps) * float(view.changes.get("optim.batch_size") or p["batch"])

    for view in sizes:
        figures.add(
            key(view.label, "samples_per_s"), f"{view.label}: samples/s", f"{view.label_ko}: 초당 샘플 수", rate(view)
        )
    smallest, largest = sizes[0], sizes[-1]
    on_gpu = any(str(e.get("device", "")).startswith("cuda") for e in largest.of_type("system"))
    spread = figures.add(
        key(largest.label, "over_smallest_batch"),
        f"samples/s, {largest.label} over {smallest.label}" + (" (on a GPU)" if on_gpu else " (on the CPU)"),
        f"초당 샘플 수, {largest.label_ko} / {smallest.label_ko}" + (" (GPU)" if on_gpu else " (CPU)"),
        rate(largest) / rate(smallest),
    )
    shares = {}
    for view in (slow, ahead):
        typical, whole = (view.summary.get(f"loader/{name}") for name in ("typical_wait_share", "wait_share"))
        if typical is None or whole is None:
            raise Missing(f"the data waits of {view.label}")
        shares[view.label] = figures.add(
            key(view.label, "typical_wait_share"),
            f"{view.label}: the typical step's share of its time spent waiting for data",
            f"{view.label_ko}: 보통 스텝이 데이터를 기다리는 데 쓴 시간 비율",
            typical,
        )
        figures.add(
            key(view.label, "wait_share"),
            f"{view.label}: share of the whole run's step time spent waiting for data",
            f"{view.label_ko}: 실행 전체의 스텝 시간 중 데이터를 기다린 비율",
            whole,
        )
    held = shares[slow.label] >= p["min_slow_wait"] and shares[ahead.label] <= p["max_ahead_wait"]
    return figures.verdict(held and (not on_gpu or spread >= p["gpu_ratio"]))
