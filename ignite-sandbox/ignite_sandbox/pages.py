"""One page of `POST /tables/{entity}/rows`: keyset pagination over the table's orderBy key.

Rows are serialised to JSON inside DuckDB (exact decimals, RFC 3339 timestamps) and the page
is assembled from those texts, never from Python dicts of values.
"""

from __future__ import annotations

import duckdb

from ignite_sandbox.catalog import Table
from ignite_sandbox.cursors import PageTokens, body_fingerprint
from ignite_sandbox.db import arrow_result, concat_texts
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
    # Keys first, JSON second: ordering+limiting the keys alone and then rendering only the
    # rows between the page's first and last key (keys are unique, so with the same predicate
    # that is exactly the page) avoids rendering every later row before the top-N sort.
    # One row more than asked tells whether another page exists.
    source = quote(table.id)
    sql = (
        f"WITH page AS (SELECT {order_key} AS k FROM {source} WHERE {where} "
        f"ORDER BY {order_key} LIMIT {request.pageSize + 1}) "
        f"SELECT {order_key} AS k, {row_json_sql(columns, keys)} || ',' AS j FROM {source} "
        f"WHERE ({where}) AND {order_key} >= (SELECT min(k) FROM page) "
        f"AND {order_key} <= (SELECT max(k) FROM page) ORDER BY {order_key}"
    )
    params = params + params
    result = arrow_result(cur, sql, params)
    next_token = None
    if result.num_rows > request.pageSize:
        result = result.slice(0, request.pageSize)
        last_key = result.column("k")[request.pageSize - 1].as_py()
        next_token = tokens.issue(table.id, fingerprint, str(last_key))
    data = concat_texts(result.column("j"))[:-1]  # every row ends in a comma
    return b'{"data":[' + data + b'],"nextPageToken":' + encode(next_token) + b"}"
