"""Streams with stream maps or flattening go through the SDK's record steps, then the same
typed batches: the same columns and exact values as RECORD lines loaded as they are."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from tests.target_duckdb_typed.helpers import column_types, query, run_target, singer_lines

SCHEMA = {
    "type": "SCHEMA",
    "stream": "orders",
    "key_properties": ["id"],
    "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "total": {"type": "number"},
            "placed": {"type": "string", "format": "date-time"},
            "customer": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "since": {"type": "string", "format": "date"},
                },
            },
        },
    },
}
RECORD = (
    '{"type":"RECORD","stream":"orders","record":{"id":1,"total":12345678901234567.89,'
    '"placed":"2024-05-01T10:00:00+02:00","customer":{"name":"Ada","since":"2020-02-29"}},'
    '"version":7,"time_extracted":"2024-05-01T09:00:00Z"}\n'
)


def test_flattening_and_stream_maps_give_typed_exact_columns(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(
        warehouse,
        singer_lines(SCHEMA) + RECORD,
        flattening_enabled=True,
        flattening_max_depth=1,
        stream_maps={"orders": {"__alias__": "sales_orders", "total_doubled": "total * 2"}},
    )
    assert run.returncode == 0, run.stderr
    types = column_types(warehouse, "sales_orders")
    assert types["total"] == "DECIMAL(38,9)"
    assert types["placed"] == "TIMESTAMP WITH TIME ZONE"
    assert types["customer__since"] == "DATE"
    assert types["total_doubled"] == "VARCHAR"
    assert query(
        warehouse,
        "select id, total, total_doubled, placed, customer__name, customer__since, "
        "_sdc_table_version, _sdc_extracted_at from sales_orders",
    ) == [
        (
            1,
            Decimal("12345678901234567.890000000"),
            "24691357802469135.78",  # the SDK declares a computed property a string
            datetime.datetime(2024, 5, 1, 8, 0, tzinfo=datetime.UTC),
            "Ada",
            datetime.date(2020, 2, 29),
            7,
            datetime.datetime(2024, 5, 1, 9, 0, tzinfo=datetime.UTC),
        )
    ]
