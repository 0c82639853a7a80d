"""The numbers behind a verdict: stable keys, names in English and Korean, never-reached as null."""

from __future__ import annotations

import math
import re
from typing import Any

from trainscope.lessons.evidence import (
    RunView,
    final,
    steps_to,
)
from trainscope.schemas.groups import Figure, Verdict

Params = dict[str, Any]


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


def accuracy(view: RunView, figures: Figures) -> float:
    en, ko = f"{view.label}: validation accuracy", f"{view.label_ko}: 검증 정확도"
    return figures.add(key(view.label, "val_acc"), en, ko, final(view, "val/acc"))
