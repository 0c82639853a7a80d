"""Planning a group without HTTP: dotted changes, grids, labels, names, and where errors point."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainscope.config import Limits
from trainscope.jobs.groups import GroupInvalid, differing, plan, with_changes
from trainscope.schemas.groups import GroupCreate

BASE = {"seed": 2, "data": {"dataset": "xor"}, "optim": {"steps": 50, "eval_every": 10}}

keys = st.text(alphabet="abc", min_size=1, max_size=3)


@given(
    base=st.dictionaries(keys, st.dictionaries(keys, st.integers()), max_size=3),
    path=st.lists(keys, min_size=1, max_size=3).map(".".join),
    value=st.integers(),
)
def test_with_changes_sets_the_path_and_leaves_the_base_alone(
    base: dict[str, dict[str, int]], path: str, value: int
) -> None:
    before = repr(base)
    changed = with_changes(base, {path: value})
    node: object = changed
    for key in path.split("."):
        assert isinstance(node, dict)
        node = node[key]
    assert node == value
    assert repr(base) == before  # a deep copy: the base is not touched


def test_variations_keep_the_base_and_take_labels_or_describe_their_changes() -> None:
    create = GroupCreate(
        name="demo",
        base=BASE,
        variations=[{"label": "plain", "changes": {}}, {"changes": {"model.activation": "relu", "optim.lr": 0.1}}],
    )
    runs = plan([("", create, ("body",))], Limits())
    assert [run.label for run in runs] == ["plain", "activation=relu, lr=0.1"]
    assert [run.spec.name for run in runs] == ["demo · plain", "demo · activation=relu, lr=0.1"]
    assert all(run.spec.seed == 2 and run.spec.data.dataset == "xor" for run in runs)  # type: ignore[union-attr]
    assert runs[1].spec.model.activation == "relu"  # type: ignore[union-attr]
    assert differing([{"changes": run.changes} for run in runs]) == ["model.activation", "optim.lr"]


def test_no_variations_is_one_run_of_the_base() -> None:
    runs = plan([("", GroupCreate(base=BASE), ("body",))], Limits())
    assert [run.label for run in runs] == ["base"]


def test_errors_point_into_the_body_and_the_cap_is_a_setting() -> None:
    create = GroupCreate(base=BASE, grid={"optim.lr": [0.1, -1.0], "optim.batch_size": [8]})
    with pytest.raises(GroupInvalid) as caught:
        plan([("", create, ("body",))], Limits())
    assert [(e.loc, e.kind) for e in caught.value.errors] == [(("body", "grid", "optim", "lr"), "greater_than")]
    with pytest.raises(GroupInvalid, match="at most 1"):
        plan([("", GroupCreate(base=BASE, grid={"optim.lr": [0.1, 0.2]}), ("body",))], Limits(max_group_runs=1))
    misspelled = GroupCreate(base=BASE, grid={"optim.lrr": [0.1, 0.2, 0.3]})  # three runs, one mistake
    with pytest.raises(GroupInvalid) as caught:
        plan([("", misspelled, ("body",))], Limits())
    assert [e.loc for e in caught.value.errors] == [("body", "grid", "optim", "lrr")]
