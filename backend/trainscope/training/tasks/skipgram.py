"""Skip-gram with negative sampling (Mikolov et al., 2013): each (word, a word within `window` of it)
pair of the corpus is told apart from `negatives` words drawn from the corpus's counts to the power 3/4,
by the dot product of the word's vector and the other word's context vector. A word's vector is its tap
(`embeddings`), named by the word, coloured by its group where the generated corpus knows it."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
from torch import nn
from torch.nn.functional import logsigmoid

from trainscope.schemas import JobSpec
from trainscope.schemas.kinds.skipgram import GROUPS, Corpus, CorpusData, SkipGramSpec, corpus_of
from trainscope.training.analyses import parameter_table
from trainscope.training.probes import ProbeContext
from trainscope.training.tasks import Emit, Figures, State, Task, call

Pairs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # words, their context words, drawn words (n, k)
VALIDATION_PAIRS = 20_000  # val/loss reads at most this many held-out pairs (a fixed sample, fixed draws)


def context_pairs(sentences: list[list[int]], window: int) -> torch.Tensor:
    """Every (word, context word) pair within `window` of each other in a sentence, as an (n, 2) tensor."""
    pairs = []
    for sentence in sentences:
        ids = np.asarray(sentence)
        for offset in range(1, window + 1):
            if offset < len(ids):
                pairs += [np.stack([ids[:-offset], ids[offset:]], 1), np.stack([ids[offset:], ids[:-offset]], 1)]
    return torch.from_numpy(np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)).long()


def negative_sampling_loss(vectors: torch.Tensor, contexts: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """-log sigmoid(u_o·v_w) - sum_k log sigmoid(-u_k·v_w), averaged over the pairs: v a word's vector, u a context
    vector, o the true context word, k the drawn ones."""
    words, true, drawn = pairs
    v = vectors[words]  # (n, d)
    positive = (v * contexts[true]).sum(-1)
    negative = torch.bmm(contexts[drawn], v.unsqueeze(-1)).squeeze(-1)  # (n, k)
    return -(logsigmoid(positive) + logsigmoid(-negative).sum(-1)).mean()


class WordVectors(nn.Module):
    """Two tables: a word's vector (the embedding) and its vector as a context. Initialized as word2vec
    does: the first small and random, the second zero."""

    def __init__(self, words: int, dimension: int, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        start = (torch.rand(words, dimension, generator=generator) - 0.5) / dimension
        self.vectors = nn.Parameter(start)
        self.contexts = nn.Parameter(torch.zeros(words, dimension))

    def forward(self, words: torch.Tensor, true: torch.Tensor, drawn: torch.Tensor) -> torch.Tensor:
        return negative_sampling_loss(self.vectors, self.contexts, (words, true, drawn))

    def parameters_per_layer(self) -> list[int]:
        return [self.vectors.numel(), self.contexts.numel()]


class SkipGramTask(Task):
    model: WordVectors

    def __init__(self, spec: JobSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        model, data = spec.model, cast(CorpusData, spec.data)  # the rules pair a skip-gram with a corpus
        assert isinstance(model, SkipGramSpec) and isinstance(data, CorpusData)
        self.language = data.language
        self.corpus = corpus_of(spec)
        sentences = self.corpus.sentences
        order = np.random.default_rng(spec.seed).permutation(len(sentences))
        held_out = round(data.val_fraction * len(sentences)) if len(sentences) > 1 else 0
        train = [sentences[i] for i in order[held_out:]]
        validation = [sentences[i] for i in order[:held_out]]
        self.pairs = context_pairs(train, model.window).to(device)
        counts = torch.tensor(self.corpus.counts, dtype=torch.float64)
        self.noise = (counts**0.75 / (counts**0.75).sum()).float().to(device)
        self.generator = torch.Generator(device=device).manual_seed(spec.seed)
        self.batch_size, self.negatives = spec.optim.batch_size, model.negatives
        self.model = WordVectors(len(self.corpus.words), model.dimension, spec.seed).to(device)
        self.validation = self.fixed_draws(context_pairs(validation, model.window).to(device))

    def fixed_draws(self, pairs: torch.Tensor) -> Pairs | None:
        """Held-out pairs, with their drawn words drawn once (so that val/loss moves only with the model)."""
        if not len(pairs):
            return None
        generator = torch.Generator(device=self.device).manual_seed(self.spec.seed + 1)
        if len(pairs) > VALIDATION_PAIRS:
            pairs = pairs[torch.randperm(len(pairs), generator=generator, device=self.device)[:VALIDATION_PAIRS]]
        drawn = self.draw(len(pairs), generator)
        return pairs[:, 0], pairs[:, 1], drawn

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.multinomial(self.noise, n * self.negatives, replacement=True, generator=generator).view(n, -1)

    def begin(self, emit: Emit) -> None:
        emit(parameter_table(self.model, self.spec))

    def batch(self) -> Pairs:
        index = torch.randint(len(self.pairs), (self.batch_size,), generator=self.generator, device=self.device)
        chosen = self.pairs[index]
        return chosen[:, 0], chosen[:, 1], self.draw(self.batch_size, self.generator)

    def loss(self, state: State, batch: Pairs, measure: bool) -> tuple[torch.Tensor, Figures]:
        return call(self.model, state, *batch), {}

    def probe_context(self) -> ProbeContext:
        """The most frequent words (up to probe_size), each named, coloured by its group."""
        corpus, other = self.corpus, OTHER[self.language]
        n = min(len(corpus.words), self.spec.probes.probe_size)
        classes = [*(group for group in GROUPS[self.language] if group in corpus.groups), other]
        labels = torch.tensor([classes.index(group or other) for group in corpus.groups[:n]], device=self.device)

        def taps(inputs: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"embeddings": self.model.vectors.detach()[inputs.long().reshape(-1)]}

        words = torch.arange(n, device=self.device).reshape(-1, 1)
        counts = {"count": [str(count) for count in corpus.counts[:n]]}
        return ProbeContext(self.spec, words, labels, taps, names=corpus.words[:n], classes=classes, columns=counts)

    def evaluation(self, final: bool) -> dict[str, float]:
        """The held-out sentences' loss (fixed draws), and the mean cosine similarity of two words of the
        same group and of two words of different groups (where the corpus's words have groups)."""
        figures: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            if self.validation is not None:
                figures["val/loss"] = negative_sampling_loss(self.model.vectors, self.model.contexts, self.validation)
            figures.update(group_similarity(self.model.vectors, self.corpus))
        values = torch.stack(list(figures.values())).tolist() if figures else []
        return dict(zip(figures, values, strict=True))


OTHER = {"en": "other", "ko": "기타"}  # the group of a word the generator does not know


def group_similarity(vectors: torch.Tensor, corpus: Corpus) -> dict[str, torch.Tensor]:
    """similarity/within and similarity/between: mean cosines over pairs of grouped words."""
    grouped = [i for i, group in enumerate(corpus.groups) if group]
    groups = [corpus.groups[i] for i in grouped]
    if len(set(groups)) < 2:
        return {}
    unit = nn.functional.normalize(vectors[grouped], dim=1)
    cosines = unit @ unit.T
    codes = torch.tensor([sorted(set(groups)).index(g) for g in groups], device=vectors.device)
    same = codes[:, None] == codes[None, :]
    pairs = ~torch.eye(len(grouped), dtype=torch.bool, device=vectors.device)
    return {"similarity/within": cosines[same & pairs].mean(), "similarity/between": cosines[~same].mean()}
