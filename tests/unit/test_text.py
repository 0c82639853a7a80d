"""Names people write reach pages and terminals as text: no control or format characters are taken, and
what an older database holds is printed escaped."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trainscope.config import Limits
from trainscope.schemas import JobSpec, JobUpdate, spec_errors
from trainscope.schemas.groups import GroupCreate
from trainscope.schemas.text import shown, unprintable

HOSTILE = ["x\x1b]0;pwned\x07", "a\x00b", "a\u202eb", "\ufeffa", "a\rb"]
FINE = ["wide net", "붓꽃 분류", "lr=0.1 · relu", "👨\u200d👩\u200d👧", "نیم\u200cفاصله"]  # noqa: RUF001 (Persian, with its zero-width non-joiner)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_with_an_unprintable_character_is_refused_wherever_one_is_given(name: str) -> None:
    assert unprintable(name)
    [error] = spec_errors(JobSpec(name=name), Limits())  # a stored spec still reads; asking for one is refused
    assert error.loc == ("name",) and error.kind == "unprintable"
    with pytest.raises(ValidationError):
        JobUpdate(name=name)
    with pytest.raises(ValidationError):
        GroupCreate(name=name)


@pytest.mark.parametrize("name", FINE)
def test_names_in_any_script_and_joined_emoji_are_taken(name: str) -> None:
    assert not unprintable(name) and not spec_errors(JobSpec(name=name), Limits())
    assert JobUpdate(name=name).name == name and shown(name) == name


def test_notes_keep_their_lines_and_tabs_but_not_escapes() -> None:
    assert JobUpdate(notes="loss plateaus\n\tat 0.3").notes == "loss plateaus\n\tat 0.3"
    with pytest.raises(ValidationError):
        JobUpdate(notes="\x1b[2J")


def test_a_terminal_is_shown_escapes_never_sent_them() -> None:
    assert shown("x\x1b]0;pwned\x07") == "x\\x1b]0;pwned\\x07"
    assert shown("a\u202eb") == "a\\u202eb"
    assert not unprintable(shown("".join(HOSTILE)))
