"""BATCH messages: parquet files read by DuckDB itself, jsonl files by Arrow, the same types
and values as the RECORD route; no Python object per row."""

from __future__ import annotations

import datetime
import gzip
import io
import json
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from target_duckdb_typed import jobs
from target_duckdb_typed.target import TargetDuckDBTyped

from tests.target_duckdb_typed.helpers import column_types, query, run_target, singer_lines

UTC = datetime.UTC
SCHEMA = {
    "type": "SCHEMA",
    "stream": "spend",
    "key_properties": ["id"],
    "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "amount": {"type": ["number", "null"]},
            "day": {"type": ["string", "null"], "format": "date"},
            "at": {"type": ["string", "null"], "format": "date-time"},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
            "flag": {"type": ["boolean", "null"]},
        },
    },
}
RECORDS: list[dict[str, Any]] = [
    {"id": "a", "amount": Decimal("12345678901234567.89"), "day": "2024-03-01",
     "at": "2024-03-01T12:00:00Z", "tags": ["x", "y"], "flag": True},
    {"id": "b", "amount": Decimal("-0.01"), "day": None, "at": "2024-03-02T00:00:00Z",
     "tags": [], "flag": False},
    {"id": "c", "amount": None, "day": "2024-03-03", "at": None, "tags": None, "flag": None},
    {"id": "a", "amount": Decimal("1.10"), "day": "2024-03-04", "at": None, "tags": ["z"],
     "flag": None},  # the same key again: the later row wins, as with RECORDs
]  # fmt: skip
COLUMNS = 'id, amount, day, "at", tags, flag'


def _json(record: dict[str, Any]) -> str:
    return json.dumps(record, default=str).replace('"12345678901234567.89"', "12345678901234567.89")


def _parquet(path: Path, records: list[dict[str, Any]], amount: pa.DataType) -> None:
    """The records as a tap's parquet batch writer would type them."""
    table = pa.table(
        {
            "id": pa.array([r["id"] for r in records]),
            "amount": pa.array([r["amount"] for r in records], amount),
            "day": pa.array(
                [datetime.date.fromisoformat(r["day"]) if r["day"] else None for r in records],
                pa.date32(),
            ),
            "at": pa.array(
                [datetime.datetime.fromisoformat(r["at"]) if r["at"] else None for r in records],
                pa.timestamp("us", tz="UTC"),
            ),
            "tags": pa.array([r["tags"] for r in records], pa.list_(pa.string())),
            "flag": pa.array([r["flag"] for r in records], pa.bool_()),
        }
    )
    pq.write_table(table, path)


def _batch(files: list[Path], fmt: str, compression: str | None = None) -> dict[str, Any]:
    encoding: dict[str, Any] = {"format": fmt}
    if compression:
        encoding["compression"] = compression
    return {
        "type": "BATCH",
        "stream": "spend",
        "encoding": encoding,
        "manifest": [path.as_uri() for path in files],
    }


def test_parquet_and_jsonl_batches_load_like_records(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    records = singer_lines(SCHEMA) + "".join(
        '{"type":"RECORD","stream":"spend","record":' + _json(r) + "}\n" for r in RECORDS
    )
    assert run_target(warehouse, records, default_target_schema="records").returncode == 0

    # Two parquet files in one BATCH message: one transaction, the second file's row wins.
    first, second = tmp_path / "part-1.parquet", tmp_path / "part-2.parquet"
    _parquet(first, RECORDS[:3], pa.decimal128(20, 2))
    _parquet(second, RECORDS[3:], pa.decimal128(20, 2))
    messages = singer_lines(SCHEMA, _batch([first, second], "parquet"))
    run = run_target(warehouse, messages, default_target_schema="parquet_batch")
    assert run.returncode == 0, run.stderr

    jsonl = tmp_path / "part-1.json.gz"
    with gzip.open(jsonl, "wt", encoding="utf-8") as lines:
        lines.writelines(_json(r) + "\n" for r in RECORDS)
    messages = singer_lines(SCHEMA, _batch([jsonl], "jsonl", "gzip"))
    run = run_target(warehouse, messages, default_target_schema="jsonl_batch")
    assert run.returncode == 0, run.stderr

    expected = [
        ("a", Decimal("1.100000000"), datetime.date(2024, 3, 4), None, ["z"], None),
        ("b", Decimal("-0.010000000"), None, datetime.datetime(2024, 3, 2, tzinfo=UTC), [], False),
        ("c", None, datetime.date(2024, 3, 3), None, None, None),
    ]
    for schema in ("records", "parquet_batch", "jsonl_batch"):
        assert column_types(warehouse, f"{schema}.spend") == column_types(
            warehouse, "records.spend"
        )
        sql = f"select {COLUMNS} from {schema}.spend order by id"  # noqa: S608 - test names
        assert query(warehouse, sql) == expected


def test_a_parquet_value_its_column_cannot_hold_stops_the_batch(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    path = tmp_path / "too-precise.parquet"
    rows = [dict(RECORDS[1]), {**RECORDS[2], "amount": Decimal("1.2345678901")}]
    _parquet(path, rows, pa.decimal128(20, 10))
    run = run_target(warehouse, singer_lines(SCHEMA, _batch([path], "parquet")))
    assert run.returncode == 1
    assert run.errors == [
        "file too-precise.parquet row 2 (stream 'spend', id=c): amount is 1.2345678901, "
        "which DECIMAL(38,9) cannot hold exactly (values are never rounded)"
    ]
    assert query(warehouse, "select count(*) from spend") == [(0,)]  # one transaction


def test_a_parquet_batch_makes_no_python_object_per_row(tmp_path: Path) -> None:
    """Python function calls while 50,000 parquet rows load: a few hundred, not per row."""
    rows = 50_000
    path = tmp_path / "big.parquet"
    _parquet(
        path,
        [
            {"id": f"id-{n}", "amount": Decimal(n) / 100, "day": "2024-01-01",
             "at": "2024-01-01T00:00:00Z", "tags": ["a"], "flag": True}
            for n in range(rows)
        ],
        pa.decimal128(20, 2),
    )  # fmt: skip
    target = TargetDuckDBTyped(config={"filepath": str(tmp_path / "warehouse.duckdb")})
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    messages = io.StringIO(singer_lines(SCHEMA, _batch([path], "parquet")))
    sys.setprofile(count)
    threading.setprofile(count)  # the worker thread starts with the first job
    try:
        target.listen(messages)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    assert query(tmp_path / "warehouse.duckdb", "select count(*) from spend") == [(rows,)]
    assert calls < rows / 10, calls


def test_a_run_of_batch_messages_is_one_transaction_and_keeps_its_order(tmp_path: Path) -> None:
    """Two BATCH messages in a row commit together; a RECORD after them comes after them."""
    warehouse = tmp_path / "warehouse.duckdb"
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    _parquet(good, RECORDS[:3], pa.decimal128(20, 2))
    _parquet(
        bad, [{**RECORDS[1], "id": "d", "amount": Decimal("0.0000000001")}], pa.decimal128(20, 10)
    )
    state = {"type": "STATE", "value": {"spend": "after good"}}
    run = run_target(
        warehouse, singer_lines(SCHEMA, _batch([good], "parquet"), state, _batch([bad], "parquet"))
    )
    assert run.returncode == 1
    assert run.errors[0].startswith("file bad.parquet row 1 (stream 'spend', id=d): amount is ")
    assert run.states == []  # the STATE's rows were in the transaction that failed
    assert query(warehouse, "select count(*) from spend") == [(0,)]

    record = {"type": "RECORD", "stream": "spend", "record": {"id": "a", "amount": 7}}
    run = run_target(warehouse, singer_lines(SCHEMA, _batch([good], "parquet"), state, record))
    assert run.returncode == 0, run.stderr
    assert run.states == [{"spend": "after good"}]
    assert query(warehouse, "select id, amount from spend order by id") == [
        ("a", Decimal("7.000000000")),  # the RECORD, read after the BATCH file, wins
        ("b", Decimal("-0.010000000")),
        ("c", None),
    ]


def test_a_jsonl_file_is_read_a_chunk_at_a_time_as_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of ~2 lines: a key sent again in a later chunk keeps its last row, and a bad
    value in the last chunk leaves nothing of the file committed."""
    monkeypatch.setattr(jobs, "JSONL_CHUNK_BYTES", 200)
    good = tmp_path / "good.jsonl"
    good.write_text("".join(_json(r) + "\n\n" for r in RECORDS))  # blank lines counted too
    warehouse = tmp_path / "warehouse.duckdb"
    target = TargetDuckDBTyped(config={"filepath": str(warehouse)})
    target.listen(io.StringIO(singer_lines(SCHEMA, _batch([good], "jsonl"))))
    assert query(warehouse, f"select {COLUMNS} from spend order by id") == [  # noqa: S608
        ("a", Decimal("1.100000000"), datetime.date(2024, 3, 4), None, ["z"], None),
        ("b", Decimal("-0.010000000"), None, datetime.datetime(2024, 3, 2, tzinfo=UTC), [], False),
        ("c", None, datetime.date(2024, 3, 3), None, None, None),
    ]

    bad = tmp_path / "bad.jsonl"
    rows = [{**r, "id": f"new-{n}"} for n, r in enumerate(RECORDS)]
    rows[-1]["amount"] = Decimal("0.0000000001")
    lines = "".join(_json(r) + "\n" for r in rows)
    bad.write_text(lines.replace('"1E-10"', "0.0000000001"))  # a JSON number
    run = run_target(warehouse, singer_lines(SCHEMA, _batch([bad], "jsonl")))
    assert run.returncode == 1
    assert run.errors == [
        "file bad.jsonl line 4 (stream 'spend', id=new-3): amount 0.0000000001 has 10 digits "
        "after the point; its column is DECIMAL(38,9) and values are never rounded (raise "
        "decimal_scale, or declare the property's scale)"
    ]
    assert query(warehouse, "select count(*) from spend") == [(3,)]
