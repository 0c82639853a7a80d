"""What a run minimises and the figure reported beside it: cross-entropy and accuracy for classes, mean
squared error alone for a value to predict (an accuracy would mean nothing there)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from trainscope.schemas import LabelledData

Figure = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(1) == labels).double().mean()


def _squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(outputs[:, 0], targets)


@dataclass(frozen=True)
class Objective:
    loss: Figure
    accuracy: Figure | None


CLASSIFICATION = Objective(nn.functional.cross_entropy, _accuracy)
REGRESSION = Objective(_squared_error, None)


def objective_for(data: LabelledData) -> Objective:
    return REGRESSION if data.regression else CLASSIFICATION
