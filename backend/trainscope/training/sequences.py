"""MNIST-1D as numpy arrays, made offline by the `mnist1d` package (Greydanus & Kobak, "Scaling down
deep learning with MNIST-1D", ICML 2024) with its paper's settings; only the seed, the number of examples and
the shuffle of positions come from the spec."""

from __future__ import annotations

import functools
import random

import numpy as np

from trainscope.schemas import Mnist1DData


def mnist1d_arrays(spec: Mnist1DData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences (float32, examples x 40) and their digits (int64); the same seed gives the same examples
    with and without the shuffle of positions."""
    return _made(seed, spec.samples, spec.shuffle_positions)


@functools.lru_cache(maxsize=4)  # ~1 s per 5,000 examples; a worker often runs the same data again
def _made(seed: int, samples: int, shuffle: bool) -> tuple[np.ndarray, np.ndarray]:
    # the package imports matplotlib and scipy (~1 s): only when MNIST-1D is asked for
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.shuffle_seq = samples, seed, shuffle
    # it seeds numpy's and Python's global generators: put them back as they were
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        made = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    # its own 80/20 cut is undone: the job's split (val_fraction, test, holdout) cuts the whole set
    x = np.concatenate([made["x"], made["x_test"]]).astype(np.float32)
    y = np.concatenate([made["y"], made["y_test"]]).astype(np.int64)
    x.flags.writeable = y.flags.writeable = False  # cached: shared by every job of this worker
    return x, y
