"""Checks of the lessons on what is learned without labels: word vectors, what an autoencoder keeps, what
makes a VAE generative, k-means's elbow and a linear autoencoder against PCA."""

from __future__ import annotations

import itertools

import numpy as np

from trainscope.lessons.checks.figures import Figures, Params, key
from trainscope.lessons.evidence import Missing, RunView, final, needed, run, unit_vectors
from trainscope.schemas.groups import Verdict


def word2vec(runs: list[RunView], p: Params) -> Verdict:
    """On the default corpus a word is nearer a word of its own group than one of another (man: woman
    against car), and a word's nearest neighbour is of its group; with the word moved where the other
    group goes, the order turns round. The analogy is shown, not judged."""
    figures = Figures()
    word, near, far = p["word"], p["near"], p["far"]

    def cosines(view: RunView) -> tuple[float, float]:
        unit = unit_vectors(view)
        missing = [w for w in (word, near, far) if w not in unit]
        if missing:
            raise Missing(f"{', '.join(missing)} not among the words of {view.label}")
        pair = []
        for other in (near, far):
            pair.append(
                figures.add(
                    key(view.label, f"cos_{word}_{other}"),
                    f"{view.label}: cosine of {word} and {other}",
                    f"{view.label_ko}: {word}와(과) {other}의 코사인",
                    float(unit[word] @ unit[other]),
                )
            )
        return pair[0], pair[1]

    default, moved = run(runs, p["default"]), run(runs, p["moved"])
    near_default, far_default = cosines(default)
    near_moved, far_moved = cosines(moved)
    share = figures.add(
        key(default.label, "neighbour_in_group"),
        f"{default.label}: share of grouped words whose nearest word is of the same group",
        f"{default.label_ko}: 가장 가까운 단어가 같은 묶음인 단어의 비율",
        neighbour_in_group(default, p["groups"]),
    )
    king, man, woman, queen = p["analogy"]
    unit = unit_vectors(default)
    if all(w in unit for w in p["analogy"]):
        query = unit[king] - unit[man] + unit[woman]
        answer = max((w for w in unit if w not in (king, man, woman)), key=lambda w: float(unit[w] @ query))
        figures.add(
            key(default.label, "analogy"),
            f"{default.label}: {king} - {man} + {woman} is nearest {queen} (1 yes, 0 no; shown, not judged)",
            f"{default.label_ko}: {king} - {man} + {woman}에 가장 가까운 단어가 {queen}인가 "
            "(1 예, 0 아니오; 판정하지 않음)",
            float(answer == queen),
        )
    margin = p["margin"]
    held = near_default - far_default >= margin and far_moved - near_moved >= margin and share >= p["min_share"]
    return figures.verdict(held)


def neighbour_in_group(view: RunView, groups: dict[str, list[str]]) -> float:
    """The share of the groups' words whose nearest other word (cosine) belongs to the same group."""
    unit = unit_vectors(view)
    group_of = {w: g for g, words in groups.items() for w in words if w in unit}
    names = list(unit)
    matrix = np.stack([unit[w] for w in names])
    hits = []
    for w in group_of:
        cosines = matrix @ unit[w]
        cosines[names.index(w)] = -np.inf
        hits.append(group_of.get(names[int(np.argmax(cosines))]) == group_of[w])
    if not hits:
        raise Missing(f"no word of the named groups in {view.label}")
    return float(np.mean(hits))


def autoencoder(runs: list[RunView], p: Params) -> Verdict:
    """The validation error falls by at least `ratio` from each code size to the next (it keeps more),
    and never reaches zero; a code as wide as it likes on a few examples drives its training error near
    zero while its validation error stays `gap` times higher: it learned those examples, not digits."""
    figures = Figures()
    errors = []
    for label in p["latents"]:
        view = run(runs, label)
        errors.append(
            figures.add(
                key(label, "val_mse"),
                f"{label}: validation error",
                f"{view.label_ko}: 검증 오차",
                final(view, "val/loss"),
            )
        )
    ratios = []
    for (small, larger), (e_small, e_larger) in zip(
        itertools.pairwise(p["latents"]), itertools.pairwise(errors), strict=True
    ):
        ratios.append(
            figures.add(
                key(small, "to", larger),
                f"validation error, {small} / {larger}",
                f"검증 오차, {run(runs, small).label_ko} / {run(runs, larger).label_ko}",
                e_small / e_larger,
            )
        )
    wide = run(runs, p["memorizer"])
    trained = figures.add(
        key(wide.label, "train_mse"),
        f"{wide.label}: error on its training examples",
        f"{wide.label_ko}: 학습 예제의 오차",
        final(wide, "train_eval/loss"),
    )
    held_out = figures.add(
        key(wide.label, "val_mse"),
        f"{wide.label}: validation error",
        f"{wide.label_ko}: 검증 오차",
        final(wide, "val/loss"),
    )
    held = min(ratios) >= p["ratio"] and trained <= p["max_train"] and held_out >= p["gap"] * trained
    return figures.verdict(held)


def analysed(view: RunView, name: str) -> dict[str, float]:
    """The figures of a run's newest analysis of this name."""
    found: list[dict[str, float]] = [event["figures"] for event in view.analysis(name)]
    newest: dict[str, float] = needed(found, f"{name.replace('_', ' ')} of {view.label}")[-1]
    return newest


def vae(runs: list[RunView], p: Params) -> Verdict:
    """Codes drawn from N(0, I) decode near real digits for the VAE (its KL term keeps the codes of digits
    where the prior draws), far from them for a plain autoencoder, measured against new digits."""
    figures = Figures()
    ratios = {}
    for role in ("vae", "plain"):
        view = run(runs, p[role])
        drawn = analysed(view, "prior_samples")
        ratios[role] = figures.add(
            key(view.label, "prior_distance"),
            f"{view.label}: codes from N(0, I) decoded, distance to the nearest training digit / a new digit's",
            f"{view.label_ko}: N(0, I)에서 뽑은 코드를 복원해 가장 가까운 학습 숫자까지 거리 / 새 숫자의 거리",
            drawn["ratio"],
        )
        figures.add(
            key(view.label, "val_mse"),
            f"{view.label}: validation reconstruction error per pixel (shown)",
            f"{view.label_ko}: 픽셀당 검증 복원 오차 (판정하지 않음)",
            analysed(view, "pca_reference")["model_val_mse"],
        )
    return figures.verdict(ratios["vae"] <= p["vae_max"] and ratios["plain"] >= p["plain_min"])


def kmeans_pca(runs: list[RunView], p: Params) -> Verdict:
    """k-means's inertia falls steeply up to the blobs' designed count and barely after it (the elbow);
    a linear autoencoder reaches PCA's reconstruction error with the same number of components, in
    nearly the same subspace."""
    figures = Figures()
    inertia = {}
    for label in p["ks"]:
        view = run(runs, label, p["kmeans_part"])
        inertia[label] = figures.add(
            key(label, "inertia"), f"{label}: inertia", f"{view.label_ko}: 관성", final(view, "inertia")
        )
    designed = p["ks"].index(p["designed"])
    before, at, after = (inertia[p["ks"][i]] for i in (designed - 1, designed, designed + 1))
    drop = figures.add(
        "elbow.drop_into",
        f"inertia, {p['ks'][designed - 1]} / {p['designed']}",
        f"관성, {p['ks'][designed - 1]} / {p['designed']}",
        before / at,
    )
    flat = figures.add(
        "elbow.drop_after",
        f"inertia, {p['designed']} / {p['ks'][designed + 1]}",
        f"관성, {p['designed']} / {p['ks'][designed + 1]}",
        at / after,
    )
    held = drop >= p["min_drop"] and flat <= p["max_after"]
    for label in p["linear"]:
        view = run(runs, label, p["pca_part"])
        reference = analysed(view, "pca_reference")
        ratio = figures.add(
            key(label, "to_pca"),
            f"{label}: validation error / PCA's",
            f"{view.label_ko}: 검증 오차 / PCA의 오차",
            reference["ratio"],
        )
        angle = figures.add(
            key(label, "angle"),
            f"{label}: largest angle to PCA's subspace, degrees",
            f"{view.label_ko}: PCA 부분공간과의 가장 큰 각도 (도)",
            reference["angle_degrees"],
        )
        held = held and ratio <= p["max_ratio"] and angle <= p["max_angle"]
    return figures.verdict(held)
