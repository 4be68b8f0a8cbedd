"""Column types from JSON Schema, and every value read back exactly (`types_every_kind`)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from tests.target_duckdb_typed.helpers import DATA, column_types, query, run_target

UTC = datetime.UTC


def test_every_kind_of_property_gets_its_type_and_exact_values(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(warehouse, DATA / "types_every_kind.singer")
    assert run.returncode == 0, run.stderr
    assert run.states == [{"typed_values": "done"}]

    assert column_types(warehouse, "main.typed_values") == {
        "id": "VARCHAR",
        "amount": "DECIMAL(38,9)",
        "amount_text": "DECIMAL(38,9)",
        "price": "DECIMAL(12,4)",
        "count": "BIGINT",
        "huge": "HUGEINT",
        "flag": "BOOLEAN",
        "day": "DATE",
        "at": "TIMESTAMP WITH TIME ZONE",
        "tags": "VARCHAR[]",
        "amounts": "DECIMAL(38,9)[]",
        "meta": "JSON",
        "mixed": "VARCHAR",
        "when": "TIMESTAMP WITH TIME ZONE",
        "note": "VARCHAR",
        "_sdc_extracted_at": "TIMESTAMP WITH TIME ZONE",
        "_sdc_batched_at": "TIMESTAMP WITH TIME ZONE",
        "_sdc_table_version": "BIGINT",
        "_sdc_deleted_at": "TIMESTAMP WITH TIME ZONE",
    }
    rows = query(
        warehouse,
        'select id, amount, amount_text, price, count, huge, flag, day, "at", tags, amounts, '
        'meta, mixed, "when", note, _sdc_extracted_at from typed_values order by id',
    )
    assert rows == [
        (
            "r1",
            Decimal("12345678901234567.890000000"),
            Decimal("98765432109876543210.123456789"),
            Decimal("12345678.1234"),
            9223372036854775807,
            99999999999999999999999999999,
            True,
            datetime.date(2024, 2, 29),
            datetime.datetime(2024, 8, 7, 11, 6, 33, tzinfo=UTC),
            ["a", "b"],
            [Decimal("1.500000000"), Decimal("0.000000001")],
            '{"nested": {"x": 12345678901234567.89, "list": [1, "two"]}}',
            "42",
            datetime.datetime(2024, 1, 1, tzinfo=UTC),
            'ünïcødé ✓ "quoted"',
            datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        ),
        (
            "r2",
            Decimal("-0.000000001"),
            Decimal("0E-9"),
            None,
            -9223372036854775808,
            -5,
            False,
            None,
            datetime.datetime(2024, 8, 7, 11, 6, 33, tzinfo=UTC),
            [],
            None,
            None,
            "forty-two",
            datetime.datetime(2024, 1, 1, 10, 0, tzinfo=UTC),
            None,
            None,
        ),
        ("r3", *([None] * 15)),
        (
            "r4",
            Decimal("1000.000000000"),
            Decimal("1E-9"),
            None,
            0,
            None,
            None,
            datetime.date(1999, 12, 31),
            datetime.datetime(2000, 1, 1, 0, 0, 0, 999999, tzinfo=UTC),
            ["é", None],
            None,
            None,
            "true",
            None,
            None,
            None,
        ),
    ]
    # Sums need no cast, and keep every digit.
    assert query(warehouse, "select sum(amount) from typed_values") == [
        (Decimal("12345678901235567.889999999"),)
    ]
    # The JSON column is queryable as JSON; its text keeps every digit (DuckDB's JSON
    # functions read numbers as DOUBLE: exact money belongs in a typed column).
    assert query(
        warehouse, "select meta->'nested'->>'list', meta::varchar from typed_values where id = 'r1'"
    ) == [('[1,"two"]', '{"nested": {"x": 12345678901234567.89, "list": [1, "two"]}}')]
