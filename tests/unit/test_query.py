"""How a runs list's order and conditions are read: figures, settings and columns told apart, numbers
and words compared as each allows, and every mistake a ValueError that says what to write."""

from __future__ import annotations

import pytest

from trainscope.schemas.query import Condition, Field, Order, parse_condition, parse_field, parse_order


def test_a_field_is_a_column_a_setting_or_a_figure() -> None:
    assert parse_field("status") == Field("column", ("status",))
    assert parse_field("optim.lr") == Field("spec", ("optim", "lr"))
    assert parse_field("seed") == Field("spec", ("seed",))
    assert parse_field("val/acc") == Field("summary", ("val/acc",))
    assert parse_field(" step ") == Field("summary", ("step",))


@pytest.mark.parametrize(
    "text",
    ["", "val acc", "x;drop table", "a..b", "nosuch.part", "optim.lr'", '"x"', "a" * 65, "1abc", "a.b.c.d.e.f"],
)
def test_anything_else_is_not_a_field(text: str) -> None:
    with pytest.raises(ValueError, match=r"field|no part"):
        parse_field(text)


def test_a_setting_is_one_that_some_kinds_spec_has() -> None:
    assert parse_field("model.k") == Field("spec", ("model", "k"))  # k-means's
    assert parse_field("model.conv") == Field("spec", ("model", "conv"))  # a CNN's layers: a list
    assert parse_field("data.n_points") == Field("spec", ("data", "n_points"))
    with pytest.raises(ValueError, match=r"no setting 'lrx' in optim \(batch_size, .*lr, optimizer"):
        parse_field("optim.lrx")
    with pytest.raises(ValueError, match="no setting 'nope' in data"):
        parse_field("data.nope")
    for text in ("seed.x", "model.conv.channels"):
        with pytest.raises(ValueError, match="is a value, with no parts"):
            parse_field(text)


def test_orders_and_conditions() -> None:
    assert parse_order("-val/acc") == Order(Field("summary", ("val/acc",)), descending=True)
    assert parse_order("optim.lr") == Order(Field("spec", ("optim", "lr")), descending=False)
    assert parse_condition("val/acc >= 0.9") == Condition(Field("summary", ("val/acc",)), ">=", 0.9)
    assert parse_condition("optim.optimizer=adam") == Condition(Field("spec", ("optim", "optimizer")), "=", "adam")
    assert parse_condition("optim.lr!=1e-3").value == 0.001
    assert parse_condition("name=42") == Condition(Field("column", ("name",)), "=", "42")  # a name is text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("val/acc", "FIELD OP VALUE"),
        ("val/acc>>1", "not a number"),
        ("optim.optimizer<adam", "only with = and !="),
        ("val/acc>nan", "not NaN"),
        ("created>2026", "paging"),
        (">1", "FIELD OP VALUE"),
    ],
)
def test_a_condition_that_cannot_be_met_says_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_condition(text)
