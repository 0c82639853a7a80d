"""Uploaded datasets: a CSV parsed strictly into float32 rows, and a job spec's uploaded data resolved
against the stored tables. No HTTP here."""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainscope.config import Limits
from trainscope.schemas import JobSpec, SpecError, UploadedData, UploadedRows
from trainscope.schemas.datasets import Target
from trainscope.schemas.text import unprintable
from trainscope.store.base import DatasetRecord, RunStore

# a decimal number as spreadsheets write it; Python's float() would also take "nan", "inf" and "1_0"
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# a row of them, joined by NUL (which no CSV field holds: the reader refuses it), spaces around each
NUMBERS = re.compile(rf"\s*{NUMBER.pattern}\s*(?:\x00\s*{NUMBER.pattern}\s*)*")
DELIMITERS = (",", "\t", ";")
MIN_ROWS = 4  # a training and a validation example at the least, and a batch to draw from
MAX_ERRORS = 20  # reported at once: enough to fix a file in one go, never a flood
BLOCK_ROWS = 4096  # rows parsed into Python floats before they become a numpy block


class TableInvalid(ValueError):
    """The upload cannot be stored; `errors` name the line and column (or the query field) of each reason."""

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__("; ".join(e.msg for e in errors))
        self.errors = errors

    def __reduce__(self) -> tuple[type[TableInvalid], tuple[list[SpecError]]]:  # raised in a parser process
        return TableInvalid, (self.errors,)


@dataclass(frozen=True)
class Table:
    columns: list[str]  # the features', in the file's order
    label: str
    target: Target
    classes: list[float | str]  # class i's label (empty for values)
    n_rows: int
    rows: UploadedRows


def cell_error(line: int, column: str, message: str, kind: str, value: str = "") -> SpecError:
    ctx = {"line": line, "column": column, "value": value}
    return SpecError(("body", line, column), f"line {line}, column {column!r}: {message}", kind, ctx)


def parse_csv(data: bytes, label: str | None, target: Target | None, limits: Limits) -> Table:
    """A table from CSV text: a first line naming the columns, then a row per line (comma, tab or
    semicolon separated, as the first line is) of numbers, and a label that is a number or a class's
    name. `label` names the label column (None: the last); `target` says whether a label is a class or a
    value (None: a class when the labels are names, or whole numbers at most limits.max_upload_classes
    of them). Raises TableInvalid."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableInvalid([SpecError(("body",), f"not UTF-8 text (byte {error.start})", "not_utf8")]) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        columns, label_index = check_header(header, label, limits)
        if (nul := text.find("\x00")) >= 0:  # no number or name holds one; the row check joins on it
            raise TableInvalid([nul_error(text, nul, header, delimiter)])
        rows = read_rows(reader, header, label_index, limits)
    except csv.Error as error:
        raise TableInvalid([SpecError(("body", reader.line_num), f"line {reader.line_num}: {error}", "csv")]) from None
    if rows.errors:
        raise TableInvalid(rows.errors)
    if len(rows.labels) < MIN_ROWS:
        message = f"{len(rows.labels)} rows; at least {MIN_ROWS}"
        raise TableInvalid([SpecError(("body",), message, "too_short", {"min_length": MIN_ROWS})])
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused just below
        features = rows.features.astype("<f4")
    if not np.isfinite(features).all():
        row, column = np.argwhere(~np.isfinite(features))[0]
        raise TableInvalid([too_large(rows.lines[row], columns[column])])
    labels, classes, target = label_values(rows.labels, rows.lines, header[label_index], target, limits)
    stored = UploadedRows(features.tobytes(), labels.tobytes())
    return Table(columns, header[label_index], target, classes, len(labels), stored)


def check_header(header: list[str], label: str | None, limits: Limits) -> tuple[list[str], int]:
    """The feature columns and the label column's index, or TableInvalid."""
    if len(header) < 2:
        message = "the first line must name at least two columns (features and a label), separated by commas"
        raise TableInvalid([SpecError(("body", 1), message, "too_few_columns")])
    if all(NUMBER.fullmatch(name) for name in header):
        message = "line 1 must name the columns; it holds numbers (add a first line of column names)"
        raise TableInvalid([SpecError(("body", 1), message, "no_header")])
    if len(header) - 1 > limits.max_upload_features:  # first: every check below is linear in the columns
        message = f"{len(header) - 1} feature columns; at most {limits.max_upload_features}"
        raise TableInvalid([SpecError(("body", 1), message, "too_long", {"max_length": limits.max_upload_features})])
    errors = []
    seen: set[str] = set()
    for position, name in enumerate(header, 1):
        if not name:
            errors.append(SpecError(("body", 1, position), f"line 1: column {position} has no name", "no_name"))
        elif unprintable(name):
            message = f"line 1: column {position}'s name holds {unprintable(name)}"
            errors.append(SpecError(("body", 1, position), message, "unprintable", {"value": name[:40]}))
        elif name in seen:
            errors.append(SpecError(("body", 1, name), f"line 1: column {name!r} is named twice", "duplicate"))
        seen.add(name)
    if label is not None and label not in seen:
        message = f"no column {label!r}; the columns are {', '.join(header)}"
        errors.append(SpecError(("query", "label"), message, "unknown_column", {"column": label}))
    if errors:
        raise TableInvalid(errors[:MAX_ERRORS])
    label_index = header.index(label) if label is not None else len(header) - 1
    return [name for i, name in enumerate(header) if i != label_index], label_index


@dataclass
class Rows:
    features: np.ndarray  # float64, a row per line of the file that holds one
    labels: list[str]  # as written (stripped): a number, or a class's name
    lines: array[int]  # each row's line in the file, to name it in an error
    errors: list[SpecError]


def read_rows(reader: Any, header: list[str], label_index: int, limits: Limits) -> Rows:
    """Every line (blank lines skipped): its features as numbers, its label as written; stops after
    MAX_ERRORS errors or past limits.max_upload_rows. A row's features are checked with one match of the
    whole row (1.5x faster than a match per value, measured here: a server thread holds the interpreter
    while it parses); only a row that fails is looked at value by value, to name what is wrong. Rows
    become numpy blocks as they come: a peak of 8x the file's size, not the 14x of a list of floats."""
    blocks: list[np.ndarray] = []
    block: list[list[float]] = []
    rows = Rows(np.empty((0, len(header) - 1)), [], array("l"), [])
    for fields in reader:
        line = reader.line_num
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            message = f"line {line}: {len(fields)} values, but the first line names {len(header)} columns"
            rows.errors.append(SpecError(("body", line), message, "wrong_length", {"line": line}))
        else:
            label = fields.pop(label_index).strip()
            if NUMBERS.fullmatch("\x00".join(fields)) and label:
                block.append(list(map(float, fields)))
                rows.labels.append(label)
                rows.lines.append(line)
                if len(block) == BLOCK_ROWS:
                    blocks.append(np.array(block))
                    block = []
            else:
                rows.errors += cell_errors(line, header, label_index, fields, label)
        if len(rows.lines) > limits.max_upload_rows:
            too_long = {"max_length": limits.max_upload_rows}
            rows.errors = [SpecError(("body", line), f"more than {limits.max_upload_rows} rows", "too_long", too_long)]
        if len(rows.errors) >= MAX_ERRORS or len(rows.lines) > limits.max_upload_rows:
            break
    rows.features = np.concatenate([*blocks, np.array(block).reshape(-1, len(header) - 1)])
    rows.errors = rows.errors[:MAX_ERRORS]
    return rows


def cell_errors(line: int, header: list[str], label_index: int, features: list[str], label: str) -> list[SpecError]:
    """What is wrong with each value of a row that failed the whole-row check."""
    names = [name for i, name in enumerate(header) if i != label_index]
    errors = []
    for name, field in zip(names, features, strict=True):
        value = field.strip()
        if not NUMBER.fullmatch(value):
            what = "empty" if not value else f"{value[:40]!r} is not a number"
            errors.append(cell_error(line, name, what, "not_a_number", value[:40]))
    if not label:
        errors.append(cell_error(line, header[label_index], "empty", "not_a_number"))
    order = {name: i for i, name in enumerate(header)}
    return sorted(errors, key=lambda error: order[str(error.loc[2])])


def label_values(
    labels: list[str], lines: Sequence[int], column: str, target: Target | None, limits: Limits
) -> tuple[np.ndarray, list[float | str], Target]:
    """Each row's target as float32 (a class index, or the value) and the classes (class i's label).
    Labels that are all numbers are values, or classes when whole; any name among them makes every
    label a class's name."""
    names = [row for row, text in enumerate(labels) if not NUMBER.fullmatch(text)]
    if names:
        if target == "value":
            row = names[0]
            message = f"{labels[row][:40]!r} is not a number (a value to predict)"
            raise TableInvalid([cell_error(lines[row], column, message, "not_a_number", labels[row][:40])])
        if (bad := next((row for row in names if unprintable(labels[row])), None)) is not None:
            message = f"the class name holds {unprintable(labels[bad])}"
            raise TableInvalid([cell_error(lines[bad], column, message, "unprintable", labels[bad][:40])])
        classes: list[float | str] = sorted(set(labels))
        check_classes(len(classes), column, limits)
        index = {name: i for i, name in enumerate(classes)}
        return np.array([index[text] for text in labels], dtype="<f4"), classes, "class"
    values = np.array([float(text) for text in labels])
    if not np.isfinite(values).all():  # 1e999: a class of its own named null, or a value of infinity
        raise TableInvalid([too_large(lines[int(np.argmin(np.isfinite(values)))], column)])
    whole = values == np.round(values)
    distinct = np.unique(values)
    if target is None:
        target = "class" if whole.all() and 2 <= len(distinct) <= limits.max_upload_classes else "value"
    if target == "value":
        with np.errstate(over="ignore"):
            as_float32 = values.astype("<f4")
        if not np.isfinite(as_float32).all():
            raise TableInvalid([too_large(lines[int(np.argmin(np.isfinite(as_float32)))], column)])
        return as_float32, [], target
    if not whole.all():
        row = int(np.argmin(whole))
        message = f"a class is a whole number or a name; {values[row]:g} is not (or upload with target=value)"
        raise TableInvalid([cell_error(lines[row], column, message, "not_a_class", f"{values[row]:g}")])
    check_classes(len(distinct), column, limits)
    return np.searchsorted(distinct, values).astype("<f4"), distinct.tolist(), target


def check_classes(count: int, column: str, limits: Limits) -> None:
    if not 2 <= count <= limits.max_upload_classes:
        message = f"{count} classes in column {column!r}; from 2 to {limits.max_upload_classes}"
        raise TableInvalid([SpecError(("query", "target"), message, "classes", {"n": count})])


def nul_error(text: str, position: int, header: list[str], delimiter: str) -> SpecError:
    """Where the first NUL character stands: its line and the column it falls in."""
    line = text.count("\n", 0, position) + 1
    start = text.rfind("\n", 0, position) + 1
    field = text.count(delimiter, start, position)
    column = header[field] if field < len(header) else f"#{field + 1}"
    return cell_error(line, column, "holds a NUL character (byte 0), which is not text", "nul")


def too_large(line: int, column: str) -> SpecError:
    return cell_error(line, column, "too large (beyond ±3.4e38)", "too_large")


def stored_tables(store: RunStore) -> dict[str, DatasetRecord]:
    """Every stored table's description by id (limits.max_datasets of them at most; no rows): what a
    spec's uploaded data is resolved against."""
    return {record.id: record for record in store.list_datasets()}


def resolve_data(spec: JobSpec, datasets: Mapping[str, DatasetRecord]) -> tuple[JobSpec, list[SpecError]]:
    """The spec with its uploaded data's sizes filled in from the stored table, or the error that there
    is no such table; any other spec as it is."""
    data = spec.data
    if not isinstance(data, UploadedData):
        return spec, []
    record = datasets.get(data.dataset)
    if record is None:
        return spec, [unknown_dataset(data.dataset)]
    return spec.model_copy(update={"data": filled(data, record)}), []


def filled(data: UploadedData, record: DatasetRecord) -> UploadedData:
    """The data spec with what the stored table holds (a client's figures replaced)."""
    sizes = {"n_rows": record.n_rows, "n_features": len(record.columns), "n_classes": len(record.classes)}
    return data.model_copy(update=sizes)


def unknown_dataset(dataset_id: str) -> SpecError:
    message = f"no uploaded dataset {dataset_id!r} (it may have been deleted)"
    return SpecError(("data", "dataset"), message, "unknown_dataset", {"id": dataset_id})
