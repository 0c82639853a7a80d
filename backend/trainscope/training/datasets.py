"""The datasets a job trains on, as tensors on its device (the arrays come from `points`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from trainscope.schemas import DigitsData, LabelledData
from trainscope.training.points import data_seed, make_arrays, place_digits, scaled, split_rows


@dataclass(frozen=True)
class Split:
    """Train and validation tensors (and test/holdout ones, possibly empty), already on the job's device."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_holdout: torch.Tensor
    y_holdout: torch.Tensor

    def held_out(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The non-empty sets scored only at the end, by tag prefix."""
        sets = {"test": (self.x_test, self.y_test), "holdout": (self.x_holdout, self.y_holdout)}
        return {name: pair for name, pair in sets.items() if len(pair[0])}


class Shuffled:
    """Mini-batch indices from successive random permutations of n examples, on the device: each epoch
    sees every example once, and a batch never straddles two permutations. Indexing tensors that live
    on the device, not a DataLoader: measured 1.6x faster for small nets on an H200, 1.1-1.4x on CPU."""

    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device) -> None:
        # read every step: plain ints, not attribute chains (a tiny net's step is ~300 us; each lookup counts)
        self.n, self.batch_size, self.device = n, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)
        self.order, self.cursor = self.permutation(), 0

    def permutation(self) -> torch.Tensor:
        return torch.randperm(self.n, generator=self.generator).to(self.device)

    def next(self) -> torch.Tensor:
        batch_size = self.batch_size
        if self.cursor + batch_size > self.n:
            self.order, self.cursor = self.permutation(), 0
        index = self.order[self.cursor : self.cursor + batch_size]
        self.cursor += batch_size
        return index


def load_split(spec: LabelledData, seed: int, device: torch.device) -> Split:
    """The dataset split as `split_rows` cuts it, moved to the device once."""
    seed = data_seed(spec, seed)
    x, y = make_arrays(spec, seed)
    train, val, test, holdout = split_rows(spec, seed, len(x))
    x = scaled(spec, x, train)

    def put(rows: np.ndarray, held_out: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = x[rows]
        if isinstance(spec, DigitsData):  # shifted digits: placed on their canvas, each part its own offsets
            inputs = place_digits(spec, inputs, seed, held_out)
        return (
            torch.from_numpy(np.ascontiguousarray(inputs)).to(device),
            torch.from_numpy(np.ascontiguousarray(y[rows])).to(device),
        )

    return Split(*put(train, held_out=False), *put(val), *put(test), *put(holdout))
