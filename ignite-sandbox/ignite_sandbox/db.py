"""Small DuckDB helpers shared by the modules that query the store."""

from __future__ import annotations

from typing import Any

import duckdb


def first_row(
    cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, or None.

    Fetches the whole (small) result: DuckDB 2 refuses new work on a cursor whose last
    result was left unfinished, which a bare fetchone() does.
    """
    rows = cur.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
