"""Small DuckDB helpers shared by the modules that query the store."""

from __future__ import annotations

import struct
from typing import Any

import duckdb
import pyarrow as pa


def first_row(
    cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, or None.

    Fetches the whole (small) result: DuckDB 2 refuses new work on a cursor whose last
    result was left unfinished, which a bare fetchone() does.
    """
    rows = cur.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def arrow_result(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pa.Table:
    """A query's result as Arrow: strings stay in Arrow buffers instead of Python objects."""
    return cur.sql(sql, params=params).to_arrow_table()


def concat_texts(column: pa.ChunkedArray | pa.Array) -> bytes:
    """Every (non-null) string of a column back to back, copied once from Arrow's buffers.

    Page bodies are built from rows rendered as `<json>,` inside DuckDB, so this is the whole
    JSON array body (minus one trailing comma) without a Python object per row.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts: list[memoryview] = []
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = chunk.cast(pa.large_string())  # noqa: PLW2901 - e.g. string_view
        fmt, width = ("<q", 8) if pa.types.is_large_string(chunk.type) else ("<i", 4)
        offsets, data = chunk.buffers()[1], chunk.buffers()[2]
        if offsets is None or data is None:
            continue
        start = struct.unpack_from(fmt, offsets, chunk.offset * width)[0]
        end = struct.unpack_from(fmt, offsets, (chunk.offset + len(chunk)) * width)[0]
        parts.append(memoryview(data)[start:end])
    return b"".join(parts)
