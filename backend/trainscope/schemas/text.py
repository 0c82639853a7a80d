"""Text people write to name things (a job, a group, a table, its columns and classes): shown on pages as
text and printed by the CLI to terminals, so it holds no control or format characters. A terminal runs
an escape (`\x1b]0;title\x07` retitles the window even through a pipe) and a right-to-left override
(U+202E) makes a name read as another; NUL cuts text short in C."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

# zero-width (non-)joiners are format characters some scripts (Persian, Indic) and emoji need
JOINERS = frozenset("\u200c\u200d")


def unprintable(text: str, allowed: frozenset[str] = JOINERS) -> str:
    """What in the text could not be shown as it is ("an unprintable character U+001B"), or ""."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf") and char not in allowed:
            return f"an unprintable character U+{ord(char):04X}"
    return ""


def printable(text: str) -> str:
    if problem := unprintable(text):
        raise ValueError(f"holds {problem}")
    return text


def printable_lines(text: str) -> str:
    if problem := unprintable(text, JOINERS | {"\n", "\t"}):
        raise ValueError(f"holds {problem} (line breaks and tabs are fine)")
    return text


def shown(text: str) -> str:
    """The text with anything unprintable written as an escape (\\x1b, \\u202e), for a terminal."""
    if not unprintable(text):
        return text
    return "".join(char.encode("unicode_escape").decode() if unprintable(char) else char for char in text)


Name = Annotated[str, Field(max_length=100), AfterValidator(printable)]
Notes = Annotated[str, Field(max_length=2000), AfterValidator(printable_lines)]
