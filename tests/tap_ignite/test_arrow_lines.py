"""RECORD lines made in Arrow are byte for byte what the SDK's writer makes of the same
records (the Python path, `RecordShaper.parquet_records` then `RecordMessage`), and every
value they cannot reproduce sends its batch to the Python path."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from singer_sdk.contrib.msgspec import encoder
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.singerlib.encoding.simple import RecordMessage
from tap_ignite.arrow_lines import LineBuilder
from tap_ignite.columns import Column
from tap_ignite.snapshot_files import RecordShaper

EXTRACTED = datetime.datetime(2026, 11, 23, 22, 0, 1, 250000, tzinfo=datetime.UTC)
UTC = datetime.UTC


def column(name: str, data_type: str) -> Column:
    return Column(name, name.replace("_", " ").title(), data_type, ())


# (column, Arrow array) pairs that Arrow turns into lines, with every awkward value we know.
CONVERTED: list[tuple[Column, pa.Array]] = [
    (
        column("id", "STRING"),
        pa.array(['SP-"1"', "back\\slash", "Łódź \u2028 \U0001f600", "", None, "/<>&'"]),
    ),
    (
        column("description", "STRING"),
        pa.array(["Line one\nLine two", "a\r\nb", "It's a 'note'\twith a tab", None, "\\n", ""]),
    ),
    (
        column("amount", "MONETARY_AMOUNT"),
        pa.array(
            [
                Decimal("12345678901234567.89"),
                Decimal("-0.10"),
                Decimal("0.00"),
                None,
                Decimal("9007199254740993.01"),
                Decimal("1.00"),
            ],
            pa.decimal128(38, 2),
        ),
    ),
    (
        column("quantity", "NUMBER"),
        pa.array(
            [Decimal("1.500"), None, Decimal("-7.000"), Decimal("0.001"), Decimal("3"), None],
            pa.decimal128(18, 3),
        ),
    ),
    (column("count", "NUMBER"), pa.array([1, -2, None, 2**62, 0, 7], pa.int64())),
    (
        column("invoice_date", "DATE"),
        pa.array([datetime.date(2025, 3, 18), None, datetime.date(1999, 12, 31)] * 2, pa.date32()),
    ),
    (
        column("updated_at", "TIMESTAMP"),
        pa.array(
            [datetime.datetime(2024, 8, 7, 11, 6, 33, tzinfo=UTC), None] * 3,
            pa.timestamp("us", tz="UTC"),
        ),
    ),
    (
        column("fraction_at", "TIMESTAMP"),
        pa.array(
            [datetime.datetime(2024, 8, 7, 11, 6, 33, 125000, tzinfo=UTC), None] * 3,
            pa.timestamp("ms", tz="UTC"),
        ),
    ),
    (
        column("oslo_at", "TIMESTAMP"),
        pa.array(
            [datetime.datetime(2024, 8, 7, 11, 6, 33, tzinfo=UTC)] * 6,
            pa.timestamp("s", tz="Europe/Oslo"),
        ),
    ),
    (column("is_po", "BOOL"), pa.array([True, False, None, True, False, None])),
    (
        column("tags", "STRING_ARRAY"),
        pa.array(
            [["a", "b"], [], None, ['q"uote', None, "\\"], ["Ø"], []],
            pa.list_(pa.string()),
        ),
    ),
    (
        column("cost_center_path", "GROUP_STRUCTURE"),
        pa.array(["A > B", None, '{"x": 1}', "", "C", "D"]),
    ),
]


def python_lines(
    columns: list[Column], names: dict[str, str], path: Path, *, decimal_strings: bool
) -> bytes:
    """What the SDK's per-record loop writes for the records of a parquet file."""
    shaper = RecordShaper(columns, names, decimal_strings=decimal_strings)
    return b"".join(
        bytes(encoder.encode(message.to_dict())) + b"\n"
        for message in (
            RecordMessage(stream="spend", record=r, version=7, time_extracted=EXTRACTED)
            for r in shaper.parquet_records(path)
        )
    )


def write_batch(batch: pa.RecordBatch, path: Path) -> pa.RecordBatch:
    """Write a one-batch parquet file; returns the batch as the tap reads it back."""
    pq.write_table(pa.Table.from_batches([batch]), path)
    return pq.read_table(path).to_batches()[0]


def batch_of(pairs: list[tuple[Column, pa.Array]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([a for _, a in pairs], names=[c.name for c, _ in pairs])


@pytest.mark.parametrize("decimal_strings", [False, True])
@pytest.mark.parametrize("key_by", ["name", "label"])
def test_arrow_lines_are_the_sdk_writers_bytes(
    tmp_path: Path, *, decimal_strings: bool, key_by: str
) -> None:
    columns = [c for c, _ in CONVERTED]
    names = {c.name: (c.label if key_by == "label" else c.name) for c in columns}
    path = tmp_path / "spend.parquet"
    batch = write_batch(batch_of(CONVERTED), path)
    builder = LineBuilder("spend", 7, EXTRACTED, encoder.encode, decimal_strings=decimal_strings)
    lines = builder.lines(columns, [names[c.name] for c in columns], batch)
    assert lines is not None, "every column here is converted in Arrow"
    want = python_lines(columns, names, path, decimal_strings=decimal_strings)
    assert lines.count(b"\n") == batch.num_rows
    assert lines == want
    key = b'"Amount":' if key_by == "label" else b'"amount":'
    digits = b"12345678901234567.89"
    assert key + (b'"%s"' % digits if decimal_strings else digits) in lines


def test_a_sliced_batch_gives_only_its_own_lines(tmp_path: Path) -> None:
    columns = [c for c, _ in CONVERTED]
    names = {c.name: c.name for c in columns}
    whole = batch_of(CONVERTED)
    part = whole.slice(2, 3)
    builder = LineBuilder("spend", 7, EXTRACTED, encoder.encode, decimal_strings=False)
    lines = builder.lines(columns, [c.name for c in columns], part)
    assert lines is not None
    path = tmp_path / "part.parquet"
    write_batch(part, path)
    assert lines == python_lines(columns, names, path, decimal_strings=False)
    assert lines.count(b"\n") == 3


@pytest.mark.parametrize(
    ("col", "array"),
    [
        # Control characters other than newline, return and tab: msgspec's escapes for
        # them are not reproduced in Arrow.
        (column("description", "STRING"), pa.array(["ok\n", "bell\x07"])),
        (column("tags", "STRING_ARRAY"), pa.array([["unit\x1f"], []], pa.list_(pa.string()))),
        # Encoded as JSON text in Python (an unknown dataType that is not a string).
        (column("odd", "GROUP_STRUCTURE"), pa.array([1, 2])),
        # A NUMBER that parquet holds as a float: Python makes a Decimal of its repr.
        (column("quantity", "NUMBER"), pa.array([1.5, 2.25])),
        (column("ratio", "STRING"), pa.array([1.5, 2.25])),
    ],
)
def test_values_arrow_does_not_reproduce_leave_the_batch_to_python(
    col: Column, array: pa.Array
) -> None:
    pairs = [(column("id", "STRING"), pa.array(["a", "b"])), (col, array)]
    builder = LineBuilder("spend", 7, EXTRACTED, encoder.encode, decimal_strings=False)
    names = [c.name for c, _ in pairs]
    assert builder.lines([c for c, _ in pairs], names, batch_of(pairs)) is None
    # A column not in the table's listing also stays in Python.
    assert builder.lines([pairs[0][0], None], names, batch_of(pairs)) is None


def test_parquet_lines_fall_back_per_batch_with_the_same_records(tmp_path: Path) -> None:
    """A file whose second batch has a control character: lines, then records."""
    rows = 25_000
    ids = [f"SP-{i:07d}" for i in range(rows)]
    texts = ["plain"] * rows
    texts[15_000] = "bell\x07"
    table = pa.table(
        {
            "id": ids,
            "description": texts,
            "amount": pa.array([Decimal(i) / 100 for i in range(rows)], pa.decimal128(38, 2)),
        }
    )
    path = tmp_path / "spend-00001.parquet"
    pq.write_table(table, path, row_group_size=10_000)
    columns = [
        column("id", "STRING"),
        column("description", "STRING"),
        column("amount", "MONETARY_AMOUNT"),
    ]
    shaper = RecordShaper(columns, {c.name: c.name for c in columns}, decimal_strings=False)
    builder = LineBuilder("spend", None, None, encoder.encode, decimal_strings=False)
    chunks = list(shaper.parquet_lines(path, builder))
    assert [rows for rows, _ in chunks] == [10_000, 10_000, 5_000]
    kinds = [type(chunk) for _, chunk in chunks]
    assert kinds == [bytes, list, bytes]
    got = b""
    for _, chunk in chunks:
        if isinstance(chunk, bytes):
            got += chunk
        else:
            got += b"".join(
                bytes(encoder.encode({"type": "RECORD", "stream": "spend", "record": r})) + b"\n"
                for r in chunk
            )
    want = b"".join(
        bytes(encoder.encode(RecordMessage(stream="spend", record=r).to_dict())) + b"\n"
        for r in shaper.parquet_records(path)
    )
    assert got == want
    assert b'"description":"bell\\u0007"' in got


def test_a_corrupt_parquet_file_is_one_clear_error_when_made_into_lines(tmp_path: Path) -> None:
    path = tmp_path / "spend-00002.parquet"
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"id": [f"SP-{i}" for i in range(50_000)]}), whole)
    path.write_bytes(whole.read_bytes()[:-200] + b"\0" * 200)  # footer gone
    shaper = RecordShaper([column("id", "STRING")], {"id": "id"}, decimal_strings=False)
    builder = LineBuilder("spend", None, None, encoder.encode, decimal_strings=False)
    with pytest.raises(FatalAPIError, match=r"Export file spend-00002\.parquet is not a readable"):
        list(shaper.parquet_lines(path, builder))
