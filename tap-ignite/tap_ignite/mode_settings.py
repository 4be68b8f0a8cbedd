"""Settings that choose how each table is read: rows or snapshot export, legacy data tables,
and decimal strings; with the checks they need before any data moves.

Kept apart from settings.py (the row-sync settings) so that each module stays small; the
tap's settings schema is the union of both.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Literal

from singer_sdk import typing as th

from tap_ignite import wire

SyncMode = Literal["rows", "export"]
ROWS: SyncMode = "rows"
EXPORT: SyncMode = "export"
SYNC_MODES: tuple[str, ...] = (ROWS, EXPORT)

DEFAULT_EXPORT_FORMAT = "parquet"
# Polls start at export_poll_interval and grow by this factor up to the cap: an export is
# noticed at most 25% of its run time (and at least one interval) after it finished, with
# about 14 polls in its first minute and one a minute after that.
DEFAULT_EXPORT_POLL_INTERVAL = 0.5
EXPORT_POLL_GROWTH = 1.25
EXPORT_POLL_INTERVAL_CAP = 60.0
DEFAULT_EXPORT_TIMEOUT = 3600

PROPERTIES = (
    th.Property(
        "sync_mode",
        th.StringType,
        default=ROWS,
        allowed_values=list(SYNC_MODES),
        description=(
            "How tables are read: `rows` (default) pages through the rows endpoint, "
            "incrementally where the table has a replication key; `export` takes a full "
            "point-in-time snapshot through the async Export API on every run (full table, "
            "with ACTIVATE_VERSION so targets can remove rows that vanished from Ignite)."
        ),
    ),
    th.Property(
        "table_sync_modes",
        th.ObjectType(additional_properties=th.StringType(allowed_values=list(SYNC_MODES))),
        description=(
            "Table id -> `rows` or `export`, overriding sync_mode for that table, e.g. "
            '`{"suppliers": "export"}`.'
        ),
    ),
    th.Property(
        "export_format",
        th.StringType,
        default=DEFAULT_EXPORT_FORMAT,
        allowed_values=list(wire.EXPORT_FORMATS),
        description=(
            "File format of snapshot exports: `parquet` (default; read in record batches) "
            "or `json`. Records are the same either way."
        ),
    ),
    th.Property(
        "export_poll_interval",
        th.NumberType(exclusive_minimum=0),
        default=DEFAULT_EXPORT_POLL_INTERVAL,
        description=(
            "Seconds before the first status poll of an export; later polls wait "
            f"{EXPORT_POLL_GROWTH}x longer each time, up to {EXPORT_POLL_INTERVAL_CAP:g} s "
            "(or this value, if larger)."
        ),
    ),
    th.Property(
        "export_timeout",
        th.NumberType(exclusive_minimum=0),
        default=DEFAULT_EXPORT_TIMEOUT,
        description=(
            "Seconds to wait for an export to finish before stopping with an error that "
            "names it; the next run resumes polling the same export."
        ),
    ),
    th.Property(
        "data_table_ids",
        th.ArrayType(th.StringType),
        default=[],
        description=(
            "Ids (uuids) of legacy data tables to read through the deprecated data-table "
            "export, one stream each (named `datatable_<table name>`), properties keyed by "
            "column label, incremental on the `Last Modified` column where the table has one."
        ),
    ),
    th.Property(
        "use_singer_decimal",
        th.BooleanType,
        default=False,
        description=(
            "Declare NUMBER and MONETARY_AMOUNT properties as strings with format "
            "`x-singer.decimal` and send their values as exact decimal strings (the API's "
            "digits), for targets that would store JSON numbers as floating point."
        ),
    ),
)


def config_errors(data_table_ids: Sequence[str]) -> list[str]:
    """Problems with these settings that can be seen without asking the API."""
    errors: list[str] = []
    for value in data_table_ids:
        try:
            uuid.UUID(str(value))
        except ValueError:
            errors.append(f"data_table_ids: '{value}' is not a data table id (a uuid)")
    return errors


def table_errors(table_sync_modes: Mapping[str, str], table_ids: Sequence[str]) -> list[str]:
    """Problems with `table_sync_modes` given the tables `GET /tables/` lists."""
    known = ", ".join(sorted(table_ids))
    return [
        f"table_sync_modes: unknown table '{table_id}' (tables: {known})"
        for table_id in table_sync_modes
        if table_id not in table_ids
    ]
