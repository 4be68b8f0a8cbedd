"""Legacy data tables: the deprecated data-table listing and export, one stream per table.

Some tenants' custom data tables are reachable only through `GET /export/?dataTableId=`.
Rows are keyed by column label; pages follow the response's `next` (or `nextUrl`) link with
the same body; incremental runs ask for `lastModifiedDateFilter.gte` = the bookmark's date.
"""

from __future__ import annotations

import datetime
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator

from tap_ignite import wire
from tap_ignite.client import IgniteStream, decoded_body
from tap_ignite.columns import Column, column_schema
from tap_ignite.settings import parse_timestamp
from tap_ignite.table_stream import IgniteTableStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_ignite.tap import TapIgnite

STREAM_PREFIX = "datatable_"
# Bookmark dataTypes that lastModifiedDateFilter can bound.
TIME_DATA_TYPES = frozenset({"TIMESTAMP", "DATE"})


@dataclass(frozen=True)
class DataTable:
    """One legacy data table as `GET /datatables/` lists it; columns keyed by label."""

    id: str
    name: str
    columns: tuple[Column, ...]

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> DataTable:
        """Build from one item of the listing. A column's name is its label here."""
        columns = tuple(
            Column(
                name=str(col[wire.DATATABLE_COLUMN_LABEL]),
                label=str(col[wire.DATATABLE_COLUMN_LABEL]),
                data_type=str(col.get(wire.DATATABLE_COLUMN_DATA_TYPE) or ""),
                supported_operators=(),
            )
            for col in item.get(wire.DATATABLE_COLUMNS) or ()
        )
        return cls(
            id=str(item[wire.DATATABLE_ID]),
            name=str(item.get(wire.DATATABLE_NAME) or item[wire.DATATABLE_ID]),
            columns=columns,
        )

    def column(self, label: str) -> Column | None:
        """The column with this label, if any."""
        return next((col for col in self.columns if col.label == label), None)

    @property
    def primary_keys(self) -> list[str]:
        """The `ID` column, where the table has one."""
        return [wire.LEGACY_ID_LABEL] if self.column(wire.LEGACY_ID_LABEL) else []

    @property
    def replication_key(self) -> str | None:
        """The `Last Modified` column, where the table has one of a date or time type."""
        column = self.column(wire.LEGACY_LAST_MODIFIED_LABEL)
        return column.label if column and column.data_type in TIME_DATA_TYPES else None

    def json_schema(self) -> dict[str, Any]:
        """The Singer schema: one property per column label; key columns not null."""
        keys = set(self.primary_keys)
        return {
            "type": "object",
            "properties": {
                col.label: column_schema(col, nullable=col.label not in keys)
                for col in self.columns
            },
        }


def stream_names(tables: Sequence[DataTable]) -> dict[str, str]:
    """Table id -> stream name: `datatable_<name as snake case>`, made unique by id."""
    slugs = {table.id: _slug(table.name) or table.id.replace("-", "_") for table in tables}
    counts: dict[str, int] = {}
    for slug in slugs.values():
        counts[slug] = counts.get(slug, 0) + 1
    return {
        table_id: STREAM_PREFIX + (slug if counts[slug] == 1 else f"{slug}_{table_id[:8]}")
        for table_id, slug in slugs.items()
    }


# Letters that Unicode does not decompose into ASCII ones (Nordic and Polish names).
_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "o", "ß": "ss", "ł": "l", "đ": "d", "œ": "oe"})


def _slug(name: str) -> str:
    lower = name.lower().translate(_TRANSLITERATE)
    ascii_name = unicodedata.normalize("NFKD", lower).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")


class DataTableListing(IgniteStream):
    """`GET /datatables/`: the legacy data tables, for discovery (never in the catalog)."""

    name = "datatables"
    path = wire.DATATABLES_PATH

    def __init__(self, tap: TapIgnite) -> None:
        super().__init__(tap=tap, schema={"type": "object", "properties": {}})

    def fetch(self) -> list[DataTable]:
        """Every data table the listing shows."""
        return [DataTable.from_api(item) for item in self.request_records(None)]


def discover(tap: TapIgnite) -> list[DataTableStream]:
    """One stream per configured data table id; an id the listing lacks is a settings error."""
    wanted = list(tap.settings.data_table_ids)
    if not wanted:
        return []
    tables = {table.id: table for table in DataTableListing(tap).fetch()}
    known = ", ".join(f"{table.id} ({table.name})" for table in tables.values()) or "none"
    errors = [
        f"data_table_ids: unknown data table '{table_id}' (data tables: {known})"
        for table_id in wanted
        if table_id not in tables
    ]
    if errors:
        raise ConfigValidationError(errors[0], errors=errors)
    chosen = [tables[table_id] for table_id in dict.fromkeys(wanted)]
    names = stream_names(chosen)
    return [DataTableStream(tap, table, names[table.id]) for table in chosen]


class NextLinkPaginator(BaseHATEOASPaginator):
    """Follows the response's `next` (or `nextUrl`) link until it is empty."""

    @override
    def get_next_url(self, response: requests.Response) -> str | None:
        body = decoded_body(response)
        if not isinstance(body, dict):
            return None
        for key in wire.LEGACY_NEXT_LINKS:
            link = body.get(key)
            if link:
                return urljoin(response.url, str(link))
        return None

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        return self.has_more(response)


class DataTableStream(IgniteTableStream):
    """The rows of one legacy data table, through the deprecated `GET /export/`."""

    http_method = "GET"
    path = wire.LEGACY_EXPORT_PATH

    def __init__(self, tap: TapIgnite, table: DataTable, name: str) -> None:
        self.table = table
        super().__init__(
            tap,
            name=name,
            columns=table.columns,
            property_names={col.name: col.label for col in table.columns},
            schema=table.json_schema(),
            key_columns=table.primary_keys,
        )
        self.replication_key = table.replication_key
        self._body: dict[str, Any] = {}

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        return NextLinkPaginator()

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        link = page.next_page_token
        if link is None:
            request.params = {wire.LEGACY_DATA_TABLE_PARAM: self.table.id}
            return request
        # The link carries the table id and its cursor; the API token may only go where
        # api_url points.
        if (link.scheme, link.netloc) != urlsplit(self.url_base)[:2]:
            msg = (
                f"Data table '{self.table.name}': the next-page link points to "
                f"{link.scheme}://{link.netloc}, not to api_url; not following it"
            )
            raise FatalAPIError(msg)
        request.url = link.geturl()
        request.params = {}
        return request

    @override
    def prepare_request_payload(self, context: Context | None, next_page_token: Any) -> dict:
        return self._body

    def request_body(self, context: Context | None) -> dict[str, Any]:
        """The JSON body sent with every page: size, selected columns, modified-since date."""
        page_size = self.settings.page_size
        body: dict[str, Any] = {wire.LEGACY_BODY_SIZE: min(page_size, wire.LEGACY_PAGE_SIZE_MAX)}
        selected = self.selected_columns()
        if len(selected) < len(self.table.columns):
            body[wire.LEGACY_BODY_COLUMN_FILTER] = {wire.LEGACY_BODY_COLUMN_LABELS: selected}
        since = self._since(context)
        if since is not None:
            body[wire.LEGACY_BODY_LAST_MODIFIED_FILTER] = {"gte": since}
        return body

    def _since(self, context: Context | None) -> str | None:
        """The bookmark's (or start_date's) date: the filter takes dates, so the bookmark's
        day is read again (at least once, never a row missed)."""
        if self.replication_key is None:
            return None
        start = self.get_starting_replication_key_value(context)
        parsed = parse_timestamp(str(start)) if start is not None else None
        return parsed.strftime("%Y-%m-%d") if parsed is not None else None

    @override
    def table_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self._body = self.request_body(context)
        return self.request_records(context)

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """Now: rows come in ID order, so a row changed during the run is read next time."""
        if self.replication_key is None:
            return None
        return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        body = decoded_body(response)
        rows = body.get(wire.LEGACY_RESPONSE_DATA) if isinstance(body, dict) else None
        if not isinstance(rows, list):
            msg = (
                f"Ignite API answered {wire.LEGACY_EXPORT_PATH} for data table "
                f"'{self.table.name}' without a '{wire.LEGACY_RESPONSE_DATA}' list"
            )
            raise FatalAPIError(msg)
        return self.shape_rows(rows)
