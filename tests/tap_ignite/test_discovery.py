"""Discovery: one stream per `GET /tables/` table, dataTypes mapped, keys and label names."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox
from tap_ignite.columns import Column, label_keys
from tap_ignite.tap import TapIgnite

from tests.tap_ignite.helpers import run_cli, tap_config

# What each documented dataType must become (nullability checked separately).
EXPECTED_TYPES: dict[str, dict[str, Any]] = {
    "STRING": {"type": "string"},
    "NUMBER": {"type": "number"},
    "MONETARY_AMOUNT": {"type": "number"},
    "BOOL": {"type": "boolean"},
    "DATE": {"type": "string", "format": "date"},
    "TIMESTAMP": {"type": "string", "format": "date-time"},
    "STRING_ARRAY": {"type": "array", "items": {"type": "string"}},
}


def listed_tables(server: RunningSandbox) -> list[dict[str, Any]]:
    response = requests.get(
        f"{server.url}/tables/", headers={"Authorization": f"Bearer {server.token}"}, timeout=30
    )
    response.raise_for_status()
    tables: list[dict[str, Any]] = response.json()
    return tables


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    types = schema["type"]
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        schema = {**schema, "type": rest[0] if len(rest) == 1 else rest}
    return schema


def test_one_stream_per_listed_table(sandbox: RunningSandbox) -> None:
    tap = TapIgnite(config=tap_config(sandbox))
    assert sorted(tap.streams) == sorted(t["id"] for t in listed_tables(sandbox))


def test_every_data_type_maps_to_its_json_schema(sandbox: RunningSandbox) -> None:
    tap = TapIgnite(config=tap_config(sandbox))
    seen_types: set[str] = set()
    for table in listed_tables(sandbox):
        properties = tap.streams[table["id"]].schema["properties"]
        assert list(properties) == [c["name"] for c in table["columns"]]
        for column in table["columns"]:
            expected = EXPECTED_TYPES.get(column["dataType"], {"type": "string"})
            assert without_null(properties[column["name"]]) == expected, column
            seen_types.add(column["dataType"])
    # The sandbox lists every documented dataType plus at least one unknown one.
    assert set(EXPECTED_TYPES) < seen_types


def test_unknown_data_type_is_a_string_with_a_warning(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = [
        (table["id"], column["name"], column["dataType"])
        for table in listed_tables(sandbox)
        for column in table["columns"]
        if column["dataType"] not in EXPECTED_TYPES
    ]
    assert unknown, "the sandbox should list a column with an undocumented dataType"
    with caplog.at_level(logging.WARNING, logger="tap_ignite"):
        tap = TapIgnite(config=tap_config(sandbox))
    for table_id, column_name, data_type in unknown:
        schema = tap.streams[table_id].schema["properties"][column_name]
        assert schema == {"type": ["string", "null"]}
        assert any(
            column_name in r.getMessage() and data_type in r.getMessage() for r in caplog.records
        )


def test_keys_are_the_only_non_nullable_columns(sandbox: RunningSandbox) -> None:
    tap = TapIgnite(config=tap_config(sandbox))
    for table in listed_tables(sandbox):
        stream = tap.streams[table["id"]]
        names = {c["name"] for c in table["columns"]}
        expected_key = "id" if "id" in names else "spend_id"
        assert list(stream.primary_keys) == [expected_key]
        for name, schema in stream.schema["properties"].items():
            assert ("null" in schema["type"]) == (name != expected_key), (table["id"], name)


def test_classification_tables_are_keyed_by_spend_id(sandbox: RunningSandbox) -> None:
    tap = TapIgnite(config=tap_config(sandbox))
    classification = [name for name in tap.streams if name.startswith("classification_")]
    assert classification
    for name in classification:
        assert list(tap.streams[name].primary_keys) == ["spend_id"]


def test_label_keys_follow_the_documented_rules() -> None:
    def col(name: str, label: str) -> Column:
        return Column(name=name, label=label, data_type="STRING", supported_operators=())

    columns = [
        col("amount", "Amount"),
        col("amount_local", "Amount"),
        col("invoice_date", "Date"),
        col("posting_date", "Date"),
        col("due_date", "Date"),
        col("document_date", "Date (posting_date)"),
        col("other", "Date (posting_date)"),
        col("x", "Amount (amount_local)"),
    ]
    assert label_keys(columns) == [
        "Amount",
        "Amount (amount_local)",
        "Date",
        "Date (posting_date)",
        "Date (due_date)",
        "Date (posting_date) #2",
        "Date (posting_date) (other)",
        "Amount (amount_local) #2",
    ]


def test_label_properties_are_the_keys_the_api_sends(sandbox: RunningSandbox) -> None:
    tap = TapIgnite(config=tap_config(sandbox, key_by="label"))
    for table in listed_tables(sandbox):
        columns = [c["name"] for c in table["columns"]]
        response = requests.post(
            f"{sandbox.url}/tables/{table['id']}/rows",
            json={"fields": columns, "pageSize": 1, "keyBy": "label"},
            headers={"Authorization": f"Bearer {sandbox.token}"},
            timeout=30,
        )
        response.raise_for_status()
        row = response.json()["data"][0]
        assert list(tap.streams[table["id"]].schema["properties"]) == list(row)
    spend = list(tap.streams["spend"].schema["properties"])
    for key in ("Amount", "Amount (amount_local)", "Date", "Date (posting_date)"):
        assert key in spend
    assert "Date (posting_date) #2" in spend


def test_discover_cli_prints_the_catalog(sandbox: RunningSandbox, tmp_path: Any) -> None:
    run = run_cli(tmp_path, tap_config(sandbox), "--discover")
    assert run.returncode == 0, run.stderr
    catalog = json.loads(run.stdout)
    streams = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert sorted(streams) == sorted(t["id"] for t in listed_tables(sandbox))
    spend = streams["spend"]
    assert spend["key_properties"] == ["id"]
    root = next(m for m in spend["metadata"] if m["breadcrumb"] == [])
    assert root["metadata"]["valid-replication-keys"] == ["updated_at"]
    classification = streams["classification_spend_categories"]
    root = next(m for m in classification["metadata"] if m["breadcrumb"] == [])
    assert root["metadata"].get("valid-replication-keys") in (None, [])
