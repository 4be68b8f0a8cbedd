"""Settings the loader cannot work with stop it before any data moves: one line, exit 1."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.target_duckdb_typed.helpers import DATA, run_target

MESSAGES = DATA / "merge_on_keys.singer"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"decimal_precision": 10, "decimal_scale": 12},
            "decimal_scale (12) is larger than decimal_precision (10): a DECIMAL has at most "
            "as many digits after the point as it has in all",
        ),
        ({"memory_limit": "lots"}, "memory_limit 'lots' is not a size DuckDB takes: "),
        ({"default_target_schema": " "}, "default_target_schema is empty"),
    ],
)
def test_settings_that_cannot_work_stop_with_one_line(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    run = run_target(tmp_path / "warehouse.duckdb", MESSAGES, **settings)
    assert run.returncode == 1
    assert len(run.errors) == 1, run.stderr
    assert run.errors[0].startswith(message), run.errors[0]
    assert "Traceback" not in run.stderr


def test_a_file_another_process_holds_is_named_in_the_error(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)):  # this test process holds the write lock
        run = run_target(warehouse, MESSAGES)
    assert run.returncode == 1
    assert len(run.errors) == 1, run.stderr
    assert run.errors[0].startswith(f"could not open the DuckDB file {warehouse}: ")
    assert "lock" in run.errors[0]
    assert "Traceback" not in run.stderr
