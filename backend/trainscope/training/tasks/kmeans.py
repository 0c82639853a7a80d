"""k-means by Lloyd's iterations on the device, one a step: the driver calls update() (no gradient, no
optimizer). The loss is the mean squared distance of the training points to their nearest centre (the
inertia over n); on 2-D data each step also reports every centre's position, the paths the page draws."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from trainscope.schemas import DigitsData, JobSpec
from trainscope.schemas.kinds.kmeans import BlobsData, KMeansSpec
from trainscope.training.datasets import Split, load_split
from trainscope.training.points import data_seed, split_rows
from trainscope.training.probes import ProbeContext
from trainscope.training.probes.base import split_context
from trainscope.training.tasks import Emit, Figures, State, Task
from trainscope.training.tasks.supervised import dataset_event


def blobs(data: BlobsData, seed: int, device: torch.device) -> Split:
    """The blobs' points and which blob each came from, split as any labelled data is."""
    rng = np.random.default_rng(data_seed(data, seed))
    labels = np.arange(data.n_points) % data.centers
    centres = np.array(data.centre_points(), dtype=np.float64)
    x = (centres[labels] + rng.normal(0, data.spread, (data.n_points, 2))).astype(np.float32)
    parts = split_rows(data, data_seed(data, seed), data.n_points)

    def part(rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(x[rows]).to(device), torch.from_numpy(labels[rows]).to(device)

    return Split(*(tensor for rows in parts for tensor in part(rows)))


def nearest(points: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each point's nearest centre and its squared distance to it."""
    distances = torch.cdist(points.double(), centres.double()).pow(2)
    closest, assignment = distances.min(dim=1)
    return assignment, closest


def kmeans_plus_plus(points: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k centres, each next one drawn with odds by its squared distance to the nearest so far; greedy, as
    scikit-learn's: 2 + log k candidates are drawn and the one that leaves the least inertia is kept.
    Measured on the designed blobs (4 centres, seeds 0-14): one draw a centre left k = 4 stuck with two
    centres in one blob on 1 seed of 15; the greedy draw on none."""
    trials = 2 + int(math.log(k))
    first = torch.randint(len(points), (1,), generator=generator, device=points.device)
    centres = points[first]
    _, closest = nearest(points, centres)
    for _ in range(1, k):
        candidates = torch.multinomial(closest.float() + 1e-12, trials, replacement=True, generator=generator)
        distances = torch.cdist(points.double()[candidates], points.double()).pow(2)  # (trials, n)
        potentials = torch.minimum(closest[None, :], distances)
        best = int(potentials.sum(1).argmin())
        centres = torch.cat([centres, points[candidates[best : best + 1]]])
        closest = potentials[best]
    return centres


class Centres(nn.Module):
    centres: torch.Tensor

    def __init__(self, centres: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("centres", centres.clone())  # moved by Lloyd's rule, not by gradients


class KMeansTask(Task):
    model: Centres

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        model, data = spec.model, spec.data
        assert isinstance(model, KMeansSpec) and isinstance(data, BlobsData | DigitsData)
        self.split = (
            blobs(data, spec.seed, device) if isinstance(data, BlobsData) else load_split(data, spec.seed, device)
        )
        self.plane = isinstance(data, BlobsData)
        generator = torch.Generator(device=device).manual_seed(spec.seed)
        points = self.split.x_train
        if model.seeding == "random":
            start = points[torch.randperm(len(points), generator=generator, device=device)[: model.k]]
        else:
            start = kmeans_plus_plus(points, model.k, generator)
        self.model = Centres(start)
        if self.plane:  # each centre's position before the step: the path drawn on the plane
            self.step_tags = ("train/loss", *(f"centroid/{i}/{axis}" for i in range(model.k) for axis in "xy"))

    def begin(self, emit: Emit) -> None:
        if self.plane:
            emit(dataset_event(self.split, "class"))

    def batch(self) -> torch.Tensor:
        return self.split.x_train  # every iteration sees every training point

    def positions(self, centres: torch.Tensor) -> Figures:
        """On the plane, every centre's coordinates, in one copy (step_row hands it over whole)."""
        return {"centroids": centres.detach().reshape(-1).clone()} if self.plane else {}

    def step_row(self, loss: torch.Tensor, figures: Figures) -> torch.Tensor:
        """The loss and the centres' coordinates as one row: one op, not one per coordinate (measured:
        2k views and a stack of them were ~40 us of a 57 us step on 400 blob points)."""
        if not self.plane:
            return loss.detach()
        return torch.cat([loss.detach().reshape(1), figures["centroids"].to(loss.dtype)])

    def loss(self, state: State, batch: torch.Tensor, measure: bool) -> tuple[torch.Tensor, Figures]:
        centres = state.buffers["centres"]
        _, closest = nearest(batch, centres)
        return closest.mean().float(), self.positions(centres)

    def update(self, batch: torch.Tensor, measure: bool) -> tuple[torch.Tensor, Figures]:
        """Lloyd's iteration: each point to its nearest centre, then each centre to the mean of its points
        (a centre left with none stays where it is). The loss and the positions are those before the move,
        from the same distances (computing them apart, as loss() would, doubled the step's cost)."""
        centres = self.model.centres
        assignment, closest = nearest(batch, centres)
        figures = self.positions(centres)
        sums = torch.zeros_like(centres).index_add_(0, assignment, batch)
        counts = torch.bincount(assignment, minlength=len(centres)).to(batch.dtype)[:, None]
        centres.copy_(torch.where(counts > 0, sums / counts.clamp_min(1), centres))
        return closest.mean().float(), figures

    def probe_context(self) -> ProbeContext:
        """Its one tap: the centres (on digits, each an image the pictures show beside examples)."""

        def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"centroids": self.model.centres}

        return split_context(self.spec, self.split, taps)

    def evaluation(self, final: bool) -> dict[str, float]:
        """The validation points' mean squared distance to their nearest centre, and the inertia (the sum
        over the training points, as scikit-learn reports it)."""
        _, val = nearest(self.split.x_val, self.model.centres)
        _, train = nearest(self.split.x_train, self.model.centres)
        values = torch.stack([val.mean(), train.sum()]).tolist()
        return {"val/loss": values[0], "inertia": values[1]}
