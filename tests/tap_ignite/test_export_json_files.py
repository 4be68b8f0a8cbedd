"""JSON export files are read item by item from disk, in chunks: any chunk boundary gives the
same rows, every digit kept; a broken file is a clear error, not a hang or a partial read."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from singer_sdk.exceptions import FatalAPIError
from tap_ignite.columns import Column
from tap_ignite.json_array import JSONArrayError, iter_json_array
from tap_ignite.snapshot_files import RecordShaper

ROWS = [
    {
        "id": f"SP-{i:07d}",
        "amount": "AMOUNT",
        "description": 'Consulting \u2013 Q3 "Phase 2", travel; [x] {y}\nLine two, 請求書',
        "tags": ["capex", "opex"] if i % 2 else [],
        "quantity": i,
        "is_po": i % 3 == 0,
        "due_date": None,
    }
    for i in range(1, 400)
]


def export_text() -> str:
    # Numbers as the API writes them: exact digits, which json.dumps of a float would not keep.
    items = [json.dumps(row, ensure_ascii=False) for row in ROWS]
    items = [item.replace('"AMOUNT"', "12345678901234567.89") for item in items]
    return "[\n" + ",\n".join(items) + "\n]\n"


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 100, 4096, 1 << 20])
def test_every_chunk_size_gives_the_same_rows(tmp_path: Path, chunk_bytes: int) -> None:
    path = tmp_path / "spend-00001.json"
    path.write_text(export_text(), encoding="utf-8")
    with path.open("rb") as stream:
        rows = list(iter_json_array(stream, chunk_bytes))
    assert len(rows) == len(ROWS)
    assert all(row["amount"] == Decimal("12345678901234567.89") for row in rows)
    assert all(str(row["amount"]) == "12345678901234567.89" for row in rows)
    expected = [{k: v for k, v in row.items() if k != "amount"} for row in ROWS]
    assert [{k: v for k, v in row.items() if k != "amount"} for row in rows] == expected


@pytest.mark.parametrize("chunk_bytes", [1, 2, 5])
def test_numbers_split_across_chunks_keep_their_digits(tmp_path: Path, chunk_bytes: int) -> None:
    path = tmp_path / "numbers.json"
    path.write_bytes(b" [ 1, 2.50 ,3e2,-12345678901234567.89,true,null ] \n")
    with path.open("rb") as stream:
        values = list(iter_json_array(stream, chunk_bytes))
    assert values == [
        1,
        Decimal("2.50"),
        Decimal("3E+2"),
        Decimal("-12345678901234567.89"),
        True,
        None,
    ]
    assert str(values[1]) == "2.50"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "expected a JSON array ('[') at the start"),
        (b'{"id": 1}', "expected a JSON array ('[') at the start"),
        (b'[{"id": 1},', "the array is not closed"),
        (b'[{"id": 1} {"id": 2}]', "expected ',' or ']' at character 11"),
        (b'[{"id": }]', "invalid JSON near character 8: Expecting value"),
        (b'[{"id": 1}] trailing', "unexpected data after the array at character 12"),
        (b'[{"id": 1},]', "invalid JSON near character 11: Expecting value"),
    ],
)
def test_a_broken_file_is_a_clear_error(tmp_path: Path, content: bytes, error: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with path.open("rb") as stream, pytest.raises(JSONArrayError, match=re.escape(error)):
        list(iter_json_array(stream, 3))


def test_the_shaper_names_the_file_a_broken_row_comes_from(tmp_path: Path) -> None:
    path = tmp_path / "spend-00002.json"
    path.write_bytes(b'[{"id": "SP-1"}, 42]')
    shaper = RecordShaper([Column("id", "ID", "STRING", ())], {"id": "id"}, decimal_strings=False)
    with pytest.raises(
        FatalAPIError,
        match=r"Export file spend-00002.json is not a JSON array of rows: an item is a int",
    ):
        list(shaper.json_records(path))
