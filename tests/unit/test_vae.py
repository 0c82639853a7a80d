"""The VAE kind: its KL term against a Monte-Carlo estimate, its loss a function of the noise it is given,
and what its probes show: the two terms apart, samples from the prior and an interpolation."""

from __future__ import annotations

from typing import Any

import torch

from tests.recorded import recorder
from trainscope.schemas import JobSpec
from trainscope.schemas.decode import floats
from trainscope.training.control import EmitPolicy, NoControl
from trainscope.training.driver import Driver, fit
from trainscope.training.tasks.vae import VAETask


def vae(**optim: Any) -> JobSpec:
    settings = {"steps": 60, "lr": 0.001, "batch_size": 32, **optim}
    model = {"kind": "vae", "latent": 4, "hidden": [32]}
    return JobSpec.model_validate({"data": {"kind": "digits"}, "model": model, "optim": settings})


def task() -> VAETask:
    made = Driver(vae(), lambda event: None, NoControl(), EmitPolicy()).task
    assert isinstance(made, VAETask)
    return made


def test_the_closed_form_kl_is_a_monte_carlo_estimate_of_it() -> None:
    run = task()
    generator = torch.Generator().manual_seed(0)
    mean = torch.randn(3, 4, generator=generator)
    log_variance = torch.randn(3, 4, generator=generator) * 0.5
    x = torch.zeros(3, run.inputs)
    outputs = torch.cat([torch.zeros(3, run.inputs), mean, log_variance], dim=1)
    _, closed_form = run.terms(outputs, x)
    draws = 200_000
    std = torch.exp(0.5 * log_variance)
    z = mean + std * torch.randn(draws, 3, 4, generator=generator, dtype=torch.float64)
    log_q = torch.distributions.Normal(mean.double(), std.double()).log_prob(z).sum(-1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    estimate = (log_q - log_p).mean(0).mean()  # each example's KL, averaged over the examples
    torch.testing.assert_close(closed_form.double(), estimate, rtol=0.02, atol=0.01)


def test_the_loss_is_a_function_of_its_batch_and_its_noise() -> None:
    run = task()
    state, (x, noise) = run.state(), run.batch()
    first, figures = run.loss(state, (x, noise), measure=False)
    again, _ = run.loss(state, (x, noise), measure=False)
    other, _ = run.loss(state, (x, torch.randn_like(noise)), measure=False)
    assert torch.equal(first, again) and not torch.equal(first, other)
    torch.testing.assert_close(first.detach(), figures["loss/reconstruction"] + figures["loss/kl"])  # beta 1


def test_its_terms_are_reported_apart_and_its_probes_show_samples_and_an_interpolation() -> None:
    spec = vae()
    spec.probes.min_interval_s = 0
    events: list[dict[str, Any]] = []
    result = fit(spec, recorder(events))
    assert result.status == "done"
    points = [point["values"] for e in events if e["type"] == "scalars" for point in e["points"]]
    assert all({"loss/reconstruction", "loss/kl"} <= values.keys() for values in points)
    assert {"val/reconstruction", "val/kl", "val/mse"} <= result.summary.keys()
    pictures = {e["tag"]: e for e in events if e["type"] == "images"}
    assert {tag: e["n"] for tag, e in pictures.items()} == {
        "inputs": 16,
        "reconstructions": 16,
        "samples": 16,
        "interpolation": 8,
    }
    samples = floats(pictures["samples"]["pixels"])
    assert samples.min() >= 0 and samples.max() <= 1  # BCE: decoded pixels, as the inputs are
    (table,) = [e for e in events if e["type"] == "analysis" and e["name"] == "parameters"]
    assert all(row["by_formula"] == row["by_torch"] for row in table["data"]["layers"])
    assert table["data"]["layers"][1]["formula"] == "32·8 + 8"  # a mean and a log-variance per code number
    assert [e["tag"] for e in events if e["type"] == "embedding"][-1] == "latent"
    assert "network" not in {e["type"] for e in events}  # its code does not chain matrix to matrix
