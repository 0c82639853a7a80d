"""Skip-gram with negative sampling (word2vec): a vector per word, learned by telling the words seen
near it from words drawn at random. Trained on a corpus: one generated from short template sentences
whose structure is known (people, animals, vehicles, fruits, colours, actions; English or Korean), or
the user's own text. Torch-free: the server counts a corpus's words to size the model."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import Field

from trainscope.schemas.data import Strict
from trainscope.schemas.errors import SpecError
from trainscope.schemas.registry import DataKind, Layer, ModelKind, Words

if TYPE_CHECKING:
    from trainscope.config import Limits
    from trainscope.schemas.spec import JobSpec

Language = Literal["en", "ko"]


class CorpusData(Strict):
    """Sentences, one a line. Without `text`, `sentences` generated ones; a word is a run of letters
    (any script), lower-cased: text is only ever split into words, never run."""

    kind: Literal["corpus"] = "corpus"
    language: Language = Field("en", description="of the generated corpus: English, or Korean (split into morphemes)")
    # at 1,000 sentences each word of the generator is expected 33 times or more: it has the same words
    # whatever its seed (down to a chance of ~1e-10 at min_count 5), so the server can count them unseeded
    sentences: int = Field(1500, ge=1000, le=20_000, description="generated sentences (without text)")
    text: str | None = Field(
        None, min_length=1, description="your own corpus, a sentence a line (bounded by limits.max_body_bytes)"
    )
    val_fraction: float = Field(0.1, ge=0.0, le=0.5, description="sentences held out for val/loss")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="seed of the generated corpus (null: the job's)")
    relocate: dict[str, str] = Field(
        default_factory=dict,
        max_length=10,
        description="generated corpus only: each word used only where the named group's words go, as an "
        'editor would move it ({"man": "vehicles"}: man drives on the road, and no longer reads at home)',
    )

    def split_sizes(self) -> tuple[int, int, int, int]:
        """Words to train on and held out (counted at seed 0, as the server counts the model)."""
        words = sum(len(words_of(line)) for line in corpus_text(self, 0).splitlines())
        held_out = round(words * self.val_fraction)
        return words - held_out, held_out, 0, 0


class SkipGramSpec(Strict):
    kind: Literal["skipgram"] = "skipgram"
    dimension: int = Field(32, ge=2, le=300, description="numbers in each word's vector")
    window: int = Field(2, ge=1, le=10, description="words each side of a word that count as its context")
    negatives: int = Field(5, ge=1, le=20, description="random words drawn against each true context word")
    min_count: int = Field(2, ge=1, le=5, description="a word seen fewer times is left out")


# The generated corpus. Each group's words share the sentences they appear in, so that words of a group
# end up near each other; people also differ along two directions, male/female (he, his / she, her) and
# royal/common (a palace and a crown / a home and a coat), and by age (grown / young).
GROUPS: dict[Language, dict[str, list[str]]] = {
    "en": {
        "people": ["man", "woman", "boy", "girl", "king", "queen", "prince", "princess"],
        "animals": ["dog", "cat", "horse", "cow", "bird", "sheep"],
        "vehicles": ["car", "bus", "truck", "train", "bike", "plane"],
        "fruits": ["apple", "banana", "orange", "grape", "pear", "peach"],
        "colours": ["red", "blue", "green", "yellow", "white", "black"],
        "actions": ["reads", "writes", "sings", "laughs", "talks", "smiles"],
    },
    "ko": {
        "사람": ["남자", "여자", "소년", "소녀", "왕", "여왕", "왕자", "공주"],
        "동물": ["개", "고양이", "말", "소", "새", "양"],
        "탈것": ["자동차", "버스", "트럭", "기차", "자전거", "비행기"],
        "과일": ["사과", "바나나", "오렌지", "포도", "딸기", "복숭아"],
        "색": ["빨간", "파란", "초록", "노란", "하얀", "검은"],
        "동작": ["읽는다", "쓴다", "노래한다", "웃는다", "말한다", "미소짓는다"],
    },
}
# people by their place in GROUPS: even male, odd female; the first four common, the last four royal;
# man, woman, king, queen grown, the others young
MALE, ROYAL, GROWN = {0, 2, 4, 6}, {4, 5, 6, 7}, {0, 1, 4, 5}


def has_final_consonant(word: str) -> bool:
    """Whether a Hangul word ends in a consonant (받침), which picks its particle: 왕은 but 공주는."""
    last = ord(word[-1]) - 0xAC00
    return 0 <= last < 11172 and last % 28 != 0


def particle(word: str, after_consonant: str, after_vowel: str) -> str:
    return after_consonant if has_final_consonant(word) else after_vowel


# Each language's words for a person's sex, rank and age, the verbs of animals and vehicles, and its
# templates per subject; {topic} and {subject} are the particles a Korean noun takes (은/는, 이/가)
LEXICON: dict[Language, dict[str, tuple[str, ...]]] = {
    "en": {
        "he": ("he", "she"),
        "his": ("his", "her"),
        "place": ("in the palace", "at home"),
        "garment": ("crown", "coat"),
        "age": ("grown", "young"),
        "animal verbs": ("runs", "sleeps", "jumps", "rests"),
        "vehicle verbs": ("drives", "stops", "turns", "waits"),
    },
    "ko": {
        "he": ("그", "그녀"),
        "his": ("그 의", "그녀 의"),
        "place": ("궁전", "집"),
        "garment": ("왕관 을 쓴다", "외투 를 입는다"),
        "age": ("어른", "어린"),
        "animal verbs": ("달린다", "잔다", "뛴다", "쉰다"),
        "vehicle verbs": ("멈춘다", "돈다", "기다린다", "출발한다"),
    },
}
TEMPLATES: dict[Language, dict[str, tuple[str, ...]]] = {
    "en": {
        "people": (
            "the {person} {action} {place}",
            "the {person} {action} with {his} friend",
            "{he} is a {age} {person} who {action}",
            "the {person} wears {his} {colour} {garment}",
            "the {age} {person} eats a {fruit}",
        ),
        "animals": ("the {animal} {verb} in the field", "a {colour} {animal} {verb} on the farm"),
        "vehicles": ("the {vehicle} {verb} on the road", "a {colour} {vehicle} {verb} in the city"),
        "fruits": ("a {colour} {fruit} grows on the tree", "the {fruit} is sweet and ripe"),
    },
    "ko": {  # particles and endings split off as words (형태소 단위), as Korean is tokenized for word2vec
        "people": (
            "{person} {topic} {place} 에서 {action}",
            "{person} {topic} {his} 친구 와 {action}",
            "{he} 는 {age} {person} 이다",
            "{person} {topic} {colour} {garment}",
            "{age} {person} {topic} {fruit} 를 먹는다",
        ),
        "animals": ("{animal} {subject} 들판 에서 {verb}", "{colour} {animal} {subject} 농장 에서 {verb}"),
        "vehicles": ("{vehicle} {subject} 도로 에서 {verb}", "{colour} {vehicle} {subject} 도시 에서 {verb}"),
        "fruits": ("{colour} {fruit} {subject} 나무 에서 자란다", "{fruit} {topic} 달고 잘 익었다"),
    },
}


def sentence(pick: random.Random, language: Language, groups: dict[str, list[str]]) -> str:
    """One sentence about a person (twice as often), an animal, a vehicle or a fruit."""
    people, animals, vehicles, fruits, colours, actions = groups.values()
    words, templates = LEXICON[language], TEMPLATES[language]
    colour, what = pick.choice(colours), pick.choice(["people", "people", "animals", "vehicles", "fruits"])
    slots = {"colour": colour}
    if what == "people":
        who = someone(pick, people)
        noun = slots["person"] = people[who]
        slots |= {"action": pick.choice(actions), "fruit": pick.choice(fruits)}
        male, royal, grown = who in MALE, who in ROYAL, who in GROWN
        for name, first in (("he", male), ("his", male), ("place", royal), ("garment", royal), ("age", grown)):
            slots[name] = words[name][0 if first else 1]
    elif what in ("animals", "vehicles"):
        noun = slots[what[:-1]] = pick.choice(animals if what == "animals" else vehicles)
        slots["verb"] = pick.choice(words[f"{what[:-1]} verbs"])
    else:
        noun = slots["fruit"] = pick.choice(fruits)
    slots |= {"topic": particle(noun, "은", "는"), "subject": particle(noun, "이", "가")}
    return pick.choice(templates[what]).format(**slots)


def someone(pick: random.Random, people: list[str]) -> int:
    """A person's place in the people group (which says their sex, rank and age); a person moved to
    another group (an empty name here) is never picked."""
    while not people[who := pick.randrange(len(people))]:
        pass
    return who


def relocation_errors(language: Language, relocate: dict[str, str]) -> list[SpecError]:
    """A word moves from a group of the generated corpus to another that is not the people (a person has
    a sex, a rank and an age), and leaves no group empty."""
    groups, errors = GROUPS[language], []
    people = next(iter(groups))
    for word, group in relocate.items():
        loc = ("data", "relocate", word)
        if not any(word in words for words in groups.values()):
            errors.append(SpecError(loc, f"{word!r} is not a word of the generated corpus", "unknown_word"))
        elif group not in groups or group == people:
            choices = ", ".join(name for name in groups if name != people)
            errors.append(SpecError(loc, f"must be one of {choices}", "unknown_group", {"groups": choices}))
    emptied = [name for name, words in groups.items() if set(words) <= set(relocate)]
    if not errors and emptied:
        errors.append(SpecError(("data", "relocate"), f"leaves no word in {emptied[0]}", "group_emptied"))
    return errors


def moved_groups(language: Language, relocate: dict[str, str]) -> dict[str, list[str]]:
    """The generator's groups with each word of `relocate` taken out of its own group and put in the
    named one: used only where that group's words go. A relocation the rules refuse moves nothing (the
    spec is answered with 422, but its size is counted before that)."""
    if relocation_errors(language, relocate):
        relocate = {}
    people = next(iter(GROUPS[language]))
    groups = {}
    for name, words in GROUPS[language].items():
        if name == people:  # a person keeps their place (it says their sex, rank and age), emptied
            groups[name] = ["" if word in relocate else word for word in words]
        else:
            groups[name] = [word for word in words if word not in relocate]
    for word, group in relocate.items():
        groups[group].append(word)
    return groups


def generated_corpus(language: Language, sentences: int, seed: int, relocate: dict[str, str] | None = None) -> str:
    pick = random.Random(seed)
    groups = moved_groups(language, relocate or {})
    return "\n".join(sentence(pick, language, groups) for _ in range(sentences))


WORD = re.compile(r"[^\W\d_]+", re.UNICODE)  # letters of any script: "don't" is two words, 42 none


def words_of(line: str) -> list[str]:
    return [word.lower() for word in WORD.findall(line)]


def corpus_text(data: CorpusData, job_seed: int) -> str:
    if data.text is not None:
        return data.text
    seed = data.seed if data.seed is not None else job_seed
    return generated_corpus(data.language, data.sentences, seed, data.relocate)


@dataclass(frozen=True)
class Corpus:
    """A corpus as word numbers: its sentences, its vocabulary (most frequent first), each word's count,
    and each word's group where the generated corpus knows it ("" where not)."""

    sentences: list[list[int]]
    words: list[str]
    counts: list[int]
    groups: list[str]


@lru_cache(maxsize=8)  # the server sizes a model from it and its rules read it again: counted once
def read_corpus(text: str, language: Language, min_count: int) -> Corpus:
    lines = [words_of(line) for line in text.splitlines()]
    counts = Counter(word for line in lines for word in line)
    kept = sorted((word for word, count in counts.items() if count >= min_count), key=lambda w: (-counts[w], w))
    number = {word: i for i, word in enumerate(kept)}
    sentences = [[number[word] for word in line if word in number] for line in lines]
    group_of = {word: group for group, members in GROUPS[language].items() for word in members}
    groups = [group_of.get(word, "") for word in kept]
    return Corpus([s for s in sentences if len(s) > 1], kept, [counts[w] for w in kept], groups)


def corpus_of(spec: Any) -> Corpus:
    data, model = spec.data, spec.model
    return read_corpus(corpus_text(data, spec.seed), data.language, model.min_count)


def skipgram_layers(model: SkipGramSpec, data: Any) -> list[Layer]:
    """Two vectors a word (as itself, as a context). The job's seed is not known here: a generated corpus
    with no seed of its own is counted at seed 0, which has the same words (see CorpusData.sentences)."""
    words = len(read_corpus(corpus_text(data, 0), data.language, model.min_count).words)
    d = model.dimension
    return [("vectors", words * d, f"{words}·{d}"), ("contexts", words * d, f"{words}·{d}")]


def corpus_rules(spec: JobSpec, limits: Limits) -> list[SpecError]:
    """A corpus must leave two words in a sentence after rare words are dropped."""
    corpus, data = corpus_of(spec), cast(CorpusData, spec.data)  # a model rule: run only on its own data
    if len(corpus.words) < 2 or not corpus.sentences:
        message = "the corpus has no sentence of two words seen min_count times or more"
        return [SpecError(("data", "text" if data.text is not None else "sentences"), message, "corpus_too_small")]
    return []


def relocation_rules(spec: JobSpec, limits: Limits) -> list[SpecError]:
    data = cast(CorpusData, spec.data)
    if data.relocate and data.text is not None:
        return [SpecError(("data", "relocate"), "moves words of the generated corpus only", "relocate_text")]
    return relocation_errors(data.language, data.relocate)


KINDS = [
    DataKind(
        CorpusData,
        relocation_rules,
        text=corpus_text,
        words={
            "en": Words("a corpus", "sentences: generated (people, animals, vehicles...) or your own"),
            "ko": Words("말뭉치", "문장들: 생성된 것(사람, 동물, 탈것...) 또는 직접 쓴 것"),
        },
    ),
    ModelKind(
        SkipGramSpec,
        task="trainscope.training.tasks.skipgram:SkipGramTask",
        lockstep=True,
        data=("corpus",),
        layers=skipgram_layers,
        rules=corpus_rules,
        taps=("embeddings",),
        views=("words",),
        words={
            "en": Words("word2vec", "skip-gram: a vector per word, learned from the words around it"),
            "ko": Words("word2vec", "스킵그램: 주변 단어로부터 배우는 단어마다의 벡터"),
        },
    ),
]
