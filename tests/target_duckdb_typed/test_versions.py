"""ACTIVATE_VERSION: a snapshot mirrors its table, rows that vanished included (deleted, or
marked with `_sdc_deleted_at` under `soft_delete`); a snapshot that stops half-way retires
nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.target_duckdb_typed.helpers import DATA, query, run_target

ROWS = "select id, title, value, _sdc_table_version from contracts order by id"


def test_a_new_snapshot_deletes_the_rows_that_vanished(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    run = run_target(warehouse, DATA / "snapshot_v100.singer")
    assert run.returncode == 0, run.stderr
    assert query(warehouse, ROWS) == [
        ("c1", "Cleaning", Decimal("1000.500000000"), 100),
        ("c2", "Catering", Decimal("2000.000000000"), 100),
        ("c3", "Security", Decimal("3000.750000000"), 100),
    ]
    run = run_target(warehouse, DATA / "snapshot_v200_c2_vanished.singer")
    assert run.returncode == 0, run.stderr
    assert run.states == [{"contracts": "v200"}]
    assert query(warehouse, ROWS) == [
        ("c1", "Cleaning 2025", Decimal("1100.500000000"), 200),
        ("c3", "Security", Decimal("3000.750000000"), 200),
    ]

    # Stopped at line 5: the rows before it load, but no older row is retired.
    run = run_target(warehouse, DATA / "snapshot_v300_stops_at_line_5.singer")
    assert run.returncode == 1
    assert run.errors == [
        "line 5 (stream 'contracts', id=c9): value is \"n/a\", not a decimal number"
    ]
    assert run.states == [{"contracts": "v300 started"}]
    assert query(warehouse, ROWS) == [
        ("c1", "Cleaning 2025", Decimal("1100.500000000"), 200),
        ("c2", "Catering", Decimal("2000.000000000"), 300),
        ("c3", "Security", Decimal("3000.750000000"), 200),
    ]

    # Activated before and after its records (pipelinewise taps): retired at the second.
    run = run_target(warehouse, DATA / "snapshot_v400_activated_before_and_after.singer")
    assert run.returncode == 0, run.stderr
    assert query(warehouse, ROWS) == [
        ("c4", "Canteen", Decimal("400.000000000"), 400),
        ("c5", "Courier", Decimal("500.000000000"), 400),
    ]

    # Records without a version of their own (as BATCH rows) get the activated one.
    run = run_target(warehouse, DATA / "snapshot_v500_records_without_version.singer")
    assert run.returncode == 0, run.stderr
    assert query(warehouse, ROWS) == [("c5", "Courier", Decimal("550.000000000"), 500)]


def test_soft_delete_marks_the_rows_that_vanished(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    sql = "select id, _sdc_deleted_at is not null from contracts order by id"
    assert run_target(warehouse, DATA / "snapshot_v100.singer", soft_delete=True).returncode == 0
    run = run_target(warehouse, DATA / "snapshot_v200_c2_vanished.singer", soft_delete=True)
    assert run.returncode == 0, run.stderr
    assert query(warehouse, sql) == [("c1", False), ("c2", True), ("c3", False)]
    # c2 is back in the next snapshot: no longer marked; c1 and c3 are gone from it.
    run = run_target(
        warehouse, DATA / "snapshot_v500_records_without_version.singer", soft_delete=True
    )
    assert run.returncode == 0, run.stderr
    assert query(warehouse, sql) == [("c1", True), ("c2", True), ("c3", True), ("c5", False)]


def test_activate_version_can_be_ignored(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    for name in ("snapshot_v100.singer", "snapshot_v200_c2_vanished.singer"):
        run = run_target(warehouse, DATA / name, process_activate_version_messages=False)
        assert run.returncode == 0, run.stderr
    assert [row[0] for row in query(warehouse, ROWS)] == ["c1", "c2", "c3"]
