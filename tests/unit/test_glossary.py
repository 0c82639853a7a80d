"""One Korean term per concept: every Korean line of the lessons, their checks and the page is read, and
a variant the glossary (lessons/glossary.toml) names for a concept fails, with the term to use."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from trainscope.lessons.catalog import CATALOG_DIR

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = CATALOG_DIR.parent / "glossary.toml"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SOURCES = [
    *sorted(CATALOG_DIR.glob("*.toml")),
    *sorted((CATALOG_DIR.parent / "checks").glob("*.py")),
    ROOT / "backend" / "trainscope" / "frontend" / "js" / "i18n.js",
    ROOT / "backend" / "trainscope" / "frontend" / "index.html",
    ROOT / "backend" / "trainscope" / "frontend" / "lessons.html",
]


def terms() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = tomllib.loads(GLOSSARY.read_text())["terms"]
    return found


def variants_in(line: str, glossary: list[dict[str, Any]]) -> list[str]:
    """What the line says with a word the glossary does not use for its concept."""
    wrong = []
    for term in glossary:
        text = line
        for phrase in term.get("allow", []):
            text = text.replace(phrase, "")
        wrong += [f"{variant!r} for {term['en']}: write {term['ko']!r}" for variant in term["not"] if variant in text]
    return wrong


def test_every_korean_line_uses_the_glossarys_term_for_each_concept() -> None:
    glossary = terms()
    wrong = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if HANGUL.search(line):
                wrong += [f"{path.name}:{number}: {problem}" for problem in variants_in(line, glossary)]
    assert not wrong, "\n".join(wrong)
    assert sum(1 for path in SOURCES for line in path.read_text().splitlines() if HANGUL.search(line)) > 300


def test_a_variant_is_found_and_a_phrase_of_another_concept_is_not() -> None:
    glossary = terms()
    assert variants_in("각 합성곱의 특징 맵", glossary) == [
        "'특징 맵' for feature map: write '특성 맵'",
        "'특징' for feature: write '특성'",
    ]
    assert variants_in("정규화 없음", glossary)  # regularization is 규제
    assert not variants_in("배치 정규화가 있으면 유닛이 정규화되고", glossary)  # batch norm's own word
    assert not variants_in("경사 하강법은 기울기를 따라간다", glossary)
    assert len({term["ko"] for term in glossary}) == len(glossary)  # one term, one concept
