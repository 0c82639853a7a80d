"""The datasets as numpy arrays (numpy and scikit-learn only, no torch): what a job trains on, and what
the server draws before a run starts."""

from __future__ import annotations

import base64
from typing import Any, Literal

import numpy as np
from sklearn.datasets import load_digits, make_circles, make_moons

from trainscope.schemas import DigitsData, LabelledData, Mnist1DData, PlanarData, Points2DData, UploadedData
from trainscope.schemas.data import SplitData

# TensorFlow Playground's multi-Gaussian regression, on our plane: cones of height +-1 and radius 0.5,
# the label of a point is the cone it is highest (or lowest) on
CONES = np.array(  # x, y, height
    [[-1.0, 0.6, 1.0], [0.0, 0.6, -1.0], [1.0, 0.6, 1.0], [-1.0, -0.6, -1.0], [0.0, -0.6, 1.0], [1.0, -0.6, -1.0]]
)
CONE_RADIUS = 0.5
DRAWN_POINTS_CAP = 2000  # points of each part of a 2-D dataset sent for drawing under the boundary


def make_points2d(spec: Points2DData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in the plane, roughly within [-1.5, 1.5]^2: labels 0/1, or (regression) values in [-1, 1]."""
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
    elif spec.dataset == "plane":
        x = rng.uniform(-1.2, 1.2, (n, 2))
        y = (x[:, 0] + x[:, 1]) / 2.4  # the label is exact; the noise moves the inputs, as in TFP
        x = x + rng.normal(0.0, spec.noise * 0.3, (n, 2))
    elif spec.dataset == "multi_gauss":
        x = rng.uniform(-1.5, 1.5, (n, 2))
        distance = np.linalg.norm(x[:, None, :] - CONES[None, :, :2], axis=2)
        heights = CONES[:, 2] * np.clip(1.0 - distance / CONE_RADIUS, 0.0, 1.0)
        y = heights[np.arange(n), np.abs(heights).argmax(axis=1)]
        x = x + rng.normal(0.0, spec.noise * 0.3, (n, 2))
    else:  # spiral: two interleaved arms
        y = np.arange(n) % 2
        t = rng.uniform(0.0, 1.0, n) ** 0.5 * 3.0 * np.pi
        radius = t / (3.0 * np.pi) * 1.3
        angle = t + np.pi * y
        x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        x = x + rng.normal(0.0, spec.noise * 0.3, (n, 2))
    x = x + np.asarray(spec.offset)
    labels = np.asarray(y, dtype=np.float32) if spec.regression else np.asarray(y, dtype=np.int64)
    return x.astype(np.float32), labels


def make_arrays(spec: LabelledData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (float32) and targets (int64 labels, float32 values for regression) for a data spec."""
    if isinstance(spec, DigitsData):
        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
    if isinstance(spec, Mnist1DData):
        from trainscope.training.sequences import mnist1d_arrays  # the mnist1d package: on first use only

        return mnist1d_arrays(spec, seed)
    if isinstance(spec, UploadedData):
        return uploaded_arrays(spec)
    return make_points2d(spec, seed)


def uploaded_arrays(spec: UploadedData) -> tuple[np.ndarray, np.ndarray]:
    """The uploaded table's features and targets (class indices, or values), as given to this process."""
    rows = spec.rows()
    x = np.frombuffer(rows.features, dtype="<f4").reshape(spec.n_rows, spec.n_features)
    labels = np.frombuffer(rows.labels, dtype="<f4")
    return x.astype(np.float32), labels.astype(np.float32 if spec.regression else np.int64)


def scaled(spec: LabelledData, x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Uploaded features standardized by the training rows' mean and deviation, when the spec asks (a
    constant column is only centred); any other data as it is."""
    if not (isinstance(spec, UploadedData) and spec.standardize):
        return x
    mean, deviation = x[train].mean(axis=0), x[train].std(axis=0)
    standardized: np.ndarray = ((x - mean) / np.where(deviation > 0, deviation, 1.0)).astype(np.float32)
    return standardized


def place_digits(spec: DigitsData, digits: np.ndarray, seed: int, held_out: bool) -> np.ndarray:
    """8x8 digits (rows of 64) on spec.canvas-wide images, each at most `shift` pixels (held-out sets:
    `val_shift`) off centre in each direction, the offsets drawn from the seed, then their pixels
    permuted if asked; rows of canvas**2."""
    side = spec.canvas
    shift = spec.val_shift if held_out and spec.val_shift is not None else spec.shift
    if spec.permute_pixels:
        placed = place_digits(spec.model_copy(update={"permute_pixels": False}), digits, seed, held_out)
        return placed[:, pixel_order(side, seed)]
    if side == 8 and shift == 0:
        return digits
    rng = np.random.default_rng([seed, 2 if held_out else 1])
    offsets = (side - 8) // 2 + rng.integers(-shift, shift + 1, (len(digits), 2))
    images = np.zeros((len(digits), side, side), dtype=np.float32)
    for image, digit, (top, left) in zip(images, digits.reshape(-1, 8, 8), offsets, strict=True):
        image[top : top + 8, left : left + 8] = digit
    return images.reshape(len(digits), side * side)


def pixel_order(side: int, seed: int) -> np.ndarray:
    """The one shuffle of a side x side image's pixel positions for this data seed (every part, every run)."""
    return np.random.default_rng([seed, 3]).permutation(side * side)


def data_seed(spec: SplitData, job_seed: int) -> int:
    return spec.seed if spec.seed is not None else job_seed


def split_rows(spec: SplitData, seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of train, validation, test and holdout: the data shuffled with the seed (and the split
    index), cut into validation, test, holdout and train in that order, so a smaller `train_limit` keeps
    the same held-out sets."""
    order = np.random.default_rng([seed + 1, spec.split_index] if spec.split_index else seed + 1).permutation(n)
    n_train, n_val, n_test, n_holdout = spec.split_sizes()
    val, test, holdout, rest = np.split(order, np.cumsum([n_val, n_test, n_holdout]))
    return rest[:n_train], val, test, holdout


def b64_floats(array: np.ndarray) -> str:
    """Little-endian float32, base64: ~16x cheaper to encode and parse than JSON float lists."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def drawn_points(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Up to DRAWN_POINTS_CAP points and their labels, as the dataset event carries them."""
    return {"points": b64_floats(x[:DRAWN_POINTS_CAP]), "labels": y[:DRAWN_POINTS_CAP].tolist()}


def preview(spec: PlanarData, seed: int) -> dict[str, Any]:
    """The dataset event a job with this data and seed would emit: its training and validation points,
    drawn before the run starts."""
    x, y = make_arrays(spec, data_seed(spec, seed))
    train, val, _, _ = split_rows(spec, data_seed(spec, seed), len(x))
    x = scaled(spec, x, train)
    parts = {"train": drawn_points(x[train], y[train]), "val": drawn_points(x[val], y[val])}
    return {"type": "dataset", "step": 0, "target": target_of(spec), **parts}


Target = Literal["class", "value"]


def target_of(spec: LabelledData) -> Target:
    """What a label is: a class, or a value to predict (how the page colours it)."""
    return "value" if spec.regression else "class"
