"""tap-ignite settings: the schema users configure, and the checks run before any data moves.

The settings schema is the documentation (`tap-ignite --about`). Checks that need only the
config run with the SDK's own config validation; checks that need the tables' columns run
right after `GET /tables/`, still before the first row is requested.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from singer_sdk import typing as th

from tap_ignite import http_rules, mode_settings, wire
from tap_ignite.columns import KeyBy, Table
from tap_ignite.filters import filter_errors

DEFAULT_PAGE_SIZE = 10_000
# Before `max_page_token_restarts` and `max_url_refreshes` were settings of their own, both
# bounds were taken from max_retries (5): 5 restarts, and max_retries + 1 fresh URLs.
DEFAULT_MAX_PAGE_TOKEN_RESTARTS = 5
DEFAULT_MAX_URL_REFRESHES = 6
MAX_RESTARTS_LIMIT = 20
FULL_TABLE = ""  # a replication_keys value that means "read the whole table every run"

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "api_token",
        th.StringType,
        required=True,
        secret=True,
        description=(
            "Ignite API token, sent as `Authorization: Bearer <token>`. Legacy JWTs "
            "(`JWT ...`) are no longer accepted: generate a new API token in Ignite."
        ),
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=wire.DEFAULT_API_URL,
        description=(
            "Base URL of the Ignite Export API. Must be https://, except for a loopback "
            "host (127.0.0.1, ::1, localhost), e.g. a local ignite-sandbox."
        ),
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=wire.PAGE_SIZE_MIN, maximum=wire.PAGE_SIZE_MAX),
        default=DEFAULT_PAGE_SIZE,
        description="Rows asked for per request (1..100000); the API may return fewer.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description=(
            "Lower bound (inclusive) for each table's replication key on a first run, "
            "when there is no bookmark yet. Omit to read every row on the first run."
        ),
    ),
    th.Property(
        "filters",
        th.ObjectType(additional_properties=th.ObjectType()),
        description=(
            "Table id -> a filters object in the Export API's own syntax, keyed by column "
            'name, e.g. `{"spend": {"amount": {"gte": 100}}}`. Sent with every request for '
            "that table, together with the incremental bound."
        ),
    ),
    th.Property(
        "replication_keys",
        th.ObjectType(additional_properties=th.StringType),
        description=(
            "Table id -> the column incremental sync bookmarks. Default: `updated_at` where "
            'the table has it, else the table is read in full every run. `""` forces a '
            "full-table read."
        ),
    ),
    th.Property(
        "key_by",
        th.StringType,
        default="name",
        allowed_values=["name", "label"],
        description=(
            "Record property names: column `name` (default), or `label` as the Export API "
            "makes labels unique (`Date`, `Date (posting_date)`, `Amount #2`, ...)."
        ),
    ),
    # request_timeout, max_retries, max_retry_after: the same in target-ignite.
    *http_rules.PROPERTIES,
    th.Property(
        "max_page_token_restarts",
        th.IntegerType(minimum=0, maximum=MAX_RESTARTS_LIMIT),
        default=DEFAULT_MAX_PAGE_TOKEN_RESTARTS,
        description=(
            "Times a table's paging starts again from the first page after its page token "
            "expired (410 `page_token_expired`); rows already sent are sent again. One more "
            "expiry stops the run with an error that names the table."
        ),
    ),
    th.Property(
        "max_url_refreshes",
        th.IntegerType(minimum=0, maximum=MAX_RESTARTS_LIMIT),
        default=DEFAULT_MAX_URL_REFRESHES,
        description=(
            "Times the download of one export file asks the export for fresh download URLs "
            "after its signed URL answered 403 (expired). One more 403 stops the run with an "
            "error that names the file."
        ),
    ),
    # Snapshot exports, legacy data tables and decimal strings (mode_settings.py).
    *mode_settings.PROPERTIES,
).to_dict()


@dataclass(frozen=True)
class TapSettings:
    """The tap's settings, typed, built once from the validated config (`TapIgnite.settings`).

    Every default is the schema's (CONFIG_SCHEMA), which the SDK fills in while it validates
    the config; settings without one are None or empty here.
    """

    api_token: str
    api_url: str
    page_size: int
    start_date: str | None
    filters: Mapping[str, Mapping[str, Any]]
    replication_keys: Mapping[str, str]
    key_by: KeyBy
    request_timeout: float
    max_retries: int
    max_retry_after: float
    max_page_token_restarts: int
    max_url_refreshes: int
    sync_mode: mode_settings.SyncMode
    table_sync_modes: Mapping[str, mode_settings.SyncMode]
    export_format: str
    export_poll_interval: float
    export_timeout: float
    data_table_ids: tuple[str, ...]
    use_singer_decimal: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TapSettings:
        """The settings of a config the SDK validated (and filled with the schema's defaults)."""
        start_date = config.get("start_date")
        return cls(
            api_token=str(config["api_token"]),
            api_url=str(config["api_url"]),
            page_size=int(config["page_size"]),
            start_date=None if start_date is None else str(start_date),
            filters=dict(config.get("filters") or {}),
            replication_keys=dict(config.get("replication_keys") or {}),
            key_by=config["key_by"],
            request_timeout=float(config["request_timeout"]),
            max_retries=int(config["max_retries"]),
            max_retry_after=float(config["max_retry_after"]),
            max_page_token_restarts=int(config["max_page_token_restarts"]),
            max_url_refreshes=int(config["max_url_refreshes"]),
            sync_mode=config["sync_mode"],
            table_sync_modes=dict(config.get("table_sync_modes") or {}),
            export_format=str(config["export_format"]),
            export_poll_interval=float(config["export_poll_interval"]),
            export_timeout=float(config["export_timeout"]),
            data_table_ids=tuple(str(value) for value in config["data_table_ids"]),
            use_singer_decimal=bool(config["use_singer_decimal"]),
        )

    def table_sync_mode(self, table_id: str) -> mode_settings.SyncMode:
        """The mode a table is read in: its own entry in table_sync_modes, else sync_mode."""
        return self.table_sync_modes.get(table_id) or self.sync_mode


def config_errors(settings: TapSettings) -> list[str]:
    """Problems with settings that can be seen without asking the API (one line each)."""
    errors = [
        problem
        for problem in (
            http_rules.token_problem(settings.api_token, wire.LEGACY_JWT_PREFIX),
            http_rules.api_url_problem(settings.api_url),
        )
        if problem
    ]
    start_date = settings.start_date
    if start_date is not None and parse_timestamp(start_date) is None:
        errors.append(
            f"start_date '{start_date}' is not a date or an RFC 3339 timestamp "
            "(e.g. 2026-01-15 or 2026-01-15T00:00:00Z)"
        )
    errors.extend(mode_settings.config_errors(settings.data_table_ids))
    return errors


def parse_timestamp(value: str) -> datetime.datetime | None:
    """A date or RFC 3339 timestamp as an aware UTC datetime; None if it is neither."""
    text = value.strip()
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)


def table_errors(settings: TapSettings, tables: Sequence[Table]) -> list[str]:
    """Problems with `filters` and `replication_keys` given the tables' columns."""
    by_id = {table.id: table for table in tables}
    known = ", ".join(sorted(by_id))
    errors: list[str] = []
    for table_id, filters in settings.filters.items():
        table = by_id.get(table_id)
        if table is None:
            errors.append(f"filters: unknown table '{table_id}' (tables: {known})")
            continue
        errors.extend(filter_errors(table, filters))
    for table_id, column_name in settings.replication_keys.items():
        table = by_id.get(table_id)
        if table is None:
            errors.append(f"replication_keys: unknown table '{table_id}' (tables: {known})")
            continue
        if column_name == FULL_TABLE:
            continue
        column = table.column(column_name)
        if column is None:
            errors.append(
                f"replication_keys: table '{table_id}' has no column '{column_name}' "
                f"(columns: {', '.join(col.name for col in table.columns)})"
            )
        elif "gte" not in column.supported_operators:
            errors.append(
                f"replication_keys: column '{column_name}' of table '{table_id}' does not "
                "support the 'gte' operator incremental sync needs "
                f"(allowed operators: {', '.join(column.supported_operators) or 'none'})"
            )
    errors.extend(mode_settings.table_errors(settings.table_sync_modes, list(by_id)))
    return errors
