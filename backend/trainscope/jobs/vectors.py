"""A run's stored vectors, read back: the embedding snapshot at a step, the points nearest a point or
a sum of points by cosine (word2vec's similarity and analogy queries, a - b + c), and a t-SNE or UMAP
of a snapshot on demand. Answers come from the vectors the run stored (every snapshot of a small tap, the
last of a large one), never from its PCA."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainscope.schemas.decode import decode, floats
from trainscope.schemas.errors import SpecError
from trainscope.schemas.vectors import Neighbour, NeighboursPublic, ProjectionPublic
from trainscope.store.base import RunStore, read_pages


class NoVectors(LookupError):
    """The job has no stored vectors (of this tap, at or before this step)."""


@dataclass(frozen=True)
class Snapshot:
    tag: str
    step: int
    names: list[str]  # a point's own name, else "#index"
    labels: list[Any]
    classes: list[str] | None
    vectors: np.ndarray  # (n, width), float64
    steps: list[int]  # every step of this tap that has vectors


def read_snapshot(
    store: RunStore, job_id: str, until: int, step: int | None, tag: str | None, page_bytes: int
) -> Snapshot:
    """The newest embedding event with vectors at or before `step` (None: the newest of all) of the tap
    `tag` (None: the run's first tap); the events are read a page at a time."""
    chosen: dict[str, Any] | None = None
    steps: list[int] = []
    for page in read_pages(store, job_id, 0, until, page_bytes, ("embedding",)):
        for event in page:
            body = decode(event.body)
            tag = tag if tag is not None else body["tag"]
            if body["tag"] != tag or body.get("vectors") is None:
                continue
            steps.append(body["step"])
            if step is None or body["step"] <= step:
                chosen = body
    if chosen is None:
        where = f" at or before step {step}" if step is not None and steps else ""
        raise NoVectors(f"no stored vectors{f' of {tag}' if tag else ''}{where}")
    n = chosen["n"]
    names = chosen.get("names") or [f"#{i}" for i in range(n)]
    vectors = floats(chosen["vectors"]).reshape(n, -1)
    return Snapshot(chosen["tag"], chosen["step"], names, chosen["labels"], chosen.get("classes"), vectors, steps)


def find(snapshot: Snapshot, name: str, loc: tuple[str | int, ...]) -> int:
    try:
        return snapshot.names.index(name)
    except ValueError:
        raise SpecError(loc, f"{name!r} is not among the run's {len(snapshot.names)} points", "unknown_point") from None


def nearest(snapshot: Snapshot, positive: list[str], negative: list[str], top: int) -> NeighboursPublic:
    """The `top` points whose vectors are nearest (cosine) to the sum of the unit vectors of `positive`
    minus those of `negative` (3CosAdd: king - man + woman), the query's own points left out."""
    plus = [find(snapshot, name, ("query", "of", i)) for i, name in enumerate(positive)]
    minus = [find(snapshot, name, ("query", "minus", i)) for i, name in enumerate(negative)]
    norms = np.linalg.norm(snapshot.vectors, axis=1, keepdims=True)
    unit = snapshot.vectors / np.where(norms > 0, norms, 1.0)
    query = unit[plus].sum(0) - unit[minus].sum(0) if minus else unit[plus].sum(0)
    length = np.linalg.norm(query)
    cosines = unit @ (query / length) if length > 0 else np.zeros(len(unit))
    cosines[plus + minus] = -np.inf
    order = np.argsort(-cosines, kind="stable")[: min(top, len(unit) - len(set(plus + minus)))]
    neighbours = [
        Neighbour(name=snapshot.names[i], index=int(i), label=label(snapshot, i), cosine=float(cosines[i]))
        for i in order
    ]
    return NeighboursPublic(tag=snapshot.tag, step=snapshot.step, steps=snapshot.steps, neighbours=neighbours)


def label(snapshot: Snapshot, i: int) -> str:
    value = snapshot.labels[i]
    classes = snapshot.classes
    return classes[value] if classes and isinstance(value, int) and 0 <= value < len(classes) else str(value)


PROJECTIONS = {"tsne": "sklearn", "umap": "umap"}  # method -> the module it needs


def projections() -> list[str]:
    """The methods this server can project with (UMAP only where umap-learn is installed: an extra)."""
    return [method for method, module in PROJECTIONS.items() if importlib.util.find_spec(module) is not None]


def project(snapshot: Snapshot, method: str, perplexity: float, neighbours: int, seed: int) -> ProjectionPublic:
    """A 2-D map of the snapshot's vectors by cosine distance, seeded: scikit-learn's t-SNE (PCA start;
    perplexity kept below a third of the points) or umap-learn's UMAP (neighbours kept below the points).
    Imported here, where it is asked for: scikit-learn's import costs ~1 s, umap-learn's ~10 s and its
    first map ~7 s more (numba compiles it), then ~0.1 s a map in the same process."""
    n = len(snapshot.vectors)
    if method == "umap":
        import umap

        used = ProjectionPublic(
            tag=snapshot.tag, step=snapshot.step, method="umap", neighbours=max(2, min(neighbours, n - 1))
        )
        reducer = umap.UMAP(n_neighbors=used.neighbours, metric="cosine", random_state=seed, n_jobs=1)
    else:
        from sklearn.manifold import TSNE

        used = ProjectionPublic(
            tag=snapshot.tag, step=snapshot.step, method="tsne", perplexity=min(perplexity, max(1.0, (n - 1) / 3))
        )
        reducer = TSNE(2, perplexity=used.perplexity, metric="cosine", init="pca", random_state=seed)
    used.points = reducer.fit_transform(snapshot.vectors).ravel().tolist()
    return used
