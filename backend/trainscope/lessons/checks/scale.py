"""Checks of the lessons on training beyond one process: data parallelism."""

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
