"""Uploaded CSV tables: parsed strictly into float32 rows, every refusal naming its line and column; a
spec's uploaded data resolved against the stored tables."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from trainscope.config import Limits
from trainscope.jobs.uploads import MAX_ERRORS, TableInvalid, parse_csv, resolve_data
from trainscope.schemas import JobSpec, UploadedData, spec_errors
from trainscope.store.base import DatasetRecord

LIMITS = Limits()
IRIS_LIKE = b"sepal,petal,kind\n5.1,1.4,0\n7.0,4.7,1\n6.3,6.0,2\n4.9,1.4,0\n6.4,4.5,1\n5.8,5.1,2\n"


def features(table_rows: bytes, n_features: int) -> np.ndarray:
    return np.frombuffer(table_rows, dtype="<f4").reshape(-1, n_features)


def refusal(data: bytes, label: str | None = None, target: str | None = None, limits: Limits = LIMITS) -> list:
    with pytest.raises(TableInvalid) as caught:
        parse_csv(data, label, target, limits)  # type: ignore[arg-type]
    return [(e.loc, e.msg, e.kind) for e in caught.value.errors]


def test_a_table_of_numbers_becomes_float32_features_and_class_indices() -> None:
    table = parse_csv(IRIS_LIKE, None, None, LIMITS)
    assert (table.columns, table.label, table.target, table.n_rows) == (["sepal", "petal"], "kind", "class", 6)
    assert table.classes == [0.0, 1.0, 2.0]
    assert features(table.rows.features, 2)[2].tolist() == pytest.approx([6.3, 6.0])
    assert np.frombuffer(table.rows.labels, dtype="<f4").tolist() == [0, 1, 2, 0, 1, 2]


def test_any_whole_labels_are_classes_in_sorted_order_and_fractions_are_values() -> None:
    data = b"a,b,y\n" + b"".join(f"{i},{-i},{label}\n".encode() for i, label in enumerate([7, -3, 7, 12, -3]))
    table = parse_csv(data, None, None, LIMITS)
    assert table.classes == [-3.0, 7.0, 12.0]  # class i is classes[i]
    assert np.frombuffer(table.rows.labels, dtype="<f4").tolist() == [1, 0, 1, 2, 0]
    values = parse_csv(b"a,y\n1,0.5\n2,-1.25\n3,2e3\n4,.5\n", None, None, LIMITS)
    assert (values.target, values.classes) == ("value", [])
    assert np.frombuffer(values.rows.labels, dtype="<f4").tolist() == [0.5, -1.25, 2000.0, 0.5]
    as_values = parse_csv(IRIS_LIKE, None, "value", LIMITS)  # asked for: whole labels to predict as numbers
    assert as_values.target == "value" and as_values.classes == []


def test_the_label_may_be_any_column_and_the_rest_are_features_in_file_order() -> None:
    table = parse_csv(IRIS_LIKE, "sepal", "value", LIMITS)
    assert (table.columns, table.label) == (["petal", "kind"], "sepal")
    assert features(table.rows.features, 2)[0].tolist() == pytest.approx([1.4, 0.0])


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfa;b;y\n1;2;0\n3;4;1\n5;6;0\n7;8;1\n",  # a spreadsheet's BOM and semicolons
        b"a\tb\ty\r\n1\t2\t0\r\n3\t4\t1\r\n\r\n5\t6\t0\r\n7\t8\t1\r\n",  # tabs, CRLF, a blank line
        b'"a","b","y"\n" 1 ",2,0\n3,+4,1\n5,6.,0\n7,8e0,1\n',  # quoted fields, spaces, signs
    ],
)
def test_the_ways_spreadsheets_write_csv_are_read_alike(data: bytes) -> None:
    table = parse_csv(data, None, None, LIMITS)
    assert table.columns == ["a", "b"] and table.n_rows == 4
    assert features(table.rows.features, 2).tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]


def test_a_value_that_is_not_a_number_is_refused_at_its_line_and_column() -> None:
    errors = refusal(b"x,y,label\n1,2,0\n3,abc,1\n5,,0\n6,7,1\n")
    assert errors == [
        (("body", 3, "y"), "line 3, column 'y': 'abc' is not a number", "not_a_number"),
        (("body", 4, "y"), "line 4, column 'y': empty", "not_a_number"),
    ]


@pytest.mark.parametrize("word", ["nan", "inf", "-Infinity", "1_000", "0x1F", "1,5"])
def test_what_python_would_take_for_a_float_is_not_a_number_here(word: str) -> None:
    data = f'x,y\n1,0\n2,1\n"{word}",0\n4,1\n'.encode()
    [(loc, message, kind)] = refusal(data)
    assert loc == ("body", 4, "x") and kind == "not_a_number" and word in message


def test_a_row_of_the_wrong_length_and_a_headerless_file_are_refused() -> None:
    assert refusal(b"x,y\n1,0\n2,1,5\n3,0\n4,1\n") == [
        (("body", 3), "line 3: 3 values, but the first line names 2 columns", "wrong_length")
    ]
    [(loc, message, kind)] = refusal(b"1,0\n2,1\n3,0\n")
    assert loc == ("body", 1) and kind == "no_header" and "name the columns" in message
    [(_, _, kind)] = refusal(b"x\n1\n2\n3\n4\n")
    assert kind == "too_few_columns"
    assert [e[2] for e in refusal(b"x,,x\n1,2,0\n")] == ["no_name", "duplicate"]


def test_the_file_must_be_utf8_and_a_broken_quote_is_named() -> None:
    assert refusal(b"x,y\n1,\xff\n") == [(("body",), "not UTF-8 text (byte 6)", "not_utf8")]
    [(loc, _, kind)] = refusal(b'x,y\n1,0\n2,"1\n')
    assert kind == "csv" and loc[0] == "body"


def test_errors_are_reported_together_but_never_more_than_a_screenful() -> None:
    data = b"x,y\n" + b"a,0\n" * 100
    errors = refusal(data)
    assert len(errors) == MAX_ERRORS and errors[0][0] == ("body", 2, "x") and errors[-1][0] == ("body", 21, "x")


def test_each_limit_is_a_setting_and_names_itself() -> None:
    small = Limits(max_upload_rows=5, max_upload_features=2, max_upload_classes=3)
    [(loc, message, kind)] = refusal(b"x,y\n" + b"1,0\n2,1\n" * 3, limits=small)
    assert (loc, message, kind) == (("body", 7), "more than 5 rows", "too_long")
    [(_, message, _)] = refusal(b"a,b,c,y\n1,2,3,0\n", limits=small)
    assert message == "3 feature columns; at most 2"
    [(loc, message, _)] = refusal(b"x,y\n1,0\n2,1\n3,2\n4,3\n", target="class", limits=small)
    assert loc == ("query", "target") and message == "4 classes in column 'y'; from 2 to 3"
    assert parse_csv(b"x,y\n1,0\n2,1\n3,2\n4,3\n", None, None, small).target == "value"  # too many to be classes


def test_labels_that_cannot_be_classes_or_values_are_refused() -> None:
    [(loc, message, kind)] = refusal(b"x,y\n1,0\n2,1.5\n3,0\n4,1\n", target="class")
    assert (loc, kind) == (("body", 3, "y"), "not_a_class") and "1.5" in message
    [(loc, _, kind)] = refusal(b"x,y\n1,1\n2,1\n3,1\n4,1\n", target="class")
    assert (loc, kind) == (("query", "target"), "classes")
    [(loc, message, _)] = refusal(IRIS_LIKE, label="species")
    assert loc == ("query", "label") and message == "no column 'species'; the columns are sepal, petal, kind"
    [(loc, message, kind)] = refusal(b"x,y\n1,0\n1e39,1\n3,0\n4,1\n")
    assert (loc, kind) == (("body", 3, "x"), "too_large")
    assert refusal(b"x,y\n1,0\n2,1\n")[0][2] == "too_short"


def stored(dataset_id: str, classes: list[float]) -> DatasetRecord:
    created = datetime(2026, 11, 26, tzinfo=UTC)
    return DatasetRecord(dataset_id, "t", created, 120, ["a", "b", "c"], "y", "class", classes, 4000)


def test_a_spec_names_a_stored_table_and_the_server_fills_in_what_it_holds() -> None:
    spec = JobSpec.model_validate({"data": {"kind": "uploaded", "dataset": "0123456789ab", "n_rows": 5}})
    resolved, errors = resolve_data(spec, {"0123456789ab": stored("0123456789ab", [0.0, 1.0, 2.0])})
    assert errors == [] and isinstance(resolved.data, UploadedData)
    assert (resolved.data.n_rows, resolved.data.n_features, resolved.data.n_outputs) == (120, 3, 3)
    assert spec_errors(resolved, LIMITS) == []
    assert resolved.layer_parameters()[0] == ("layer1", 3 * 8 + 8, "3·8 + 8")
    _, [error] = resolve_data(spec, {})
    assert (error.loc, error.kind) == (("data", "dataset"), "unknown_dataset")


def test_a_value_table_is_regression_and_only_a_two_feature_table_is_a_plane() -> None:
    data = UploadedData(dataset="0123456789ab", n_rows=50, n_features=2, n_classes=0)
    assert data.regression and data.n_outputs == 1
    spec = JobSpec(data=data.model_copy(update={"n_features": 3, "n_classes": 2}), probes={"query_points": [[0, 0]]})
    assert [e.kind for e in spec_errors(spec, LIMITS)] == ["only_2d"]
    with pytest.raises(RuntimeError, match="rows of uploaded dataset 0123456789ab were not given"):
        data.rows()


def test_class_names_are_classes_in_sorted_order() -> None:
    data = b"petal,width,species\n1.4,0.2,setosa\n4.7,1.4,versicolor\n6.0,2.5,virginica\n1.3,0.2,setosa\n,,\n"
    table = parse_csv(data, None, None, LIMITS)
    assert (table.target, table.classes, table.n_rows) == ("class", ["setosa", "versicolor", "virginica"], 4)
    assert np.frombuffer(table.rows.labels, dtype="<f4").tolist() == [0, 1, 2, 0]
    mixed = parse_csv(b"x,y\n1,0\n2,1\n3,cat\n4,0\n", None, None, LIMITS)  # one name: every label is a name
    assert mixed.classes == ["0", "1", "cat"]


def test_a_name_is_no_value_to_predict_and_an_empty_label_is_named_in_column_order() -> None:
    data = b"species,x,y\nsetosa,1,2\nversicolor,3,4\nvirginica,5,6\nsetosa,7,8\n"
    [(loc, message, _)] = refusal(data, label="species", target="value")
    assert (
        loc == ("body", 2, "species")
        and message == "line 2, column 'species': 'setosa' is not a number (a value to predict)"
    )
    table = parse_csv(data, "species", None, LIMITS)
    assert table.columns == ["x", "y"] and table.classes == ["setosa", "versicolor", "virginica"]
    errors = refusal(b"y,a,b\n1,2,3\n,x,4\n0,1,2\n1,1,1\n", label="y")
    assert [loc for loc, _, _ in errors] == [("body", 3, "y"), ("body", 3, "a")]


@pytest.mark.parametrize(
    ("data", "where", "kind"),
    [
        (b"a,b,y\n1,2,0\n1\x002,3,1\n", ("body", 3, "a"), "nul"),  # a NUL between digits
        (b"a,b,y\n1,2,0\n1,2,c\x00\n", ("body", 3, "y"), "nul"),  # in a class name
        (b"a\x00,b,y\n1,2,0\n", ("body", 1, 1), "unprintable"),  # in a column name
        (b"a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1e999\n", ("body", 5, "y"), "too_large"),  # no class called null
        (b"a,b,y\n1,2,0.5\n3,4,1\n5,6,0\n7,8,-1e999\n", ("body", 5, "y"), "too_large"),  # no infinite value
        ("\ufeff\ufeffa,b,y\n1,2,0\n".encode(), ("body", 1, 1), "unprintable"),  # a second BOM
        (b"a,\x1b]0;pwned\x07,y\n1,2,0\n", ("body", 1, 2), "unprintable"),  # a terminal's escape in a name
        ("a,b,y\n1,2,x\u202ey\n3,4,z\n5,6,x\n7,8,z\n".encode(), ("body", 2, "y"), "unprintable"),  # right-to-left
    ],
)
def test_nul_infinite_labels_and_unprintable_names_are_refused_at_their_line_and_column(
    data: bytes, where: tuple, kind: str
) -> None:
    [(loc, message, found)] = refusal(data)
    assert (loc, found) == (where, kind), message


def test_the_header_check_is_linear_in_the_columns() -> None:
    many = Limits(max_upload_features=200_000)
    header = ",".join(f"c{i}" for i in range(100_000)) + ",c0\n"  # 10^5 columns, the last a repeat
    [(loc, _, kind)] = refusal(header.encode() + b"1\n", limits=many)  # quadratic took ~3 min here
    assert (loc, kind) == (("body", 1, "c0"), "duplicate")
    assert refusal(header.encode())[0][2] == "too_long"  # past the limit: refused before any other check
