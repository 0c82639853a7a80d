"""Every lesson in the catalogue, run through the real job path (POST /api/lessons/{id}/run on a live
server with real workers and SQLite), with its observation judged by the server, on its preset seed and
on another: a verdict shown to a room must not rest on one seed's luck (benchmarks/lesson_seeds.py
runs seeds 0-14; its table is in the closing note of the issue that set these thresholds).

The figures asserted below hold with a margin over every seed 0-14 measured (the range is in each
comment), so no assertion depends on the last digits of one CPU. Each lesson is then judged again with its
roles swapped or a threshold past anything measured, to show its check can say "did not hold".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Preset
from tests.live import LiveServer
from trainscope.jobs.groups import read_group
from trainscope.lessons.catalog import load_catalog
from trainscope.lessons.checks import evaluate
from trainscope.lessons.evidence import gather
from trainscope.store.sql import SqlStore

Figures = dict[str, float]

EXPECTED: dict[str, tuple[Callable[[Figures], bool], dict[str, Any] | list[dict[str, Any]]]] = {
    # (what the figures must show, params under which the same runs must NOT pass); ranges over seeds 0-14
    "activations": (
        # grad ratio: sigmoid ~1e-5 (shrink 5e4-1.5e5), tanh 0.66-3.1, relu 0.87-4.7; loss 1.5: tanh at
        # step 17-31, relu 58-124, sigmoid never
        lambda f: (
            f["sigmoid.grad_ratio"] < 1e-3 < min(f["tanh.grad_ratio"], f["relu.grad_ratio"])
            and f["sigmoid.steps_to_loss"] is None
            and f["relu.steps_to_loss"] is not None
        ),
        {"slow": "relu", "fast": ["sigmoid"]},
    ),
    "dying-relu": (
        # dead at the end: relu 0.56-0.82, leaky 0.05-0.27; revived: relu 10-36, leaky 165-384
        lambda f: (
            f["relu.dead_fraction"] > 0.45 > 0.35 > f["leaky_relu.dead_fraction"]
            and f["leaky_relu.revived"] > 3 * f["relu.revived"]
        ),
        {"relu": "leaky_relu", "leaky": "relu"},
    ),
    "nonlinearity": (
        # collapse exact to float32 rounding (~1e-8); straightness 1.0 vs <= 0.05; accuracy 0.27-0.69 vs 0.94-1.0
        lambda f: (
            f["collapse.max_abs_diff"] < 1e-5
            and f["identity.straightness"] > 0.999
            and f["tanh.val_acc"] > 0.9 > 0.75 > f["identity.val_acc"]
        ),
        {"min_accuracy": 1.01},
    ),
    "bias": (
        # without bias exactly even odds at the origin; accuracy 0.97-1.0 with bias vs 0.47-0.61 without
        lambda f: (
            abs(f["without_bias.p_origin"] - 0.5) < 1e-6
            and f["with_bias.val_acc"] > 0.9 > 0.7 > f["without_bias.val_acc"]
        ),
        {"with_bias": "without bias", "without_bias": "with bias"},
    ),
    "learning-rate": (
        # final loss: lr 0.002 6.2-7.1 vs the best 0.072-0.099; lr 2 always diverges; 2/curvature 0.34-0.49
        lambda f: (
            f["lr_2.diverged"] == 1.0
            and f["lr_0_002.final_loss"] > 30 * f["best_final_loss"]
            and 0.25 < f["max_stable_lr"] < 0.7
        ),
        [{"slow_factor": 1000}, {"edge_margin": 20.0}],  # 0.2 is not 20x under the edge, nor 2 20x over it
    ),
    "backprop": (
        # finite differences ~1e-8 relative; the chain rule by hand ~1e-16 of the largest gradient
        lambda f: f["max_relative_error"] < 1e-6 and f["chain_rule_max_error"] < 1e-12,
        {"max_chain_rule_error": 1e-30},
    ),
    "generalization": (
        # median rise of three seeds 1.39-1.66; the better half by test score drops 0.020-0.039 more than
        # the worse half (mean of six splits); the single chosen run's excess 0.010-0.030
        lambda f: f["val_rise"] > 1.2 and f["selection.halves"] > 0.01 and f["selection.excess"] > 0,
        [{"val_rise": 3.0}, {"min_excess": 0.1}],
    ),
    "regularization": (
        # means of 5 seeds: dropout lowers the lowest val loss by 0.034-0.053; weight decay narrows the gap
        # by 0.11-0.31; layer-1 weight std 0.097 vs 0.037 with decay
        lambda f: (
            f["weight_decay_0_01.weight_spread"] < 0.5 * f["none.weight_spread"] and f["dropout_0_5.val_gain"] > 0
        ),
        {"plain": "weight decay 0.01", "weight_decay": "none"},
    ),
    "batchnorm": (
        # loss 1.0 at step 28-37 with BN, never without; one-class batches in train mode 0.09-0.12 (single
        # examples 0.06-0.14) vs eval 0.97-0.99
        lambda f: (
            f["train_mode_one_class_acc"] < 0.25 < 0.9 < f["eval_mode_acc"]
            and f["without_batch_norm.steps_to_loss"] is None
        ),
        {"mode_gap": 0.95},
    ),
    "optimizers": (
        # steps to 0.5: sgd never (its lowest 0.501-1.02: shown, not judged), momentum 69-91, rmsprop 41-51,
        # adam 66-76; Rosenbrock from a start the seed moves: sgd 1.87-3.03, momentum 1.6e-6-3.0e-4 (gain 1e4-1.7e6)
        lambda f: (
            f["sgd.lowest_loss"] > 0.4
            and f["adam.steps_to_loss"] is not None
            and f["race_on_the_rosenbrock_function.momentum.final_loss"] < 1e-2
            and f["rosenbrock.momentum_gain"] > 1000
        ),
        [{"sgd": "adam", "adaptive": ["sgd"]}, {"sgd": "momentum", "momentum": "sgd"}],
    ),
    "cnn-vs-mlp": (
        # seeds 0-14 through this path: shifted digits CNN 0.77-0.89 vs MLP 0.51-0.60; pixels shuffled CNN
        # 0.25-0.35 vs MLP 0.53-0.60 (drop gap 0.48-0.61); the whole CNN as an MLP: 16,245,674 parameters in
        # 10 hidden layers against 5,978, its outputs within 2.3e-7-4.0e-7 of the largest
        lambda f: (
            f["shifted_digits.cnn.val_acc"] > f["shifted_digits.mlp.val_acc"] + 0.1
            and f["shuffle.drop_gap"] > 0.3
            and f["unrolled.relative_diff"] < 5e-6
            and f["unrolled.mlp_parameters"] > 1000 * f["unrolled.cnn_parameters"] == 1000 * 5978
            and f["mlp.parameters"] == 18858
        ),
        [{"mlp": "cnn", "cnn": "mlp"}, {"max_unroll_diff": 1e-12}],
    ),
    "cnn-sequences": (
        # seeds 0-14 through this path (two sweeps): CNN 0.90-0.96 vs MLP 0.61-0.68 (gap 0.22-0.31); positions
        # shuffled CNN 0.56-0.64 vs MLP 0.59-0.68 (drop gap 0.25-0.37, the MLP's change -0.031-0.027, lead <= 0.012)
        lambda f: (
            f["gap"] > 0.18
            and f["shuffle.drop_gap"] > 0.2
            and abs(f["shuffle.mlp_change"]) < 0.04
            and f["shuffle.cnn_lead"] < 0.03
        ),
        {"mlp": "cnn", "cnn": "mlp"},
    ),
    "debugging": (
        # fit() on seeds 0-14: first loss 2.24-2.37 (ln 10 = 2.30); final 0.003-0.004 correct, 0.006-0.010 with
        # labels shuffled (validation 0.04-0.15 against 0.64-0.83); without zero_grad the gradient norm ends
        # 67-238x its start and the loss climbs back 0.27-2.63; softmax twice ends 1.001-1.082x its floor;
        # the TensorBoard read-back exact
        lambda f: (
            abs(f["correct.initial_loss"] - f["ln_classes"]) < 0.15
            and f["correct.final_loss"] < 0.02
            and f["labels_shuffled.val_acc"] < 0.2 < 0.55 < f["correct.val_acc"]
            and f["zero_grad.grad_growth"] > 30
            and f["zero_grad.loss_rise"] > 0.2
            and 1.0 <= f["softmax.final_over_floor"] < 1.12
            and f["tensorboard.mismatches"] == 0
        ),
        [  # each bug's signature looked for in the correct run: not held, for each one
            {"correct": "labels shuffled", "shuffled": "correct"},
            {"accumulating": "correct"},
            {"probabilities": "correct"},
        ],
    ),
    "batch-size": (
        # after 200 steps batch 1024's validation loss over batch 32's: 0.977-1.000; samples/s ~2.5e3, ~7e4,
        # ~6.7e5. Shown: variance drop over (N-B)/(B(N-1))'s drop, B=1->32 0.85-1.10, B=32->1024 0.85-1.17
        lambda f: (
            0.95 < f["equal_steps.val_ratio"] < 1.02
            and 0.6 < f["b1_to_b32.scaling"] < 1.6
            and 0.6 < f["b32_to_b1024.scaling"] < 1.6
            and f["batch_1.val_loss"] > f["batch_32.val_loss"]
        ),
        {"max_val_gain": 0.0},
    ),
    "random-search": (
        # steps to 0.05 from d = 2 to 200: gradient descent 4-6 at every d; random search 10-36 -> 1,900-2,400
        lambda f: (
            f["gradient.growth"] < 2
            and f["random.growth"] > 30
            and f["random.d200.steps"] > 100 * f["gradient.d200.steps"]
        ),
        [{"min_growth_gap": 1000.0}, {"max_gradient_growth": 0.9}],
    ),
    "word2vec": (
        # man-woman minus man-car >= 0.535 on the generated corpus; man-car minus man-woman >= 0.566 with man moved
        lambda f: (
            f["the_generated_corpus.cos_man_woman"] - f["the_generated_corpus.cos_man_car"] > 0.4
            and f["man_moved_to_where_vehicles_go.cos_man_car"] - f["man_moved_to_where_vehicles_go.cos_man_woman"]
            > 0.4
            and f["the_generated_corpus.neighbour_in_group"] == 1.0
        ),
        {"default": "man moved to where vehicles go", "moved": "the generated corpus"},
    ),
    "autoencoder": (
        # 2 -> 8: 2.23-2.52x, 8 -> 32: 4.16-6.17x; the wide code on 100 digits: train 4e-8..3.6e-4, val 0.011-0.013
        lambda f: (
            f["code_of_2.to.code_of_8"] > 2.0
            and f["code_of_8.to.code_of_32"] > 3.5
            and f["code_of_64_100_training_digits.train_mse"]
            < 0.001
            < 0.01
            < f["code_of_64_100_training_digits.val_mse"]
        ),
        [{"latents": ["code of 32", "code of 8", "code of 2"]}, {"max_train": 1e-9}],
    ),
    "vae": (
        # samples from N(0, I) against new digits: the VAE's 1.09-1.13x as far, the plain autoencoder's 1.90-2.04x
        lambda f: f["vae.prior_distance"] < 1.2 and f["plain_autoencoder.prior_distance"] > 1.8,
        {"vae": "plain autoencoder", "plain": "VAE"},
    ),
    "kmeans-pca": (
        # inertia 3 -> 4: 6.30-7.04x, 4 -> 5: 1.08-1.14x; linear autoencoder / PCA 1.00-1.01, angles 0.85-4.9 degrees
        lambda f: (
            f["elbow.drop_into"] > 5 > 1.3 > f["elbow.drop_after"]
            and all(f[f"linear_a_code_of_{k}.to_pca"] < 1.03 for k in (2, 4, 8))
            and all(f[f"linear_a_code_of_{k}.angle"] < 8 for k in (2, 4, 8))
        ),
        [{"designed": "k = 3"}, {"max_angle": 0.1}],
    ),
    "data-parallel": (
        # the largest loss gap over 100 steps: to batch 64 3e-08-1.5e-07 (float rounding), to batch 32 0.21-0.50
        lambda f: (
            f["1_process_batch_64.max_loss_gap"] < 1e-5
            and f["1_process_batch_32.max_loss_gap"] > 0.1
            and f["2_ranks_x_batch_32.rank0_samples_per_s"] > 0
            and f["2_ranks_x_batch_32.rank1_samples_per_s"] > 0
        ),
        {"whole": "1 process, batch 32", "share": "1 process, batch 64"},
    ),
    "gpu-memory": (
        # shapes decide them: Adam 2, momentum 1, SGD 0 times the parameter bytes; growth over estimate 1.000
        lambda f: (
            f["adam_batch_64.state_per_parameter_byte"] == 2
            and f["momentum_batch_64.state_per_parameter_byte"] == 1
            and f["sgd_batch_64.state_per_parameter_byte"] == 0
            and abs(f["adam_batch_128.growth_over_estimate"] - 1) < 0.01
        ),
        [{"adam": "SGD, batch 64"}, {"double": "momentum, batch 64"}],
    ),
    "gpu-utilization": (
        # the typical step's wait share: slow loader ~0.53, two loaders ahead ~0.04 (see the issue 25 note)
        lambda f: (
            f["slow_loader.typical_wait_share"] > 0.4
            and f["slow_loader_2_loaders_ahead.typical_wait_share"] < 0.2
            and f["batch_4096.samples_per_s"] > f["batch_32.samples_per_s"]
        ),
        [{"slow": "slow loader, 2 loaders ahead", "ahead": "slow loader"}, {"min_slow_wait": 0.9}],
    ),
}
SEEDS = (0, 5)  # the preset and another (a third seed cost ~100 s of a suite at its 20-minute budget)


def test_every_lesson_is_covered() -> None:
    assert set(EXPECTED) == set(load_catalog())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lesson_id", list(EXPECTED))
def test_lesson_observation_holds_on_its_preset_and_other_seeds(
    server: LiveServer, preset_group: Preset, lesson_id: str, seed: int
) -> None:
    if seed == 0:
        group = preset_group(lesson_id)  # the same run the lesson's page test draws
    else:
        response = server.post(f"/api/lessons/{lesson_id}/run", {"overrides": {"seed": seed}})
        assert response.status_code == 201, response.text
        group = server.wait_group(response.json()["id"], timeout=240)
    assert group["lesson"] == lesson_id
    verdict = group["verdict"]
    assert verdict["held"] is True, verdict
    listed = server.get("/api/groups", lesson=lesson_id, limit=200).json()["groups"]
    assert next(g for g in listed if g["id"] == group["id"])["verdict"] == verdict  # the list says as much
    shows, failing_params = EXPECTED[lesson_id]
    values = {key: figure["value"] for key, figure in verdict["figures"].items()}
    assert shows(values), values
    # every figure is named in English and in Korean (the page's language toggle shows these)
    assert all(figure["en"] and figure["ko"] and figure["en"] != figure["ko"] for figure in verdict["figures"].values())

    # the same stored runs, judged with roles swapped or a threshold past the measurement: not held
    lesson = load_catalog()[lesson_id]
    store = SqlStore(f"sqlite:///{server.database}")
    try:
        record = store.get_group(group["id"])
        assert record is not None
        runs = read_group(store, record).runs
        for failing in failing_params if isinstance(failing_params, list) else [failing_params]:
            params = {**lesson.observation.params, **failing}
            assert evaluate(lesson.observation.check, gather(store, runs), params).held is False, failing
    finally:
        store.close()
