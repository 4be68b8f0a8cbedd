"""The Dagster code location (orchestration/dagster), executed in-process: no daemon, no UI.

Its job runs one asset per table of meltano.yml's per-table extractors, each a real
`meltano run tap-ignite--<table> target-postgres` against a sandbox; every asset's result
(records sent, state id, bookmark) is checked against the API and against Meltano's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import pytest
from ignite_sandbox.launcher import RunningSandbox

from orchestration.dagster.ignite_dagster.definitions import build_definitions
from orchestration.dagster.ignite_dagster.meltano import MeltanoProject
from tests.e2e.conftest import ROOT, pg_connect, point_at
from tests.e2e.conftest import MeltanoProject as E2EProject
from tests.e2e.test_pipelines import api_rows, api_tables

pytestmark = pytest.mark.slow

TABLES = ("contracts", "spend", "suppliers")


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Table -> the metadata of its asset's materialization in this run."""
    found: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        table = materialization.asset_key.path[-1]
        found[table] = {key: value.value for key, value in materialization.metadata.items()}
    return found


def test_the_job_runs_one_asset_per_table(
    meltano_project: E2EProject,
    sandbox_factory: Callable[..., RunningSandbox],
    pg_database: str,
) -> None:
    sandbox = sandbox_factory(spend_rows=800)
    point_at(meltano_project, sandbox)
    meltano_project.env["TARGET_POSTGRES_DATABASE"] = pg_database
    meltano = MeltanoProject(project_dir=str(ROOT), env=meltano_project.env)
    defs = build_definitions(meltano)
    job = defs.resolve_job_def("ignite_tables")
    assert {key.path[-1] for key in defs.resolve_asset_graph().get_all_asset_keys()} == set(TABLES)

    result = job.execute_in_process()

    assert result.success
    results = materializations(result)
    assert set(results) == set(TABLES)
    tables = {table["id"]: table for table in api_tables(sandbox)}
    for table in TABLES:
        rows = api_rows(sandbox, tables[table])
        assert results[table]["records"] == len(rows), table
        assert results[table]["state_id"] == f"sandbox:tap-ignite--{table}-to-target-postgres"
        assert results[table]["bookmark"] == max(row["updated_at"] for row in rows.values()), table
        with pg_connect(pg_database) as con:
            loaded = {row[0] for row in con.execute(f'select id from ignite."{table}"')}  # noqa: S608
        assert loaded == set(rows), table
