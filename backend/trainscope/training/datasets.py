"""The datasets a job trains on: generated 2-D point clouds and scikit-learn's bundled digits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits, make_circles, make_moons

from trainscope.schemas import DataSpec, DigitsData, Points2DData, val_count


@dataclass(frozen=True)
class Split:
    """Train and validation tensors, already on the job's device."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


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
    return x.astype(np.float32), np.asarray(y, dtype=np.int64)


def make_arrays(spec: DataSpec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (float32) and integer labels for a data spec."""
    if isinstance(spec, DigitsData):
        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
    return make_points2d(spec, seed)


def load_split(spec: DataSpec, seed: int, device: torch.device) -> Split:
    """The dataset, shuffled with the seed, split into train/validation and moved to the device once."""
    x, y = make_arrays(spec, seed)
    order = np.random.default_rng(seed + 1).permutation(len(x))
    n_val = val_count(len(x), spec.val_fraction)
    val, train = order[:n_val], order[n_val:]

    def put(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    return Split(put(x[train]), put(y[train]), put(x[val]), put(y[val]))
