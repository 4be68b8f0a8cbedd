"""Streams with key properties are merged on them (a re-run updates, never duplicates);
streams without keys are appended."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.target_duckdb_typed.helpers import DATA, query, run_target

SUPPLIERS_AFTER_FIRST_LOAD = [
    ("s1", "Nordic Paper", Decimal("100.100000000")),
    ("s2", "Bergen Fisk ASA", Decimal("250.250000000")),  # the last record of a key wins
    ("s3", "Oslo Cleaning", Decimal("300.300000000")),
    ("s4", "Århus Software", Decimal("400.400000000")),
]


@pytest.mark.parametrize("batch_size_rows", [1, 2, 20000])
def test_records_merge_on_their_key_and_a_rerun_changes_nothing(
    tmp_path: Path, batch_size_rows: int
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    for _ in range(2):
        run = run_target(warehouse, DATA / "merge_on_keys.singer", batch_size_rows=batch_size_rows)
        assert run.returncode == 0, run.stderr
        assert run.states[-1] == {"suppliers": "s4"}
        assert (
            query(warehouse, "select id, name, spend from suppliers order by id")
            == SUPPLIERS_AFTER_FIRST_LOAD
        )

    run = run_target(warehouse, DATA / "merge_on_keys_incremental.singer")
    assert run.returncode == 0, run.stderr
    assert query(warehouse, "select id, name, spend from suppliers order by id") == [
        *SUPPLIERS_AFTER_FIRST_LOAD[:2],
        ("s3", "Oslo Cleaning Inc.", Decimal("333.330000000")),
        SUPPLIERS_AFTER_FIRST_LOAD[3],
        ("s5", "Kiruna Mining", Decimal("500.500000000")),
    ]
    # Only the re-sent rows were rewritten by the incremental load.
    batched = dict(query(warehouse, "select id, _sdc_batched_at from suppliers"))
    assert batched["s3"] == batched["s5"] > batched["s1"]


def test_composite_keys(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    for _ in range(2):
        assert run_target(warehouse, DATA / "merge_composite_keys.singer").returncode == 0
    assert query(
        warehouse, "select currency, strftime(day, '%Y-%m-%d'), rate from fx_rates order by 1, 2"
    ) == [
        ("EUR", "2024-01-01", Decimal("11.257500000")),
        ("EUR", "2024-01-02", Decimal("11.300000000")),
        ("USD", "2024-01-01", Decimal("10.100000000")),
    ]


def test_streams_without_keys_are_appended(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    for _ in range(2):
        assert run_target(warehouse, DATA / "append_without_keys.singer").returncode == 0
    sql = """select event, strftime("at", '%H:%M'), count(*) from audit_events
             group by 1, 2 order by 1"""
    assert query(warehouse, sql) == [("export", "08:30", 2), ("login", "08:00", 4)]


def test_a_merge_keeps_what_the_stream_no_longer_sends(tmp_path: Path) -> None:
    """The second SCHEMA drops `phone`: updated rows keep theirs, new rows have none."""
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(warehouse, DATA / "merge_keeps_a_dropped_column.singer", batch_size_rows=1)
    assert run.returncode == 0, run.stderr
    assert query(warehouse, "select id, name, phone from contacts order by id") == [
        (1, "Ada Lovelace", "+47 22 00 00 01"),
        (2, "Grace", "+47 22 00 00 02"),
        (3, "Edsger", None),
    ]
