"""Tables in parallel: meltano.yml's one-job-per-table pattern, run as concurrent processes.

Three `meltano run ignite-<table>-to-postgres` at once against one sandbox, sharing a
PostgreSQL system database (Meltano's choice for concurrent runs), then an incremental re-run
of each after the sandbox changed rows of every table. Every table's rows must match the API
and every table's bookmark must be its own, in its own state id.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.e2e.conftest import ROOT, MeltanoProject, pg_connect, point_at
from tests.e2e.test_pipelines import api_rows, api_tables

pytestmark = pytest.mark.slow

TABLES = ("spend", "suppliers", "contracts")


def in_parallel(project: MeltanoProject, commands: dict[str, list[str]]) -> dict[str, str]:
    """`meltano ARGS` for every command at once; all must succeed. Name -> output."""
    processes = {
        name: subprocess.Popen(
            ["meltano", *args],
            cwd=ROOT,
            env=project.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, args in commands.items()
    }
    outputs, failed = {}, []
    for name, process in processes.items():
        outputs[name], _ = process.communicate(timeout=900)
        project.logs.append(outputs[name])
        if process.returncode != 0:
            failed.append(f"--- {name} exited {process.returncode}:\n{outputs[name][-3000:]}")
    assert not failed, "\n".join(failed)
    return outputs


def run_jobs(project: MeltanoProject) -> None:
    """Every table's job, `meltano run ignite-<table>-to-postgres`, at once."""
    in_parallel(project, {table: ["run", f"ignite-{table}-to-postgres"] for table in TABLES})


def bookmarks(project: MeltanoProject) -> dict[str, dict[str, Any]]:
    """Table -> the bookmarks in the singer state Meltano keeps for that table's job."""
    outputs = in_parallel(
        project,
        {
            table: ["state", "get", f"sandbox:tap-ignite--{table}-to-target-postgres"]
            for table in TABLES
        },
    )
    found = {}
    for table, output in outputs.items():
        state = json.loads(output[output.index("{") : output.rindex("}") + 1])
        found[table] = state["singer_state"]["bookmarks"]
    return found


def warehouse_rows(database: str, table: str) -> dict[str, tuple[str, datetime]]:
    """id -> (updated_at as the API writes it, when the row was last loaded, in UTC)."""
    with pg_connect(database) as con:
        query = f'select id, updated_at, _sdc_batched_at from ignite."{table}"'  # noqa: S608
        return {
            row[0]: (_utc(row[1]).strftime("%Y-%m-%dT%H:%M:%SZ"), _utc(row[2]))
            for row in con.execute(query)
        }


def _utc(value: datetime) -> datetime:
    # target-postgres writes UTC timestamps into columns without a time zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_three_tables_run_in_parallel_then_incrementally(
    meltano_project: MeltanoProject,
    sandbox_factory: Callable[..., RunningSandbox],
    pg_database: str,
) -> None:
    sandbox = sandbox_factory(spend_rows=1500)
    point_at(meltano_project, sandbox)
    meltano_project.env.update(
        {
            # One system database for the concurrent runs: PostgreSQL takes concurrent writers.
            "MELTANO_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_database}",
            "TARGET_POSTGRES_DATABASE": pg_database,
            "TARGET_POSTGRES_ADD_RECORD_METADATA": "true",
        }
    )
    # The system database is made once, before runs share it (concurrent first runs would
    # each try to create its tables): a deployment's first step, e.g. `meltano state list`.
    meltano_project.run("state", "list")
    tables = {table["id"]: table for table in api_tables(sandbox)}

    run_jobs(meltano_project)

    first: dict[str, dict[str, dict[str, Any]]] = {}
    states = bookmarks(meltano_project)
    for table in TABLES:
        first[table] = api_rows(sandbox, tables[table])
        loaded = warehouse_rows(pg_database, table)
        assert {i: row[0] for i, row in loaded.items()} == {
            i: row["updated_at"] for i, row in first[table].items()
        }, table
        # Each job's state holds its own table's bookmark, and no other table's.
        assert set(states[table]) == {table}
        bookmark = states[table][table]
        assert bookmark["replication_key"] == "updated_at"
        assert bookmark["replication_key_value"] == max(
            row["updated_at"] for row in first[table].values()
        )

    # Change rows of every table, then the three jobs again, at once.
    touched = {table: set(sandbox.admin.touch(table, 4 + n)) for n, table in enumerate(TABLES)}
    second_started = datetime.now(UTC)
    run_jobs(meltano_project)

    states = bookmarks(meltano_project)
    for table in TABLES:
        expected = api_rows(sandbox, tables[table])
        loaded = warehouse_rows(pg_database, table)
        assert {i: row[0] for i, row in loaded.items()} == {
            i: row["updated_at"] for i, row in expected.items()
        }, table
        # Incremental: the touched rows moved, and at most the rows at the old bookmark with
        # them (the bound is inclusive); the rest of the table stayed where it was.
        moved = {i for i, row in loaded.items() if row[1] >= second_started}
        old_max = max(row["updated_at"] for row in first[table].values())
        at_old_bookmark = {i for i, row in first[table].items() if row["updated_at"] == old_max}
        assert touched[table] <= moved, table
        assert moved - touched[table] <= at_old_bookmark, table
        assert set(states[table]) == {table}
        bookmark = states[table][table]
        assert bookmark["replication_key_value"] == max(
            expected[i]["updated_at"] for i in touched[table]
        )
        assert bookmark["replication_key_value"] > old_max
