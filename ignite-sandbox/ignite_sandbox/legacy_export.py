"""The deprecated data-table export: rows keyed by column label, `next` links, column and
last-modified filters. Paging follows the "ID" column; the `next` link carries a signed cursor
bound to the request body (the client repeats the same body on every link).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import duckdb

from ignite_sandbox import wire
from ignite_sandbox.cursors import PageTokens, body_fingerprint
from ignite_sandbox.db import arrow_result, concat_texts, first_row
from ignite_sandbox.errors import bad_request
from ignite_sandbox.jsonbody import encode
from ignite_sandbox.legacy_data import ID_LABEL, LAST_MODIFIED_LABEL, DataTable, LegacyColumn
from ignite_sandbox.models import LegacyExportRequest
from ignite_sandbox.query import parse_date, parse_timestamp, quote, sql_string

_RELATIVE = re.compile(r"^now(?:-(\d+)([yMwdhHms]))?$")
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}


def selected_columns(table: DataTable, request: LegacyExportRequest) -> list[LegacyColumn]:
    """Every column, or those whose dataType or label the columnFilter names (a union)."""
    column_filter = request.columnFilter
    if column_filter is None or (
        column_filter.dataTypes is None and column_filter.columnLabels is None
    ):
        return list(table.columns)
    labels = set(column_filter.columnLabels or [])
    unknown = sorted(labels - {c.label for c in table.columns})
    if unknown:
        raise bad_request(
            f"columnFilter.columnLabels names columns that data table '{table.id}' does not "
            f"have: {', '.join(unknown)}"
        )
    types = set(column_filter.dataTypes or [])
    columns = [c for c in table.columns if c.label in labels or c.data_type in types]
    if not columns:
        raise bad_request("columnFilter selects no columns of this data table")
    return columns


def last_modified_threshold(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """`YYYY-MM-DD`, an RFC 3339 timestamp, or `now-<n><unit>` as naive UTC."""
    where = "lastModifiedDateFilter.gte"
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    match = _RELATIVE.match(text.strip())
    if match:
        amount, unit = int(match.group(1) or 0), match.group(2)
        try:
            if unit == "y":
                return _minus_months(now, 12 * amount)
            if unit == "M":
                return _minus_months(now, amount)
            return now - dt.timedelta(seconds=amount * _UNIT_SECONDS.get(unit or "s", 1))
        except (OverflowError, ValueError):
            raise bad_request(f"{where} {text!r} reaches before year 1") from None
    if "T" in text:
        return parse_timestamp(text, where)
    try:
        day = parse_date(text, where)
    except Exception:
        raise bad_request(
            f"{where} must be YYYY-MM-DD, an RFC 3339 timestamp or now-<n><unit> with unit "
            f"y, M, w, d, h, H, m or s; got {text!r}"
        ) from None
    return dt.datetime.combine(day, dt.time())


def _minus_months(moment: dt.datetime, months: int) -> dt.datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _value_sql(column: LegacyColumn) -> str:
    if column.data_type == "TIMESTAMP":
        return f"strftime({quote(column.label)}, '%Y-%m-%dT%H:%M:%SZ')"
    return quote(column.label)


def legacy_page(
    cur: duckdb.DuckDBPyConnection,
    table: DataTable,
    request: LegacyExportRequest,
    cursor: str | None,
    *,
    tokens: PageTokens,
    base_url: str,
) -> bytes:
    """`{"data": [...], "totalCount": N, "next": url | null}` for one iteration."""
    columns = selected_columns(table, request)
    clauses: list[str] = []
    params: list[object] = []
    if request.lastModifiedDateFilter is not None:
        clauses.append(f"{quote(LAST_MODIFIED_LABEL)} >= ?")
        params.append(last_modified_threshold(request.lastModifiedDateFilter.gte))
    source = quote(table.sql_table)
    where = " AND ".join(clauses) or "TRUE"
    total = first_row(cur, f"SELECT count(*) FROM {source} WHERE {where}", params)
    scope = f"datatable:{table.id}"
    fingerprint = body_fingerprint(request.model_dump(mode="json"))
    page_clauses = list(clauses)
    page_params = list(params)
    if cursor:
        page_clauses.append(f"{quote(ID_LABEL)} > ?")
        page_params.append(tokens.read(cursor, scope, fingerprint))
    row_json = ", ".join(f"{sql_string(c.label)}, {_value_sql(c)}" for c in columns)
    result = arrow_result(
        cur,
        f"SELECT {quote(ID_LABEL)} AS k, json_object({row_json})::VARCHAR || ',' AS j "
        f"FROM {source} WHERE {' AND '.join(page_clauses) or 'TRUE'} "
        f"ORDER BY {quote(ID_LABEL)} LIMIT {request.size + 1}",
        page_params,
    )
    next_url = None
    if result.num_rows > request.size:
        result = result.slice(0, request.size)
        token = tokens.issue(scope, fingerprint, str(result.column("k")[request.size - 1].as_py()))
        next_url = (
            f"{base_url.rstrip('/')}{wire.LEGACY_EXPORT_PATH}?dataTableId={table.id}"
            f"&{wire.LEGACY_CURSOR_PARAM}={token}"
        )
    data = concat_texts(result.column("j"))[:-1]
    return (
        b'{"data":['
        + data
        + b'],"totalCount":'
        + str(int(total[0]) if total else 0).encode()
        + b',"'
        + wire.LEGACY_NEXT_FIELD.encode()
        + b'":'
        + encode(next_url)
        + b"}"
    )
