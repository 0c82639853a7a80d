"""Splits: sizes, disjointness, and a smaller training subset keeping the same held-out sets."""

from __future__ import annotations

import numpy as np
import torch

from trainscope.schemas import DigitsData, Mnist1DData, Points2DData
from trainscope.schemas.decode import floats
from trainscope.training import sequences
from trainscope.training.datasets import load_split
from trainscope.training.points import make_arrays, make_points2d, pixel_order, preview

CPU = torch.device("cpu")


def test_test_and_holdout_sets_are_disjoint_and_sized() -> None:
    spec = DigitsData(val_fraction=0.2, test_fraction=0.1, holdout_fraction=0.1, train_limit=100)
    split = load_split(spec, 0, CPU)
    assert (len(split.x_train), len(split.x_val), len(split.x_test), len(split.x_holdout)) == spec.split_sizes()
    assert spec.split_sizes() == (100, 359, 180, 180)
    parts = [split.x_train, split.x_val, split.x_test, split.x_holdout]
    assert sum(len(p) for p in parts) == 100 + 359 + 180 + 180
    assert set(split.held_out()) == {"test", "holdout"}


def test_a_training_subset_keeps_the_held_out_sets() -> None:
    full = load_split(DigitsData(test_fraction=0.1), 4, CPU)
    small = load_split(DigitsData(test_fraction=0.1, train_limit=50), 4, CPU)
    assert torch.equal(full.x_val, small.x_val) and torch.equal(full.x_test, small.x_test)
    assert torch.equal(full.x_train[:50], small.x_train)


def test_data_seed_overrides_the_job_seed_and_offset_shifts() -> None:
    a = load_split(Points2DData(seed=9), 1, CPU)
    b = load_split(Points2DData(seed=9), 2, CPU)
    assert torch.equal(a.x_train, b.x_train)
    shifted = load_split(Points2DData(seed=9, offset=(3.0, -1.0)), 1, CPU)
    assert torch.allclose(shifted.x_train, a.x_train + torch.tensor([3.0, -1.0]))
    assert not load_split(Points2DData(), 1, CPU).held_out()


def test_a_split_index_draws_another_split_of_the_same_data() -> None:
    first = load_split(DigitsData(test_fraction=0.1), 4, CPU)
    again = load_split(DigitsData(test_fraction=0.1, split_index=0), 4, CPU)
    other = load_split(DigitsData(test_fraction=0.1, split_index=1), 4, CPU)
    assert torch.equal(first.x_test, again.x_test)  # index 0 is the split the seed alone gives
    assert not torch.equal(first.x_test, other.x_test)
    everything = torch.cat([other.x_train, other.x_val, other.x_test])
    assert sorted(map(tuple, everything.tolist())) == sorted(
        map(tuple, torch.cat([first.x_train, first.x_val, first.x_test]).tolist())
    )  # the same examples, dealt differently


def test_regression_datasets_have_values_in_minus_one_to_one() -> None:
    for dataset in ("plane", "multi_gauss"):
        spec = Points2DData(dataset=dataset, noise=0.0)
        x, y = make_points2d(spec, 3)
        assert spec.regression and y.dtype == np.float32 and x.shape == (spec.n_points, 2)
        assert -1.0 <= y.min() < -0.3 and 0.3 < y.max() <= 1.0  # both signs, in range
    x, y = make_points2d(Points2DData(dataset="plane", noise=0.0), 3)
    np.testing.assert_allclose(y, (x[:, 0] + x[:, 1]) / 2.4, atol=1e-6)  # the plane is exact without noise


def test_the_preview_is_the_split_a_job_trains_on() -> None:
    spec = Points2DData(dataset="spiral", val_fraction=0.4, seed=11)
    shown = preview(spec, seed=0)
    split = load_split(spec, 0, CPU)
    train = floats(shown["train"]["points"]).reshape(-1, 2)
    np.testing.assert_array_equal(train, split.x_train.numpy())
    assert shown["val"]["labels"] == split.y_val.tolist()


def test_shifted_digits_are_the_digits_placed_on_a_canvas_within_their_shift() -> None:
    plain = load_split(DigitsData(), 3, CPU)
    centred = load_split(DigitsData(canvas=16), 3, CPU)
    images = centred.x_train.reshape(-1, 16, 16)
    assert torch.equal(images[:, 4:12, 4:12].reshape(-1, 64), plain.x_train)  # no shift: the centre
    shifted = load_split(DigitsData(canvas=16, shift=0, val_shift=4), 3, CPU)
    assert torch.equal(shifted.x_train, centred.x_train)  # training examples stay in the centre ...
    moved = shifted.x_val.reshape(-1, 16, 16)
    assert not torch.equal(moved, centred.x_val.reshape(-1, 16, 16))  # ... the held-out ones move
    assert torch.allclose(moved.sum(dim=(1, 2)), plain.x_val.sum(dim=1))  # whole digits, nothing cut off
    rows, cols = moved.sum(dim=2) > 0, moved.sum(dim=1) > 0
    first_row = rows.float().argmax(dim=1)  # the top of each digit's ink: within 4 of where it was
    assert (first_row >= 0).all() and (first_row < 4 + 8).all() and cols.any(dim=1).all()


def test_permuted_pixels_are_one_fixed_shuffle_of_every_example() -> None:
    plain = load_split(DigitsData(), 5, CPU)
    permuted = load_split(DigitsData(permute_pixels=True), 5, CPU)
    order = torch.from_numpy(pixel_order(8, 5))
    assert sorted(order.tolist()) == list(range(64)) and not torch.equal(order, torch.arange(64))
    assert torch.equal(permuted.x_train, plain.x_train[:, order])  # every pixel kept, moved
    assert torch.equal(permuted.x_val, plain.x_val[:, order])  # the same shuffle for every part
    assert torch.equal(load_split(DigitsData(permute_pixels=True), 5, CPU).x_train, permuted.x_train)


def test_mnist1d_is_the_papers_data_made_offline_and_its_shuffle_one_permutation_of_positions() -> None:
    sequences._made.cache_clear()  # made afresh here, so that the generators' state is put back is seen
    numpy_state = np.random.get_state()
    x, y = make_arrays(Mnist1DData(), 0)
    assert x.shape == (5000, 40) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [500] * 10  # the package makes each digit equally often
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-3  # centred, unit spread
    assert split_sizes_of(Mnist1DData()) == (4000, 1000)  # the paper's split
    again, _ = make_arrays(Mnist1DData(), 0)
    assert np.array_equal(x, again)
    other, _ = make_arrays(Mnist1DData(), 1)
    assert not np.allclose(x, other)
    shuffled, shuffled_y = make_arrays(Mnist1DData(shuffle_positions=True), 0)
    assert np.array_equal(y, shuffled_y)  # the same examples...
    order = [int(np.flatnonzero((x[:50] == shuffled[:50, [j]]).all(axis=0))[0]) for j in range(40)]
    assert sorted(order) != order and sorted(order) == list(range(40))  # ...with one shuffle of positions
    assert np.array_equal(shuffled, x[:, order])  # the same one for every example
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state, strict=True))


def split_sizes_of(spec: Mnist1DData) -> tuple[int, int]:
    n_train, n_val, _, _ = spec.split_sizes()
    return n_train, n_val
