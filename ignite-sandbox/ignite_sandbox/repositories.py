"""Data repositories (created in the web app; here through the admin API) and delete queries."""

from __future__ import annotations

from typing import Any

import duckdb

from ignite_sandbox.db import first_row
from ignite_sandbox.delete_queries import validate_filters
from ignite_sandbox.errors import not_found
from ignite_sandbox.jsonbody import encode
from ignite_sandbox.store import Store, new_id


def list_repositories(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every repository, seeded ones first, then in creation order."""
    rows = cur.execute("SELECT id, name, fields FROM repositories ORDER BY created, id").fetchall()
    return [{"id": r[0], "name": r[1], "fields": list(r[2])} for r in rows]


def create_repository(store: Store, name: str, fields: list[str]) -> dict[str, Any]:
    """A new empty repository."""
    repository_id = new_id()
    with store.write_lock, store.cursor() as cur:
        created = first_row(cur, "SELECT coalesce(max(created), 0) + 1 FROM repositories")
        cur.execute(
            "INSERT INTO repositories VALUES (?, ?, ?, ?)",
            [repository_id, name, fields, created[0] if created else 1],
        )
    return {"id": repository_id, "name": name, "fields": fields}


def create_delete_query(store: Store, repository_id: str, filters: dict[str, Any]) -> str:
    """A saved predicate on one repository; returns its id."""
    validate_filters(filters)
    query_id = new_id()
    with store.write_lock, store.cursor() as cur:
        if not first_row(cur, "SELECT 1 FROM repositories WHERE id = ?", [repository_id]):
            raise not_found(f"unknown data repository '{repository_id}'")
        cur.execute(
            "INSERT INTO delete_queries VALUES (?, ?, ?)",
            [query_id, repository_id, encode(filters).decode()],
        )
    return query_id
