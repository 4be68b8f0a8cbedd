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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator, SinglePagePaginator

from tap_ignite import wire
from tap_ignite.batch_storage import BatchStorageErrors
from tap_ignite.client import IgniteStream, decoded_body
from tap_ignite.columns import Column, column_schema
from tap_ignite.decimal_strings import decimal_keys, stringify_decimals, with_decimal_strings
from tap_ignite.mode_settings import use_singer_decimal
from tap_ignite.settings import DEFAULT_PAGE_SIZE, parse_timestamp

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

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

    def json_schema(self, *, decimal_strings: bool) -> dict[str, Any]:
        """The Singer schema: one property per column label; key columns not null."""
        keys = set(self.primary_keys)
        schema = {
            "type": "object",
            "properties": {
                col.label: column_schema(col, nullable=col.label not in keys)
                for col in self.columns
            },
        }
        if decimal_strings:
            schema = with_decimal_strings(schema, self.decimal_keys())
        return schema

    def decimal_keys(self) -> list[str]:
        """Labels of the NUMBER and MONETARY_AMOUNT columns."""
        return decimal_keys({col.label: col.data_type for col in self.columns})


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

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap=tap, schema={"type": "object", "properties": {}})

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        return SinglePagePaginator()

    def fetch(self) -> list[DataTable]:
        """Every data table the listing shows."""
        return [DataTable.from_api(item) for item in self.request_records(None)]


def discover(tap: Tap) -> list[DataTableStream]:
    """One stream per configured data table id; an id the listing lacks is a settings error."""
    wanted = [str(value) for value in tap.config.get("data_table_ids") or ()]
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


class DataTableStream(BatchStorageErrors, IgniteStream):
    """The rows of one legacy data table, through the deprecated `GET /export/`."""

    http_method = "GET"
    path = wire.LEGACY_EXPORT_PATH

    def __init__(self, tap: Tap, table: DataTable, name: str) -> None:
        self.table = table
        self.decimal_strings = use_singer_decimal(tap.config)
        super().__init__(
            tap=tap, name=name, schema=table.json_schema(decimal_strings=self.decimal_strings)
        )
        self.primary_keys = table.primary_keys
        self.replication_key = table.replication_key
        self._unknown = [col.label for col in table.columns if not col.is_known_type]
        self._decimals = table.decimal_keys() if self.decimal_strings else []
        self._body: dict[str, Any] = {}

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        return NextLinkPaginator()

    @override
    def replication_data_type(self) -> str | None:
        column = self.table.column(self.replication_key) if self.replication_key else None
        return column.data_type if column else None

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
        page_size = int(self.config.get("page_size", DEFAULT_PAGE_SIZE))
        body: dict[str, Any] = {wire.LEGACY_BODY_SIZE: min(page_size, wire.LEGACY_PAGE_SIZE_MAX)}
        selected = [col.label for col in self.table.columns if self.mask[("properties", col.label)]]
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
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self._body = self.request_body(context)
        return super().get_records(context)

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
        shaped: Iterable[dict[str, Any]] = rows
        if self._unknown:
            shaped = _stringify(shaped, self._unknown)
        if self._decimals:
            shaped = stringify_decimals(shaped, self._decimals)
        return shaped


def _stringify(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        for key in keys:
            value = row.get(key)
            if value is not None and not isinstance(value, str):
                row[key] = msgspec.json.encode(value).decode()
        yield row
