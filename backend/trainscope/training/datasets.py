"""The datasets a job trains on: generated 2-D point clouds and scikit-learn's bundled digits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits, make_circles, make_moons

from trainscope.schemas import DigitsData, LabelledData, Points2DData


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


def make_points2d(spec: Points2DData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes in the plane, roughly within [-1.5, 1.5]^2, labels 0/1."""
    rng = np.random.default_rng(seed)
    n = spec.n_points
    if spec.dataset == "circle":
        x, y = make_circles(n_samples=n, factor=0.5, noise=spec.noise * 0.5, random_state=seed)
        x = x * 1.2
    elif spec.dataset == "moons":
        x, y = make_moons(n_samples=n, noise=spec.noise * 0.5, random_state=seed)
        x = (x - np.array([0.5, 0.25])) * 1.0
    elif spec.dataset == "gauss":
        y = rng.integers(0, 2, n)
        centres = np.where(y[:, None] == 1, 0.6, -0.6)
        x = centres + rng.normal(0.0, 0.25 + spec.noise, (n, 2))
    elif spec.dataset == "xor":
        x = rng.uniform(-1.0, 1.0, (n, 2))
        x = x + np.sign(x) * 0.05  # a margin around the axes, as in TensorFlow Playground
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
        x = x + rng.normal(0.0, spec.noise * 0.5, (n, 2))
    else:  # spiral: two interleaved arms
        y = np.arange(n) % 2
        t = rng.uniform(0.0, 1.0, n) ** 0.5 * 3.0 * np.pi
        radius = t / (3.0 * np.pi) * 1.3
        angle = t + np.pi * y
        x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        x = x + rng.normal(0.0, spec.noise * 0.3, (n, 2))
    x = x + np.asarray(spec.offset)
    return x.astype(np.float32), np.asarray(y, dtype=np.int64)


def make_arrays(spec: LabelledData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (float32) and integer labels for a data spec."""
    if isinstance(spec, DigitsData):
        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
    return make_points2d(spec, seed)


def load_split(spec: LabelledData, seed: int, device: torch.device) -> Split:
    """The dataset, shuffled with the seed (and the split index), split into validation, test, holdout and
    train (in that order, so a smaller `train_limit` keeps the same held-out sets), moved to the device once."""
    seed = spec.seed if spec.seed is not None else seed
    x, y = make_arrays(spec, seed)
    order = np.random.default_rng([seed + 1, spec.split_index] if spec.split_index else seed + 1).permutation(len(x))
    n_train, n_val, n_test, n_holdout = spec.split_sizes()
    bounds = np.cumsum([n_val, n_test, n_holdout])
    val, test, holdout, rest = np.split(order, bounds)

    def put(rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return (
            torch.from_numpy(np.ascontiguousarray(x[rows])).to(device),
            torch.from_numpy(np.ascontiguousarray(y[rows])).to(device),
        )

    return Split(*put(rest[:n_train]), *put(val), *put(test), *put(holdout))
