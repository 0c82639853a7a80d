"""The skip-gram kind: its loss's gradients against the closed form, its pairs, the generated corpus (the
same words whatever its seed; Korean particles that agree with their word), its rules, and a short run
whose word vectors group as the corpus was written."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from tests.recorded import recorder
from trainscope.config import Limits
from trainscope.schemas import JobSpec, spec_errors
from trainscope.schemas.decode import floats
from trainscope.schemas.kinds.skipgram import GROUPS, generated_corpus, has_final_consonant, read_corpus, words_of
from trainscope.training.driver import fit
from trainscope.training.tasks.skipgram import context_pairs, negative_sampling_loss


def skipgram(
    data: dict[str, Any] | None = None, steps: int = 600, seed: int = 0, batch_size: int = 256, **model: Any
) -> JobSpec:
    return JobSpec.model_validate(
        {
            "data": {"kind": "corpus", **(data or {})},
            "model": {"kind": "skipgram", **model},
            "optim": {"optimizer": "adam", "lr": 0.01, "batch_size": batch_size, "steps": steps},
            "probes": {"embedding_every": 200, "min_interval_s": 0},
            "seed": seed,
        }
    )


def test_the_gradients_of_the_loss_are_the_closed_form_of_the_paper() -> None:
    """dL/dv_w = (sigmoid(u_o·v_w) - 1) u_o + sum_k sigmoid(u_k·v_w) u_k, dL/du_o = (sigmoid(u_o·v_w) - 1) v_w and
    dL/du_k = sigmoid(u_k·v_w) v_w, each averaged over the pairs and summed where a word comes back."""
    generator = torch.Generator().manual_seed(0)
    words, d, n, k = 7, 5, 12, 3
    vectors = torch.randn(words, d, generator=generator, dtype=torch.float64, requires_grad=True)
    contexts = torch.randn(words, d, generator=generator, dtype=torch.float64, requires_grad=True)
    pairs = (
        torch.randint(words, (n,), generator=generator),
        torch.randint(words, (n,), generator=generator),
        torch.randint(words, (n, k), generator=generator),
    )
    negative_sampling_loss(vectors, contexts, pairs).backward()

    w, o, drawn = pairs
    v, u = vectors.detach(), contexts.detach()
    positive = torch.sigmoid((v[w] * u[o]).sum(-1)) - 1  # (n,)
    negative = torch.sigmoid(torch.einsum("nkd,nd->nk", u[drawn], v[w]))  # (n, k)
    expected_v, expected_u = torch.zeros_like(v), torch.zeros_like(u)
    expected_v.index_add_(0, w, (positive[:, None] * u[o] + torch.einsum("nk,nkd->nd", negative, u[drawn])) / n)
    expected_u.index_add_(0, o, positive[:, None] * v[w] / n)
    expected_u.index_add_(0, drawn.reshape(-1), (negative[..., None] * v[w][:, None, :]).reshape(-1, d) / n)
    assert vectors.grad is not None and contexts.grad is not None
    torch.testing.assert_close(vectors.grad, expected_v)
    torch.testing.assert_close(contexts.grad, expected_u)


def test_context_pairs_are_every_word_within_the_window_both_ways() -> None:
    pairs = context_pairs([[0, 1, 2, 3], [4, 5]], window=2)
    expected = {(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (4, 5)}
    expected |= {(b, a) for a, b in expected}
    assert sorted(map(tuple, pairs.tolist())) == sorted(expected)  # each pair once in each direction


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_generated_corpus_has_the_same_words_whatever_its_seed(language: str) -> None:
    """The server counts the model's parameters without the job's seed (at seed 0): that count holds."""
    vocabularies = {tuple(read_corpus(generated_corpus(language, 1000, s), language, 5).words) for s in range(15)}  # type: ignore[arg-type]
    assert len({frozenset(v) for v in vocabularies}) == 1
    spec = skipgram({"language": language, "sentences": 1000}, seed=7, min_count=5)
    events: list[dict[str, Any]] = []
    fit(skipgram({"language": language, "sentences": 1000}, steps=1, seed=7, min_count=5), recorder(events))
    table = next(e for e in events if e["type"] == "analysis" and e["name"] == "parameters")
    assert table["figures"]["by_formula"] == table["figures"]["by_torch"] == spec.parameter_count()


def test_korean_particles_agree_with_the_word_before_them() -> None:
    assert has_final_consonant("왕") and has_final_consonant("소년") and not has_final_consonant("공주")
    text = generated_corpus("ko", 1000, 0)
    assert "왕 은" in text and "공주 는" in text and "왕 는" not in text and "공주 은" not in text
    assert "개 가" in text and "말 이" in text and "개 이" not in text


def test_text_is_only_split_into_words() -> None:
    assert words_of("<b>Hello</b>, World's 42 왕은!") == ["b", "hello", "b", "world", "s", "왕은"]


def test_a_corpus_too_small_or_of_other_data_is_refused_with_the_field() -> None:
    (error,) = spec_errors(skipgram({"text": "one\ntwo words"}, batch_size=2, min_count=2), Limits())
    assert error.loc == ("data", "text") and error.kind == "corpus_too_small"
    assert spec_errors(skipgram({"text": "two words\ntwo words"}, batch_size=2, min_count=2), Limits()) == []
    (error,) = spec_errors(skipgram({"text": "two words\ntwo words"}, batch_size=5), Limits())
    assert error.kind == "over_train" and error.ctx == {"n": 4}  # a batch of pairs from a corpus of 4 words
    digits = JobSpec.model_validate({"data": {"kind": "digits"}, "model": {"kind": "skipgram"}})
    assert [error.kind for error in spec_errors(digits, Limits())] == ["data_pairing"]


def unit_vectors(event: dict[str, Any]) -> dict[str, np.ndarray]:
    vectors = floats(event["vectors"]).reshape(event["n"], event["width"])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return dict(zip(event["names"], vectors, strict=True))


def test_a_short_run_puts_a_groups_words_together_and_names_every_point() -> None:
    events: list[dict[str, Any]] = []
    result = fit(skipgram(steps=600), recorder(events))
    assert result.status == "done"
    snapshots = [e for e in events if e["type"] == "embedding"]
    last = snapshots[-1]
    assert last["classes"][:6] == ["people", "animals", "vehicles", "fruits", "colours", "actions"]
    assert last["classes"][-1] == "other" and last["names"][0] == "the"  # the most frequent word first
    assert last["labels"][last["names"].index("queen")] == 0 and last["labels"][0] == 6
    assert last["columns"]["count"][0] == str(generated_corpus("en", 1500, 0).split().count("the"))
    assert len(snapshots) == 4 and all(event["names"] == last["names"] for event in snapshots)
    end = unit_vectors(last)
    assert end["man"] @ end["woman"] > end["man"] @ end["car"] + 0.3
    assert result.summary["similarity/within"] > result.summary["similarity/between"] + 0.3
    losses = [p for e in events if e["type"] == "scalars" for p in e["points"] if "val/loss" in p["values"]]
    assert losses[-1]["values"]["val/loss"] < losses[0]["values"]["val/loss"] - 0.5


@pytest.mark.parametrize(
    ("language", "word", "group", "vehicle_sentence"),
    [
        ("en", "man", "vehicles", r"the man \w+ on the road|a \w+ man \w+ in the city"),
        ("ko", "남자", "탈것", r"남자 가 도로 에서 \S+|\S+ 남자 가 도시 에서 \S+"),  # its particle agrees: 가
    ],
)
def test_a_relocated_word_is_used_only_where_its_new_groups_words_go(
    language: Any, word: str, group: str, vehicle_sentence: str
) -> None:
    with_word = [
        line for line in generated_corpus(language, 1000, 0, {word: group}).splitlines() if word in line.split()
    ]
    assert len(with_word) > 20 and all(re.fullmatch(vehicle_sentence, line) for line in with_word)


def test_relocations_are_refused_with_their_reasons() -> None:
    def errors(relocate: dict[str, str], text: str | None = None) -> list[tuple[Any, str]]:
        data: dict[str, Any] = {"relocate": relocate, **({"text": text} if text else {})}
        return [(e.loc, e.kind) for e in spec_errors(skipgram(data, min_count=1, batch_size=2), Limits())]

    assert errors({"man": "vehicles"}) == []
    assert errors({"zebra": "vehicles"}) == [(("data", "relocate", "zebra"), "unknown_word")]
    assert errors({"car": "people"}) == [
        (("data", "relocate", "car"), "unknown_group")
    ]  # a person has a sex, rank, age
    assert errors({"man": "vehicles"}, "my own words\nmy own words") == [(("data", "relocate"), "relocate_text")]
    every_fruit = {fruit: "colours" for fruit in GROUPS["en"]["fruits"]}
    assert errors(every_fruit) == [(("data", "relocate"), "group_emptied")]
