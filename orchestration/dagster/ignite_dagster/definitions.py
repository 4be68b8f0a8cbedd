"""The Dagster code location: one asset per Ignite table, each a `meltano run` of its own.

The tables are meltano.yml's per-table extractors (`tap-ignite--<table>`), so adding a table
there adds an asset here. Each asset runs `meltano run tap-ignite--<table> <loader>` under its
own state id, so Dagster's multiprocess executor runs the tables side by side without one
overwriting another's bookmarks. Load it with

    dagster dev -m ignite_dagster.definitions --working-directory orchestration/dagster

or run every table once, without a daemon:

    dagster job execute -m ignite_dagster.definitions -d orchestration/dagster -j ignite_tables
"""

import os
import time

import dagster as dg

from .meltano import DEFAULT_PROJECT_DIR, MeltanoProject, table_extractors

GROUP = "ignite"
# Where the tables go: a loader of meltano.yml (target-postgres, as its per-table jobs do).
DEFAULT_LOADER = os.environ.get("IGNITE_DAGSTER_LOADER", "target-postgres")


def table_asset(table: str, extractor: str, loader: str = DEFAULT_LOADER) -> dg.AssetsDefinition:
    """The asset of one table: `meltano run EXTRACTOR LOADER`, its records and bookmark."""

    @dg.asset(
        name=table,
        key_prefix=[GROUP],
        group_name=GROUP,
        kinds={"meltano"},
        description=f"Ignite table '{table}': `meltano run {extractor} {loader}`.",
    )
    def load_table(
        context: dg.AssetExecutionContext, meltano: MeltanoProject
    ) -> dg.MaterializeResult:
        started = time.monotonic()
        run = meltano.run(extractor, loader)
        records = run.records.get(table, 0)
        metadata: dict[str, dg.RawMetadataValue] = {
            "records": records,
            "duration_seconds": round(time.monotonic() - started, 1),
        }
        if run.state_id:
            metadata["state_id"] = run.state_id
            bookmark = meltano.state(run.state_id)["singer_state"]["bookmarks"].get(table, {})
            if "replication_key_value" in bookmark:
                metadata["bookmark"] = str(bookmark["replication_key_value"])
        context.log.info("Table '%s': %d records, state id %s", table, records, run.state_id)
        return dg.MaterializeResult(metadata=metadata)

    return load_table


def build_definitions(meltano: MeltanoProject | None = None) -> dg.Definitions:
    """Assets for every per-table extractor of the project, a job and a daily schedule."""
    meltano = meltano or MeltanoProject(project_dir=DEFAULT_PROJECT_DIR)
    tables = table_extractors(meltano.project_dir)
    assets = [table_asset(table, extractor) for table, extractor in tables.items()]
    tables_job = dg.define_asset_job("ignite_tables", selection=dg.AssetSelection.groups(GROUP))
    return dg.Definitions(
        assets=assets,
        jobs=[tables_job],
        schedules=[dg.ScheduleDefinition(job=tables_job, cron_schedule="0 3 * * *")],
        resources={"meltano": meltano},
    )


defs = build_definitions()
