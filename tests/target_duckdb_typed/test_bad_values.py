"""A value the warehouse cannot hold exactly stops the load: one line naming the line, the
stream, the key and the value; exit 1; the rows read before the bad line committed and the
STATE that follows them written; nothing rounded, nothing after the bad line loaded."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.target_duckdb_typed.helpers import DATA, query, run_target

BEFORE_THE_BAD_LINE = [
    ("p1", Decimal("10.500000000")),
    ("p2", Decimal("20.250000000")),
]


@pytest.mark.parametrize(
    ("singer_file", "message"),
    [
        (
            "bad_decimal_scale_line_5.singer",
            "line 5 (stream 'payments', id=p3): amount 1.2345678901 has 10 digits after the "
            "point; its column is DECIMAL(38,9) and values are never rounded (raise "
            "decimal_scale, or declare the property's scale)",
        ),
        (
            "bad_decimal_precision_line_5.singer",
            "line 5 (stream 'payments', id=p3): amount is "
            "123456789012345678901234567890.500000000: more than the 29 digits before the "
            "point DECIMAL(38,9) holds (raise decimal_precision, or lower decimal_scale; "
            "values are never rounded)",
        ),
        (
            "bad_date_line_5.singer",
            "line 5 (stream 'payments', id=p3): day is 2024-02-30, not a valid DATE",
        ),
        (
            "bad_integer_line_5.singer",
            "line 5 (stream 'payments', id=p3): count is \"3\", not an integer",
        ),
        (
            "bad_missing_key_line_5.singer",
            "line 5 (stream 'payments'): the record has no key property id (key properties: id)",
        ),
        (
            "bad_null_key_line_5.singer",
            "line 5 (stream 'payments', id=null): key property 'id' is null",
        ),
        ("bad_not_json_line_5.singer", "line 5 (stream 'payments'): not valid JSON ("),
        ("bad_nan_line_5.singer", "line 5 (stream 'payments'): not valid JSON ("),
    ],
)
def test_bad_value_stops_the_load_after_committing_what_came_before(
    tmp_path: Path, singer_file: str, message: str
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(warehouse, DATA / singer_file)
    assert run.returncode == 1
    assert len(run.errors) == 1, run.stderr
    assert run.errors[0].startswith(message), run.errors[0]
    assert "Traceback" not in run.stderr
    assert run.states == [{"payments": 2}]
    assert query(warehouse, "select id, amount from payments order by id") == BEFORE_THE_BAD_LINE
