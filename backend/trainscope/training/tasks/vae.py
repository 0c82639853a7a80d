"""The VAE's task. Its loss draws the code with noise that comes in the batch (so the loss stays a
function of its arguments), and reports the reconstruction and KL terms apart. Its taps add to an
autoencoder's what makes it generative: decodings of fixed draws from N(0, I) (`samples`), of codes
on the line between two examples' (`interpolation`) and, for a 2-number code, of a grid of codes over
its plane (`grid`)."""

from __future__ import annotations

from statistics import NormalDist

import torch
from torch import nn

from trainscope.schemas import DigitsData, JobSpec
from trainscope.schemas.kinds.autoencoder import widths
from trainscope.schemas.kinds.vae import VAESpec
from trainscope.training.analyses import parameter_table
from trainscope.training.codes import pca_reference, prior_samples
from trainscope.training.datasets import Shuffled, load_split
from trainscope.training.models import LayeredNet, initialize
from trainscope.training.probes import ProbeContext
from trainscope.training.probes.base import Taps, split_context
from trainscope.training.tasks import Emit, Figures, State, Task, call

SAMPLES = 16  # draws from N(0, I), fixed for the run: the same codes decoded as training goes on
INTERPOLATION = 8  # codes from the first probe example's mean to the second's
GRID = 8  # a 2-number code: GRID x GRID codes over its plane, from N(0, 1)'s 5% to its 95% on each axis


def plane_codes(device: torch.device) -> torch.Tensor:
    """The codes of the latent grid, row by row from the top (the second number high) to the bottom."""
    edge = NormalDist().inv_cdf(0.95)
    steps = torch.linspace(-edge, edge, GRID)
    y, x = torch.meshgrid(steps.flip(0), steps, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1)], 1).to(device)


class VAE(LayeredNet):
    """The encoder's layers, a linear map to the code's means and log-variances (named `latent`), then
    the decoder's layers from a code. `net` lists every layer in that order for the probes of layers;
    the forward pass runs the encoder and the decoder apart, the code drawn between them."""

    def __init__(self, spec: VAESpec, inputs: int, seed: int) -> None:
        super().__init__()
        encoder: list[nn.Module] = []
        decoder: list[nn.Module] = []
        for name, fan_in, fan_out in widths(spec, inputs):
            side = encoder if name.startswith(("enc", "latent")) else decoder
            side.append(nn.Linear(fan_in, 2 * fan_out if name == "latent" else fan_out, bias=spec.bias))
            if name != "output":  # the code's means and log-variances: a hidden layer, as the probes see it
                side.append(self.activation(spec, name, linear=name == "latent"))
        self.encoder, self.decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)
        self.net = nn.Sequential(*encoder, *decoder)
        self.activation_name = spec.activation
        initialize(self.linears(), seed, spec.init)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_variance = self.encoder(x).chunk(2, dim=1)
        return mean, log_variance

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's outputs for a code drawn from x's Gaussian with this standard-normal noise (none:
        its mean), then the mean and log-variance, all in one tensor (functional_call returns one)."""
        mean, log_variance = self.encode(x)
        code = mean if noise is None else mean + noise * torch.exp(0.5 * log_variance)
        return torch.cat([self.decoder(code), mean, log_variance], dim=1)

    def forward_with_hidden(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The decoding of x's mean code, and every hidden layer's output on the way."""
        hidden = []
        activations = set(self.activations)
        for module in self.net:
            if module is self.decoder[0]:  # from the code's means on: the decoder's first layer
                x = x[:, : module.in_features]
            x = module(x)
            if module in activations:
                hidden.append(x)
        return x, hidden


class VAETask(Task):
    step_tags = ("train/loss", "loss/reconstruction", "loss/kl")
    model: VAE

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        model, data = spec.model, spec.data
        assert isinstance(model, VAESpec) and isinstance(data, DigitsData)
        self.split = load_split(data, spec.seed, device)
        self.inputs = self.split.x_train.shape[1]
        seed = model.init_seed if model.init_seed is not None else spec.seed
        self.model = VAE(model, self.inputs, seed).to(device)
        self.batches = Shuffled(len(self.split.x_train), spec.optim.batch_size, spec.seed, device)
        self.latent, self.beta, self.bce = model.latent, model.beta, model.loss == "bce"
        self.noise = torch.Generator(device=device).manual_seed(spec.seed + 1)
        prior = torch.Generator().manual_seed(spec.seed + 2)
        self.prior_codes = torch.randn(SAMPLES, model.latent, generator=prior).to(device)
        self.plane = plane_codes(device)

    def begin(self, emit: Emit) -> None:
        emit(parameter_table(self.model, self.spec))

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Examples, and the standard-normal noise that draws their codes."""
        x = self.split.x_train[self.batches.next()]
        return x, torch.randn(len(x), self.latent, generator=self.noise, device=self.device)

    def terms(self, outputs: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruction (summed over an example's pixels) and KL(q(z|x) || N(0, I)) in closed form
        (summed over the code), each averaged over the examples."""
        logits, mean, log_variance = torch.split(outputs, [self.inputs, self.latent, self.latent], dim=1)
        if self.bce:
            error = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
        else:
            error = (logits - x) ** 2
        kl = 0.5 * (mean**2 + log_variance.exp() - 1 - log_variance).sum(1)
        return error.sum(1).mean(), kl.mean()

    def loss(
        self, state: State, batch: tuple[torch.Tensor, torch.Tensor], measure: bool
    ) -> tuple[torch.Tensor, Figures]:
        x, noise = batch
        reconstruction, kl = self.terms(call(self.model, state, x, noise), x)
        return reconstruction + self.beta * kl, {"loss/reconstruction": reconstruction.detach(), "loss/kl": kl.detach()}

    def decoded(self, codes: torch.Tensor) -> torch.Tensor:
        logits = self.model.decoder(codes)
        return torch.sigmoid(logits) if self.bce else logits

    def finish(self, step: int, emit: Emit, summary: dict[str, float]) -> None:
        """Decodings of codes from N(0, I), as near real digits as new digits are if it is generative;
        PCA with as many components, as a reference for its reconstructions."""
        self.model.eval()
        with torch.no_grad():
            rebuilt = self.decoded(self.model.encode(self.split.x_val)[0])
        error = float(((rebuilt - self.split.x_val) ** 2).mean())
        emit(pca_reference(self.decoded, error, self.split, self.latent, False, step))
        emit(prior_samples(self.decoded, self.split, self.latent, self.spec.seed, step))

    def taps(self) -> Taps:
        def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
            was_training = self.model.training
            self.model.eval()
            with torch.no_grad():
                logits, hidden = self.model.forward_with_hidden(inputs)
                mean, _ = self.model.encode(inputs)
                found = {f"hidden/{i}": h for i, h in enumerate(hidden)}
                found |= {"latent": mean, "reconstruction": torch.sigmoid(logits) if self.bce else logits}
                found["samples"] = self.decoded(self.prior_codes)
                if self.latent == 2:
                    found["grid"] = self.decoded(self.plane)
                if len(inputs) >= 2:
                    share = torch.linspace(0, 1, INTERPOLATION, device=inputs.device)[:, None]
                    found["interpolation"] = self.decoded(mean[0] + share * (mean[1] - mean[0]))
            self.model.train(was_training)
            return found

        return taps

    def probe_context(self) -> ProbeContext:
        return split_context(self.spec, self.split, self.taps(), self.model)

    def evaluation(self, final: bool) -> dict[str, float]:
        """The validation set's terms from its mean codes, and its squared error per pixel (which compares
        with an autoencoder's)."""
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            x = self.split.x_val
            outputs = self.model(x)
            reconstruction, kl = self.terms(outputs, x)
            rebuilt = self.decoded(self.model.encode(x)[0])
            figures = torch.stack([reconstruction + self.beta * kl, reconstruction, kl, ((rebuilt - x) ** 2).mean()])
        self.model.train(was_training)
        values = figures.tolist()  # one device-to-host transfer
        return dict(zip(["val/loss", "val/reconstruction", "val/kl", "val/mse"], values, strict=True))
