"""One page of `POST /tables/{entity}/rows`: keyset pagination over the table's orderBy key.

Rows are serialised to JSON inside DuckDB (exact decimals, RFC 3339 timestamps) and the page
is assembled from those texts, never from Python dicts of values.
"""

from __future__ import annotations

import duckdb

from ignite_sandbox.catalog import Table
from ignite_sandbox.cursors import PageTokens, body_fingerprint
from ignite_sandbox.jsonbody import encode
from ignite_sandbox.models import RowsRequest
from ignite_sandbox.query import compile_filters, quote, row_json_sql, select_columns


def rows_page(
    cur: duckdb.DuckDBPyConnection, table: Table, request: RowsRequest, tokens: PageTokens
) -> bytes:
    """The JSON body `{"data": [...], "nextPageToken": ...}` for this request."""
    columns = select_columns(table, request.fields)
    predicate = compile_filters(table, request.filters)
    fingerprint = body_fingerprint(request.fingerprint_body())
    after = None
    if request.pageToken:
        after = tokens.read(request.pageToken, table.id, fingerprint)
    keys = table.label_keys() if request.keyBy == "label" else {c.name: c.name for c in columns}
    order_key = quote(table.order_by)
    where = predicate.sql
    params = list(predicate.params)
    if after is not None:
        where = f"({where}) AND {order_key} > ?"
        params.append(after)
    # One row more than asked tells whether another page exists.
    sql = (
        f"SELECT {order_key}, {row_json_sql(columns, keys)} FROM {quote(table.id)} "
        f"WHERE {where} ORDER BY {order_key} LIMIT {request.pageSize + 1}"
    )
    rows = cur.execute(sql, params).fetchall()
    next_token = None
    if len(rows) > request.pageSize:
        rows = rows[: request.pageSize]
        next_token = tokens.issue(table.id, fingerprint, str(rows[-1][0]))
    data = ",".join(r[1] for r in rows)
    return b'{"data":[' + data.encode() + b'],"nextPageToken":' + encode(next_token) + b"}"
