"""The autoencoder's task: reproduce each input through a small code. Its taps are every hidden layer
(the code among them), the code itself (`latent`, which the embedding projects), the reconstruction
(which the pictures show beside the input) and decodings of codes drawn from N(0, I) (`samples`: what it
makes of codes it was never taught, beside a VAE's)."""

from __future__ import annotations

import torch
from torch import nn

from trainscope.schemas import DigitsData, JobSpec
from trainscope.schemas.kinds.autoencoder import AutoencoderSpec, conv_stages, dense_inputs, widths
from trainscope.training.analyses import parameter_table
from trainscope.training.codes import Decode, pca_reference, prior_samples
from trainscope.training.datasets import Shuffled, load_split
from trainscope.training.models import LayeredNet, initialize
from trainscope.training.probes import ProbeContext
from trainscope.training.probes.base import Taps, eval_forward, split_context
from trainscope.training.tasks import Emit, Figures, State, Task, call
from trainscope.training.tasks.vae import SAMPLES


class Autoencoder(LayeredNet):
    """Linear -> activation per encoder layer, a linear map to the code, then the mirror image back to
    a linear read-out of every input (a sigmoid after it for BCE is the loss's, not the model's). The
    code is a hidden layer of its own, named `latent`, so every probe of hidden layers sees it too. With
    convolutions, the image goes through them first (conv1...), and the decoder ends with their transposed
    twins (deconv..., then the output), each with the output padding that restores its side exactly."""

    def __init__(self, spec: AutoencoderSpec, data: DigitsData, seed: int) -> None:
        super().__init__()
        stages = conv_stages(spec, data.example_shape)
        encoder: list[nn.Module] = [nn.Unflatten(1, data.example_shape)] if stages else []
        for i, stage in enumerate(stages):
            layer = stage.layer
            encoder.append(
                nn.Conv2d(stage.channels_in, layer.channels, layer.kernel, layer.stride, layer.padding, bias=spec.bias)
            )
            encoder.append(self.activation(spec, f"conv{i + 1}"))
        dense: list[nn.Module] = [nn.Flatten()] if stages else []
        for name, fan_in, fan_out in widths(spec, dense_inputs(spec, data), bool(stages)):
            dense.append(nn.Linear(fan_in, fan_out, bias=spec.bias))
            if name != "output":
                dense.append(self.activation(spec, name, linear=name == "latent"))
        decoder: list[nn.Module] = (
            [nn.Unflatten(1, (stages[-1].layer.channels, stages[-1].side_out, stages[-1].side_out))] if stages else []
        )
        for i, stage in reversed(list(enumerate(stages))):
            layer = stage.layer
            decoder.append(
                nn.ConvTranspose2d(
                    layer.channels,
                    stage.channels_in,
                    layer.kernel,
                    layer.stride,
                    layer.padding,
                    stage.output_padding,
                    bias=spec.bias,
                )
            )
            if i > 0:
                decoder.append(self.activation(spec, f"deconv{i}"))
        self.net = nn.Sequential(*encoder, *dense, *decoder, *([nn.Flatten()] if stages else []))
        self.activation_name = spec.activation
        initialize(self.linears(), seed, spec.init)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """The outputs for these codes: the layers after the code's."""
        after = list(self.net).index(self.activations[self.names.index("latent")]) + 1
        x: torch.Tensor = self.net[after:](codes)
        return x


class AutoencoderTask(Task):
    model: Autoencoder

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        model = spec.model
        assert isinstance(model, AutoencoderSpec) and isinstance(spec.data, DigitsData)
        self.split = load_split(spec.data, spec.seed, device)
        seed = model.init_seed if model.init_seed is not None else spec.seed
        self.model = Autoencoder(model, spec.data, seed).to(device)
        self.batches = Shuffled(len(self.split.x_train), spec.optim.batch_size, spec.seed, device)
        self.bce = model.loss == "bce"
        self.latent, self.linear = model.latent, model.activation == "identity"
        prior = torch.Generator().manual_seed(spec.seed + 2)  # the VAE's draws: the two side by side in a lesson
        self.prior_codes = torch.randn(SAMPLES, model.latent, generator=prior).to(device)
        self.code = self.model.names.index("latent")  # the code's place among the hidden layers

    def begin(self, emit: Emit) -> None:
        emit(parameter_table(self.model, self.spec))

    def batch(self) -> torch.Tensor:
        return self.split.x_train[self.batches.next()]

    def error(self, outputs: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """The loss of these outputs against their inputs, per pixel."""
        if self.bce:
            return nn.functional.binary_cross_entropy_with_logits(outputs, inputs)
        return nn.functional.mse_loss(outputs, inputs)

    def loss(self, state: State, batch: torch.Tensor, measure: bool) -> tuple[torch.Tensor, Figures]:
        return self.error(call(self.model, state, batch), batch), {}

    def finish(self, step: int, emit: Emit, summary: dict[str, float]) -> None:
        """PCA with as many components as the code as a reference, and decodings of codes from N(0, I)
        (which a plain autoencoder was never taught: the VAE lesson's contrast)."""
        self.model.eval()
        with torch.no_grad():
            rebuilt = self.reconstruct(self.model(self.split.x_val))
        error = float(((rebuilt - self.split.x_val) ** 2).mean())
        decode = self.decoder()
        emit(pca_reference(decode, error, self.split, self.latent, self.linear, step))
        emit(prior_samples(decode, self.split, self.latent, self.spec.seed, step))

    def decoder(self) -> Decode:
        return lambda codes: self.reconstruct(self.model.decode(codes))

    def reconstruct(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(outputs) if self.bce else outputs

    def taps(self) -> Taps:
        def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
            outputs, hidden = eval_forward(self.model, inputs)
            named = {f"hidden/{i}": h for i, h in enumerate(hidden)}
            with torch.no_grad():  # codes it was never taught: what a plain autoencoder makes of N(0, I)
                samples = self.reconstruct(self.model.decode(self.prior_codes))
            return {
                **named,
                "latent": hidden[self.code],
                "reconstruction": self.reconstruct(outputs),
                "samples": samples,
            }

        return taps

    def probe_context(self) -> ProbeContext:
        return split_context(self.spec, self.split, self.taps(), self.model)

    def evaluation(self, final: bool) -> dict[str, float]:
        """The validation set's reconstruction error (with BCE also its squared error, which compares
        across losses); with probes.train_eval, the whole training set's too."""
        sets = {"val": self.split.x_val}
        if self.spec.probes.train_eval:
            sets["train_eval"] = self.split.x_train
        figures: dict[str, torch.Tensor] = {}
        for name, inputs in sets.items():
            outputs, _ = eval_forward(self.model, inputs)
            figures[f"{name}/loss"] = self.error(outputs, inputs)
            if self.bce:
                figures[f"{name}/mse"] = nn.functional.mse_loss(self.reconstruct(outputs), inputs)
        values = torch.stack(list(figures.values())).tolist()  # one device-to-host transfer
        return dict(zip(figures, values, strict=True))
