"""Telemetry figures against references: numpy.histogram, scikit-learn PCA, hand-built tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter
from sklearn.decomposition import PCA

from tests.recorded import recorder
from trainscope.schemas import Event, JobSpec
from trainscope.schemas.decode import floats as decode
from trainscope.training.models import build_model
from trainscope.training.probes import ProbeContext, Telemetry
from trainscope.training.tasks.supervised import SupervisedTask
from trainscope.training.telemetry import (
    class_probabilities,
    dead_fraction,
    dead_units,
    histogram,
    pca_project,
    plane_grid,
    saturation,
)


@pytest.mark.parametrize("bins", [2, 7, 30, 100])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_histogram_counts_equal_numpy(bins: int, seed: int) -> None:
    values = torch.randn(64, 33, generator=torch.Generator().manual_seed(seed)) * 3 + 1
    row = histogram(values, bins).tolist()
    lo, hi, counts = row[0], row[1], row[2:]
    expected, _edges = np.histogram(values.numpy().astype(np.float64), bins=bins, range=(lo, hi))
    assert (lo, hi) == (values.min().item(), values.max().item())
    assert counts == expected.tolist()
    assert sum(counts) == values.numel()


def test_histogram_of_a_constant_matches_numpy_widening() -> None:
    values = torch.zeros(50)  # e.g. a dead ReLU layer
    row = histogram(values, 10).tolist()
    expected, edges = np.histogram(values.numpy(), bins=10)
    assert (row[0], row[1]) == (edges[0], edges[-1]) == (-0.5, 0.5)
    assert row[2:] == expected.tolist()


def test_histogram_on_known_values() -> None:
    row = histogram(torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0]), 2).tolist()
    assert row == [0.0, 1.0, 2.0, 3.0]  # 0.5 opens the upper bin; the maximum closes it


def test_pca_projection_matches_scikit_learn_up_to_sign() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12))  # correlated features
    projection, components, explained = pca_project(torch.from_numpy(points), 3)
    reference = PCA(n_components=3).fit(points)
    expected = reference.transform(points)
    for k in range(3):
        sign = np.sign(np.dot(projection[:, k].numpy(), expected[:, k]))
        np.testing.assert_allclose(projection[:, k].numpy() * sign, expected[:, k], atol=1e-8)
    np.testing.assert_allclose(explained.numpy(), reference.explained_variance_ratio_, rtol=1e-8)
    assert components.shape == (3, 12)


def test_pca_signs_follow_the_previous_snapshot() -> None:
    points = torch.randn(200, 6, generator=torch.Generator().manual_seed(1))
    first, components, _ = pca_project(points, 2)
    flipped = -components
    again, _, _ = pca_project(points, 2, previous=flipped)
    torch.testing.assert_close(again, -first)


def test_dead_fraction_on_a_hand_built_batch() -> None:
    outputs = torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0], [0.0, 3.0, 0.0, 0.0]])
    assert dead_fraction(outputs).item() == 0.5  # columns 0 and 2 are zero for every sample
    assert dead_fraction(torch.ones(4, 3)).item() == 0.0


def test_saturation_counts_outputs_near_the_limits() -> None:
    sig = torch.tensor([0.001, 0.5, 0.995, 0.2])
    assert saturation(sig, "sigmoid").item() == 0.5
    tanh = torch.tensor([-0.999, 0.0, 0.5, 0.9999, 0.98])
    assert saturation(tanh, "tanh").item() == pytest.approx(0.4)


def test_decision_grid_shape_and_probabilities_sum_to_one() -> None:
    grid = plane_grid((-1.0, 1.0), (-2.0, 2.0), 7)
    assert grid.shape == (49, 2)
    assert grid[0].tolist() == [-1.0, -2.0] and grid[6].tolist() == [1.0, -2.0] and grid[-1].tolist() == [1.0, 2.0]
    model = build_model(JobSpec.model_validate({"model": {"batch_norm": True, "dropout": 0.5}}))
    probs = class_probabilities(model, grid)
    assert probs.shape == (49, 2)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(49))
    assert model.training  # eval mode was only for the grid


def test_forward_with_hidden_gives_the_same_logits_as_forward() -> None:
    model = build_model(JobSpec.model_validate({"model": {"hidden": [5, 6], "activation": "relu"}}))
    x = torch.randn(9, 2)
    logits, hidden = model.forward_with_hidden(x)
    torch.testing.assert_close(logits, model(x))
    assert [h.shape[1] for h in hidden] == [5, 6]


class Probed:
    """A network's task with the telemetry the driver would run on it."""

    def __init__(self, spec: JobSpec) -> None:
        self.task = SupervisedTask(spec, torch.device("cpu"))
        self.model, self.split = self.task.model, self.task.split
        self.telemetry = Telemetry(self.task.probe_context())
        self.begin = self.task.begin


def test_all_probes_sample_a_step_with_one_device_to_host_transfer(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = JobSpec.model_validate(
        {"data": {"dataset": "spiral", "n_points": 200}, "model": {"hidden": [6, 5], "activation": "relu"}}
    )
    events: list[dict[str, Any]] = []
    trainer = Probed(spec)
    model, telemetry = trainer.model, trainer.telemetry
    transfers = []
    for name in ("cpu", "tolist", "item", "to"):  # ways to bring a tensor to the host
        original = getattr(torch.Tensor, name)

        def counting(self: torch.Tensor, *args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            transfers.append(_name)
            return _original(self, *args, **kw)

        monkeypatch.setattr(torch.Tensor, name, counting)

    telemetry.before_forward(1)
    loss = torch.nn.functional.cross_entropy(model(trainer.split.x_train[:32]), trainer.split.y_train[:32])
    loss.backward()  # type: ignore[no-untyped-call]
    telemetry.after_backward(1, recorder(events))
    monkeypatch.undo()

    assert transfers == ["cpu"]  # one transfer for every probe together
    assert all(not m._forward_hooks for m in model.activations)  # hooks lived for one pass only
    by_type = {e["type"]: e for e in events}
    assert set(by_type) == {"histogram", "layers", "embedding", "boundary", "network", "system", "confusion"}

    embedding = by_type["embedding"]
    assert embedding["n"] == len(embedding["labels"]) == min(spec.probes.probe_size, 200)  # all 200 points
    assert decode(embedding["points"]).shape == (embedding["n"] * embedding["dims"],)
    grid = spec.probes.boundary_grid
    probabilities = decode(by_type["boundary"]["probs"])
    assert probabilities.shape == (grid * grid,) and ((probabilities >= 0) & (probabilities <= 1)).all()
    network = by_type["network"]
    first = network["layers"][0]
    assert first["shape"] == [6, 2]
    np.testing.assert_allclose(decode(first["weights"]), model.linears()[0].weight.detach().numpy().ravel(), rtol=1e-6)
    gradient = model.linears()[0].weight.grad
    assert gradient is not None
    np.testing.assert_allclose(decode(first["gradients"]), gradient.numpy().ravel(), rtol=1e-6)
    cells = network["unit_maps"]["grid"] ** 2
    maps = decode(network["unit_maps"]["values"]).reshape(2 + 6 + 5, cells)  # the 2 inputs, then hidden units
    assert network["inputs"] == ["x1", "x2"]
    x_range = network["unit_maps"]["x_range"]
    np.testing.assert_allclose(
        maps[0][: network["unit_maps"]["grid"]], np.linspace(*x_range, network["unit_maps"]["grid"]), rtol=1e-5
    )
    layers = by_type["layers"]["layers"]
    assert [layer["name"] for layer in layers] == ["layer1", "layer2", "output"]
    assert layers[0]["saturation"] is None  # relu does not saturate
    assert 0 <= layers[0]["dead_fraction"] <= 1 and layers[2]["dead_fraction"] is None


def test_a_relu_layer_pushed_negative_is_reported_dead() -> None:
    spec = JobSpec.model_validate({"model": {"hidden": [8], "activation": "relu"}})
    events: list[dict[str, Any]] = []
    trainer = Probed(spec)
    with torch.no_grad():
        trainer.model.linears()[0].bias.fill_(-100.0)  # every unit's input is far below zero
    trainer.telemetry.before_forward(1)
    loss = torch.nn.functional.cross_entropy(trainer.model(trainer.split.x_train), trainer.split.y_train)
    loss.backward()  # type: ignore[no-untyped-call]
    trainer.telemetry.after_backward(1, recorder(events))
    layers = next(e for e in events if e["type"] == "layers")["layers"]
    assert layers[0]["dead_fraction"] == 1.0
    assert layers[0]["grad_norm"] == 0.0  # no gradient flows through a dead layer


def test_dead_units_for_relu_and_for_leaky_relu() -> None:
    outputs = torch.tensor([[0.0, 1.0, -0.1], [0.0, 0.0, -0.2]])
    assert dead_units(outputs).tolist() == [True, False, False]  # only an all-zero column is a dead ReLU
    assert dead_units(outputs, negative_side=True).tolist() == [True, False, True]


def test_units_are_dead_only_if_dead_on_the_whole_training_set_and_revivals_are_counted() -> None:
    spec = JobSpec.model_validate(
        {"model": {"hidden": [4], "activation": "relu"}, "probes": {"probe_size": 10, "min_interval_s": 0}}
    )
    events: list[dict[str, Any]] = []
    trainer = Probed(spec)
    first = trainer.model.linears()[0]
    x_train = trainer.split.x_train
    probe_x = trainer.telemetry.ctx.probe_x
    # unit 0 reacts only to the training example with the largest x: dead on the probe set, alive on the
    # training set, which is what counts
    target = int(x_train[:, 0].argmax())
    with torch.no_grad():
        first.weight.zero_()
        first.bias.fill_(-1.0)
        first.weight[0, 0] = 1.0 / float(x_train[target, 0]) * 2.0
    assert float(x_train[target, 0]) > float(probe_x[:, 0].max())  # the probe set misses it

    def sample(step: int) -> list[dict[str, Any]]:
        trainer.telemetry.before_forward(step)
        torch.nn.functional.cross_entropy(trainer.model(x_train), trainer.split.y_train).backward()
        trainer.telemetry.after_backward(step, recorder(events))
        return [e for e in events if e["type"] == "layers"][-1]["layers"]

    layer = sample(1)[0]
    assert layer["dead_fraction"] == 0.75 and layer["revived"] == 0  # units 1-3 dead, unit 0 alive
    with torch.no_grad():
        first.bias[1] = 1.0  # bring unit 1 back
    layer = sample(200)[0]
    assert layer["dead_fraction"] == 0.5 and layer["revived"] == 1


def test_a_cnns_pictures_and_the_confusion_matrix_match_their_references() -> None:
    spec = JobSpec.model_validate({"data": {"kind": "digits"}, "model": {"kind": "cnn2d"}})
    task = Probed(spec)
    events: list[dict[str, Any]] = []
    task.telemetry.before_forward(1)
    loss = torch.nn.functional.cross_entropy(task.model(task.split.x_train[:32]), task.split.y_train[:32])
    loss.backward()  # type: ignore[no-untyped-call]
    task.telemetry.after_backward(1, recorder(events))
    images = {e["tag"]: e for e in events if e["type"] == "images"}
    assert set(images) == {"inputs", "kernels/conv1", "maps/conv1", "kernels/conv2", "maps/conv2"}

    probe_x, probe_y = task.telemetry.ctx.probe_x, task.telemetry.ctx.probe_y
    task.model.eval()
    with torch.no_grad():
        predicted = task.model(probe_x).argmax(1)
        _, hidden = task.model.forward_with_hidden(probe_x[:1])
    confusion = next(e for e in events if e["type"] == "confusion")["counts"]
    expected = np.zeros((10, 10), dtype=int)
    np.add.at(expected, (probe_y.numpy(), predicted.numpy()), 1)
    assert confusion == expected.tolist()

    inputs = images["inputs"]
    assert (inputs["n"], inputs["height"], inputs["width"]) == (16, 8, 8)
    np.testing.assert_allclose(decode(inputs["pixels"]), probe_x[:16].numpy().ravel(), rtol=1e-6)
    assert inputs["captions"][0] == f"{int(probe_y[0])} → {int(predicted[0])}"
    kernels = task.model.linears()[1].weight.detach().mean(dim=1)  # conv2: averaged over its 8 inputs
    np.testing.assert_allclose(decode(images["kernels/conv2"]["pixels"]), kernels.numpy().ravel(), rtol=1e-5)
    maps = images["maps/conv1"]
    assert (maps["n"], maps["height"], maps["width"]) == (8, 8, 8)  # before the pooling
    np.testing.assert_allclose(decode(maps["pixels"]), hidden[0][0].numpy().ravel(), rtol=1e-5, atol=1e-6)


def test_a_sequence_cnns_pictures_are_lines_with_a_map_per_convolution_a_row_per_channel() -> None:
    spec = JobSpec.model_validate({"data": {"kind": "mnist1d", "samples": 300}, "model": {"kind": "cnn1d"}})
    task = Probed(spec)
    events: list[dict[str, Any]] = []
    task.begin(recorder(events))
    task.telemetry.before_forward(1)
    loss = torch.nn.functional.cross_entropy(task.model(task.split.x_train[:32]), task.split.y_train[:32])
    loss.backward()  # type: ignore[no-untyped-call]
    task.telemetry.after_backward(1, recorder(events))
    images = {e["tag"]: e for e in events if e["type"] == "images"}
    assert set(images) == {"inputs", *(f"{kind}/conv{i}" for kind in ("kernels", "maps") for i in (1, 2, 3))}
    assert all(event["sequence"] for event in images.values())
    shapes = {tag: (e["n"], e["height"], e["width"]) for tag, e in images.items()}
    assert shapes["inputs"] == (16, 1, 40)  # each example a line of 40 positions
    assert [shapes[f"maps/conv{i}"] for i in (1, 2, 3)] == [(1, 25, 19), (1, 25, 10), (1, 25, 5)]
    assert shapes["kernels/conv1"] == (1, 25, 5) and shapes["kernels/conv2"] == (1, 25, 3)
    probe_x = task.telemetry.ctx.probe_x
    np.testing.assert_allclose(decode(images["inputs"]["pixels"]), probe_x[:16].numpy().ravel(), rtol=1e-6)
    task.model.eval()
    with torch.no_grad():
        _, hidden = task.model.forward_with_hidden(probe_x[:1])
    np.testing.assert_allclose(
        decode(images["maps/conv2"]["pixels"]), hidden[1][0].numpy().ravel(), rtol=1e-5, atol=1e-6
    )

    table = next(e for e in events if e["type"] == "analysis" and e["name"] == "parameters")
    assert [row["name"] for row in table["data"]["layers"]] == ["conv1", "conv2", "conv3", "output"]
    assert all(row["by_formula"] == row["by_torch"] for row in table["data"]["layers"])
    assert table["figures"]["by_torch"] == sum(p.numel() for p in task.model.parameters()) == 5210
    union: TypeAdapter[Event] = TypeAdapter(Event)
    for event in events:  # every one of them as the event union describes it
        union.validate_python({**event, "job": "j", "seq": 1, "wall": 0.0})


def test_probes_read_taps_by_name_and_a_context_gets_those_its_taps_allow() -> None:
    """A kind with no network, only word vectors: it gets the embedding (of its `embeddings` tap) and the
    system's figures, and no probe that reads weighted layers or logits."""
    spec = JobSpec.model_validate({"probes": {"min_interval_s": 0}})
    vectors = torch.randn(10, 6)
    labels = torch.arange(10)

    def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"embeddings": vectors[inputs.long().reshape(-1)]}

    context = ProbeContext(spec, labels.float().reshape(-1, 1), labels, taps)
    telemetry = Telemetry(context)
    assert [type(probe).__name__ for probe in telemetry.probes] == ["Embedding", "System"]
    events: list[dict[str, Any]] = []
    telemetry.before_forward(1)
    telemetry.after_backward(1, recorder(events))
    (embedding,) = [event for event in events if event["type"] == "embedding"]
    assert embedding["tag"] == "embeddings" and embedding["labels"] == list(range(10))
    reference = PCA(3).fit(vectors.double().numpy()).explained_variance_ratio_
    np.testing.assert_allclose(embedding["explained"], reference, rtol=1e-6)


def embedding_events(context: ProbeContext, steps: int) -> list[dict[str, Any]]:
    telemetry = Telemetry(context)
    events: list[dict[str, Any]] = []
    for step in range(1, steps + 1):
        telemetry.before_forward(step, last=step == steps)
        telemetry.after_backward(step, recorder(events))
    return [event for event in events if event["type"] == "embedding"]


def test_an_embedding_names_its_points_and_carries_named_points_vectors_with_every_snapshot() -> None:
    """Word vectors: each point's word, its group's name and more columns travel with the points, and the
    vectors themselves with every snapshot (a similarity asked at any step is answered from them)."""
    spec = JobSpec.model_validate({"probes": {"min_interval_s": 0, "embedding_every": 1}})
    vectors = torch.randn(4, 3)

    def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"embeddings": vectors[inputs.long().reshape(-1)]}

    words = ["king", "queen", "car", "bus"]
    context = ProbeContext(spec, torch.arange(4.0).reshape(-1, 1), torch.tensor([0, 0, 1, 1]), taps)
    context.names, context.classes, context.columns = words, ["people", "vehicles"], {"count": ["9", "8", "7", "<6>"]}
    snapshots = embedding_events(context, 3)
    assert len(snapshots) == 3
    for event in snapshots:
        assert event["names"] == words and event["classes"] == ["people", "vehicles"]
        assert event["columns"] == {"count": ["9", "8", "7", "<6>"]}  # text as given: the page writes it as text
        np.testing.assert_array_equal(decode(event["vectors"]).reshape(4, 3), vectors.numpy())


def test_unnamed_points_vectors_go_with_the_last_snapshot_only_and_a_plain_context_names_nothing() -> None:
    spec = JobSpec.model_validate({"probes": {"min_interval_s": 0, "embedding_every": 1, "probe_size": 600}})
    vectors = torch.randn(600, 40)  # a classifier's layer: sent once, not 40 times a run

    def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"embeddings": vectors[inputs.long().reshape(-1)]}

    context = ProbeContext(spec, torch.arange(600.0).reshape(-1, 1), torch.zeros(600, dtype=torch.int64), taps)
    *earlier, last = embedding_events(context, 3)
    assert len(earlier) == 2 and all("vectors" not in event for event in earlier)
    assert last["width"] == 40 and decode(last["vectors"]).size == 24_000
    assert not {"names", "classes", "columns"} & set(last)  # left out, not sent empty
