"""Schema evolution: a new property adds a column, a wider type widens it, a narrower one
keeps it, an incompatible one stops the load with both types named. Names are predictable
and never ambiguous with the database file's own name."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from tests.target_duckdb_typed.helpers import DATA, column_types, query, run_target, singer_lines

UTC = datetime.UTC


def test_columns_are_added_widened_and_kept(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(warehouse, DATA / "schema_change_widen_add_and_narrow.singer")
    assert run.returncode == 0, run.stderr
    assert run.states == [{"items": 1}, {"items": 3}]  # the new SCHEMA committed row 1
    types = column_types(warehouse, "items")
    assert {
        name: types[name] for name in ("id", "qty", "day", "code", "price", "note", "flag")
    } == {
        "id": "BIGINT",
        "qty": "DECIMAL(38,9)",  # integer, then number: widened
        "day": "TIMESTAMP WITH TIME ZONE",  # date, then date-time: widened
        "code": "VARCHAR",  # integer, then string: widened (7 -> '7')
        "price": "DECIMAL(20,4)",  # (10,2), then (20,4): widened
        "note": "VARCHAR",  # added
        "flag": "BOOLEAN",  # added
    }
    assert "widened column qty from BIGINT to DECIMAL(38,9)" in run.stderr
    assert query(
        warehouse, "select id, qty, day, code, price, note, flag from items order by id"
    ) == [
        (1, Decimal("6.250000000"), datetime.datetime(2024, 1, 1, tzinfo=UTC), "7",
         Decimal("12.3400"), None, False),
        (2, Decimal("5.500000000"), datetime.datetime(2024, 1, 2, 10, tzinfo=UTC), "A-7",
         Decimal("123456789.1234"), "new", True),
        # The third SCHEMA is narrower again: the wide columns stay and take its values.
        (3, Decimal("7.000000000"), datetime.datetime(2024, 1, 3, tzinfo=UTC), "B",
         Decimal("1.5000"), "narrower schema", None),
    ]  # fmt: skip


def test_an_incompatible_change_stops_the_load_with_both_types(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(warehouse, DATA / "schema_change_incompatible_line_5.singer")
    assert run.returncode == 1
    assert run.errors == [
        "stream 'items': column flag of table main.items is BOOLEAN, and the stream's schema "
        "now makes it TIMESTAMPTZ; neither holds the other's values, so the load stops "
        "rather than lose any. Rename or drop the column (or the table) to load it as "
        "TIMESTAMPTZ."
    ]
    assert run.states == [{"items": 2}]
    assert query(warehouse, "select id, flag from items order by id") == [(1, True), (2, False)]
    assert column_types(warehouse, "items")["flag"] == "BOOLEAN"


def test_table_names_are_the_stream_names_in_lower_case(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    messages = singer_lines(
        {"type": "SCHEMA", "stream": "erp-Invoices", "key_properties": [],
         "schema": {"properties": {"InvoiceNo": {"type": "string"}}}},
        {"type": "RECORD", "stream": "erp-Invoices", "record": {"InvoiceNo": "A1"}},
    )  # fmt: skip
    run = run_target(warehouse, messages, default_target_schema="Warehouse-ERP")
    assert run.returncode == 0, run.stderr
    # Schema and table conformed; the column keeps the property's name (DuckDB matches
    # names case-insensitively).
    assert query(warehouse, "select invoiceno from warehouse_erp.erp_invoices") == [("A1",)]
    assert next(iter(column_types(warehouse, "warehouse_erp.erp_invoices"))) == "InvoiceNo"


def test_two_streams_for_one_table_stop_the_load(tmp_path: Path) -> None:
    messages = singer_lines(
        {"type": "SCHEMA", "stream": "Spend", "key_properties": [],
         "schema": {"properties": {"id": {"type": "string"}}}},
        {"type": "SCHEMA", "stream": "spend", "key_properties": [],
         "schema": {"properties": {"id": {"type": "string"}}}},
    )  # fmt: skip
    run = run_target(tmp_path / "warehouse.duckdb", messages)
    assert run.returncode == 1
    assert run.errors == [
        "streams 'Spend' and 'spend' would both load table main.spend; rename one with a stream map"
    ]


def test_a_schema_named_like_the_file_is_refused_before_any_data_moves(tmp_path: Path) -> None:
    """`ignite.spend` in `ignite.duckdb` could be catalog `ignite` or schema `ignite`."""
    warehouse = tmp_path / "ignite.duckdb"
    run = run_target(warehouse, DATA / "merge_on_keys.singer", default_target_schema="ignite")
    assert run.returncode == 1
    assert run.errors == [
        "default_target_schema 'ignite' is the name DuckDB gives the file ignite.duckdb: "
        "`ignite.<table>` would be ambiguous (catalog or schema). Choose another schema or "
        "file name"
    ]
    assert "Traceback" not in run.stderr
