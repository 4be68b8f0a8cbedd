"""Values arrive exactly: digits, strings, dates; nested records arrive flat."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.target_ignite.helpers import (
    DATA,
    Num,
    config_for,
    imports_of,
    rows_exact,
    run_target,
    singer_records,
)

SPEND_FIELDS = [
    "Id", "SupplierName", "Amount", "Currency", "Description", "Approved", "AccountingDate",
    "PostedAt",
]  # fmt: skip


def test_json_import_keeps_every_digit_and_character(ignite, new_repository, tmp_path):
    repository = new_repository(SPEND_FIELDS)
    source = DATA / "exact_values.singer"

    run = run_target(config_for(ignite, repository_id=repository["id"]), source, tmp_path)

    assert run.returncode == 0, run.stderr
    rows = rows_exact(ignite, repository["id"])
    # Same rows, same order, every number with the digits the file has (1.10 stays 1.10).
    assert rows == singer_records(source)
    assert rows[0]["Amount"] == Num("12345678901234567890.123456789")
    assert rows[3]["Amount"] == Num("0.0000001")
    assert rows[7]["Amount"] == Num("0.00")
    assert rows[1]["Description"] == "line one\nline two\r\nline three"
    assert run.states == [{"bookmarks": {"spend": {"replication_key_value": 8}}}]
    (only,) = imports_of(ignite, repository["id"])
    assert only["kind"] == "json"
    assert only["rows"] == 8


def test_nested_objects_become_columns_and_arrays_json_strings(ignite, new_repository, tmp_path):
    repository = new_repository(
        ["id", "supplier__name", "supplier__address__city", "supplier__address__geo__lat",
         "tags", "lines", "extra"]
    )  # fmt: skip

    run = run_target(
        config_for(ignite, repository_id=repository["id"], unknown_fields="error"),
        DATA / "nested_records.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    first, second = rows_exact(ignite, repository["id"])
    assert first == {
        "id": Num("1"),
        "supplier__name": "Acme",
        "supplier__address__city": "Oslo",
        "supplier__address__geo__lat": Num("59.913868"),
        "tags": '["it","hardware"]',
        "lines": '[{"sku":"A-1","amount":12.30},{"sku":"B-2","amount":0.0001}]',
        "extra": '{"po":"PO-7","approved_by":{"name":"Kari"}}',
    }
    # The JSON strings parse back to the nested values, digits intact.
    assert json.loads(first["lines"], parse_float=str)[0]["amount"] == "12.30"
    assert second["tags"] == "[]"
    assert second["extra"] == "{}"
    assert second["supplier__name"] == 'Beta "B"'


def test_flattening_depth_and_separator_are_settings(ignite, new_repository, tmp_path):
    repository = new_repository(
        ["id", "supplier.name", "supplier.address", "tags", "lines", "extra"]
    )

    run = run_target(
        config_for(
            ignite,
            repository_id=repository["id"],
            flattening_max_depth=1,
            flattening_separator=".",
            unknown_fields="error",
        ),
        DATA / "nested_records.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    first = rows_exact(ignite, repository["id"])[0]
    assert first["supplier.name"] == "Acme"
    # Deeper than the depth: one JSON string, numbers digit for digit.
    assert first["supplier.address"] == '{"city":"Oslo","geo":{"lat":59.913868}}'


def _as_csv_text(value):
    """What a CSV cell holds for a JSON value (CSV has strings only)."""
    if isinstance(value, Num):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


@pytest.mark.parametrize("import_format", ["ndjson", "csv"])
def test_file_imports_keep_every_digit_and_character(
    import_format, ignite, new_repository, tmp_path
):
    repository = new_repository(SPEND_FIELDS)
    source = DATA / "exact_values.singer"

    run = run_target(
        config_for(ignite, repository_id=repository["id"], import_format=import_format),
        source,
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    (only,) = imports_of(ignite, repository["id"])
    assert (only["kind"], only["format"], only["rows"]) == ("file", import_format, 8)
    rows = rows_exact(ignite, repository["id"])
    expected = singer_records(source)
    if import_format == "csv":
        # Column order is the schema's; every number's text is the file's own.
        expected = [{k: _as_csv_text(v) for k, v in record.items()} for record in expected]
        assert rows[0]["Amount"] == "12345678901234567890.123456789"
        assert rows[3]["Amount"] == "0.0000001"
        assert rows[2]["Amount"] == "1.10"
    assert rows == expected


def test_batch_messages_are_imported_exactly(ignite, new_repository, tmp_path):
    """A tap's BATCH message: the SDK reads the gzip JSONL file, the target imports it."""
    repository = new_repository(["Id", "Period", "SupplierName", "Amount"])
    batch_file = tmp_path / "spend-0001.jsonl.gz"
    with gzip.open(batch_file, "wt", encoding="utf-8") as out:
        out.write('{"Id":1,"Period":"2026-08","SupplierName":"Bätch \\"one\\"","Amount":10.10}\n')
        out.write('{"Id":2,"Period":"2026-08","SupplierName":"two","Amount":0.000000001}\n')
    schema = (DATA / "delete_query_march_25_rows.singer").read_text().splitlines()[0]
    batch = {
        "type": "BATCH",
        "stream": "spend",
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "manifest": [batch_file.as_uri()],
    }
    state = {"type": "STATE", "value": {"spend": "batch-1"}}

    run = run_target(
        config_for(ignite, repository_id=repository["id"]),
        f"{schema}\n{json.dumps(batch)}\n{json.dumps(state)}\n",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    assert rows_exact(ignite, repository["id"]) == [
        {
            "Id": Num("1"),
            "Period": "2026-08",
            "SupplierName": 'Bätch "one"',
            "Amount": Num("10.10"),
        },
        {"Id": Num("2"), "Period": "2026-08", "SupplierName": "two", "Amount": Num("1E-9")},
    ]
    assert run.states == [{"spend": "batch-1"}]
