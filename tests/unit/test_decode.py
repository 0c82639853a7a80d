"""The Python side's one reader of stored events, against the encoders that write them."""

from __future__ import annotations

import json

import numpy as np

from trainscope.schemas.decode import decode, floats, series
from trainscope.training.points import b64_floats


def test_floats_read_back_what_b64_floats_wrote_as_float32() -> None:
    values = np.array([0.1, -2.5, 1e-8, 3.4e38], dtype=np.float64)
    assert np.array_equal(floats(b64_floats(values)), values.astype(np.float32).astype(np.float64))


def test_a_series_follows_one_tag_across_batches_and_skips_points_without_it() -> None:
    batches = [
        {"type": "scalars", "points": [{"step": 1, "values": {"train/loss": 2.0}}]},
        {"type": "scalars", "points": [{"step": 2, "values": {"train/loss": 1.5, "val/loss": 1.7}}]},
    ]
    stored = [json.dumps(batch) for batch in batches]
    assert series(map(decode, stored), "train/loss") == ([1, 2], [2.0, 1.5])
    assert series(map(decode, stored), "val/loss") == ([2], [1.7])
    assert series([], "val/loss") == ([], [])
