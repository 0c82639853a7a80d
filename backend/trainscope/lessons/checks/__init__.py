"""Each lesson's observation as a check over the group's runs: held or not, and the figures behind it.

Thresholds come from the lesson file (measured on the presets; see tests/lessons for the figures).
A check raises Missing when a run it needs, or that run's evidence, is absent (a deleted job, a
probe turned off): the verdict is then "cannot tell", never a guess.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from trainscope.lessons.checks.figures import Params
from trainscope.lessons.checks.generalization import generalization, regularization
from trainscope.lessons.checks.networks import (
    activations,
    backprop,
    bias,
    cnn_sequences,
    cnn_vs_mlp,
    dying_relu,
    nonlinearity,
)
from trainscope.lessons.checks.representations import autoencoder, kmeans_pca, vae, word2vec
from trainscope.lessons.checks.scale import data_parallel, data_waits, memory_use
from trainscope.lessons.checks.training import (
    batch_size,
    batchnorm,
    debugging,
    learning_rate,
    optimizers,
    random_search,
)
from trainscope.lessons.evidence import Missing, RunView
from trainscope.schemas.groups import Verdict

log = logging.getLogger(__name__)

# params that name runs by label, and params that name experiments by their English title: the catalogue
# test holds every lesson file to them, so a renamed variation cannot silently break its check
LABEL_PARAMS = frozenset(
    {"slow", "fast", "relu", "leaky", "linear", "nonlinear", "with_bias", "without_bias", "overfit", "plain"}
    | {"dropout", "weight_decay", "with_bn", "without_bn", "sgd", "momentum", "adaptive", "mlp", "cnn", "average"}
    | {"correct", "shuffled", "accumulating", "probabilities", "default", "moved", "memorizer", "latents"}
    | {"vae", "plain", "ks", "linear", "designed", "ranks", "whole", "share"}
)
PART_PARAMS = frozenset(
    {"selection_part", "race_parts", "shifted_part", "shuffled_part", "plain_part", "kmeans_part", "pca_part"}
)


CHECKS: dict[str, Callable[[list[RunView], Params], Verdict]] = {
    "activations": activations,
    "dying_relu": dying_relu,
    "nonlinearity": nonlinearity,
    "bias": bias,
    "learning_rate": learning_rate,
    "backprop": backprop,
    "generalization": generalization,
    "regularization": regularization,
    "batchnorm": batchnorm,
    "optimizers": optimizers,
    "batch_size": batch_size,
    "cnn_vs_mlp": cnn_vs_mlp,
    "cnn_sequences": cnn_sequences,
    "debugging": debugging,
    "random_search": random_search,
    "word2vec": word2vec,
    "autoencoder": autoencoder,
    "vae": vae,
    "kmeans_pca": kmeans_pca,
    "data_parallel": data_parallel,
    "memory_use": memory_use,
    "data_waits": data_waits,
}


def waiting_verdict(waiting: int, total: int) -> Verdict:
    return Verdict(
        held=None,
        detail=f"waiting for {waiting} of {total} runs",
        detail_ko=f"실행 {total}개 중 {waiting}개를 기다리는 중",
    )


def evaluate(check: str, runs: list[RunView], params: Params) -> Verdict:
    """The verdict once every run has ended; held=None while any is still going or evidence is missing."""
    waiting = [view for view in runs if view.status in ("queued", "running", "paused")]
    if waiting:
        return waiting_verdict(len(waiting), len(runs))
    unfinished = [view.label for view in runs if view.status in ("failed", "cancelled")]
    if unfinished:
        names = ", ".join(unfinished)
        return Verdict(
            held=None, detail=f"cannot tell: {names} did not finish", detail_ko=f"판단할 수 없음: {names} 끝나지 않음"
        )
    try:
        return CHECKS[check](runs, params)
    except Missing as missing:
        return Verdict(held=None, detail=f"cannot tell: {missing}", detail_ko=f"판단할 수 없음: {missing}")
    except (LookupError, ValueError, ArithmeticError) as error:
        # runs changed past what the check expects (say, overrides that made every rate diverge): the
        # page must still load, so say so instead of failing the request
        log.warning("check %s could not judge these runs: %r", check, error)
        reason = f"these runs lack what the check compares ({error!r})"
        return Verdict(held=None, detail=f"cannot tell: {reason}", detail_ko=f"판단할 수 없음: {reason}")
