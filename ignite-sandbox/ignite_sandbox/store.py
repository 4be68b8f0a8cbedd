"""The sandbox's one DuckDB database: seeded tables, repositories, imports, delete queries.

Requests run on worker threads, each through its own DuckDB cursor on the shared database.
Writes that must not interleave (imports with their delete queries, touches) take `write_lock`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ignite_sandbox import legacy_data, seed
from ignite_sandbox.db import first_row

# Seeded repositories: fixed ids, so demos and meltano.yml can name them.
SEEDED_REPOSITORIES = [
    (
        "3f1c2b7e-6a1d-4e0b-9a55-0c1d2e3f4a51",
        "ExampleRepository1",
        ["AccountCode", "AccountingDate", "Amount", "Currency", "Description", "SupplierName"],
    ),
    (
        "3f1c2b7e-6a1d-4e0b-9a55-0c1d2e3f4a52",
        "ExampleRepository2",
        ["AccountName", "AccountCode", "AccountDescription"],
    ),
    # Not from the vendor docs: where the README's postgres-to-ignite job loads erp.invoices
    # (`./dev postgres` makes that table), named in meltano.yml.
    (
        "3f1c2b7e-6a1d-4e0b-9a55-0c1d2e3f4a53",
        "ERP invoices",
        [
            "invoice_id",
            "period",
            "supplier_name",
            "amount",
            "currency",
            "invoice_date",
            "description",
        ],
    ),
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS repositories (
    id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, fields VARCHAR[] NOT NULL, created BIGINT
);
CREATE TABLE IF NOT EXISTS repository_rows (
    repository_id VARCHAR NOT NULL, import_id VARCHAR NOT NULL, seq BIGINT NOT NULL,
    row_json VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS imports (
    seq BIGINT, import_id VARCHAR, repository_id VARCHAR, import_name VARCHAR,
    delete_query_id VARCHAR, rows BIGINT, deleted_rows BIGINT, kind VARCHAR, format VARCHAR,
    bytes BIGINT, created_at VARCHAR, payload_sha256 VARCHAR
);
-- A --db file made before imports kept their payload's digest.
ALTER TABLE imports ADD COLUMN IF NOT EXISTS payload_sha256 VARCHAR;
CREATE TABLE IF NOT EXISTS delete_queries (
    id VARCHAR PRIMARY KEY, repository_id VARCHAR NOT NULL, filters_json VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""
# sandbox_meta keys of the page tokens' signing key and generation (cursors.py).
_CURSOR_SIGNING = "cursor_signing"
_CURSOR_GENERATION = "cursor_generation"
_META_VALUE = "SELECT value FROM sandbox_meta WHERE key = ?"


class Store:
    """Owns the DuckDB database and hands out per-request cursors."""

    def __init__(self, db_path: str | None) -> None:
        if db_path:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(db_path or ":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        self._con_lock = threading.Lock()
        self.write_lock = threading.RLock()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one request or job (DuckDB cursors are not shared)."""
        with self._con_lock:
            cur = self._con.cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        """Checkpoint and close (a --db file is then consistent on disk)."""
        with self._con_lock:
            self._con.close()

    def prepare(self, spend_rows: int, seed_value: int, legacy_rows: int) -> bool:
        """Create the schema and seed data unless an existing --db already holds this seed.

        Returns True when data was (re)generated.
        """
        marker = f"spend_rows={spend_rows};seed={seed_value};legacy_rows={legacy_rows};v=1"
        with self.cursor() as cur:
            cur.execute(_SCHEMA)
            found = first_row(cur, "SELECT value FROM sandbox_meta WHERE key = 'seed'")
            if found and found[0] == marker:
                return False
            cur.execute("BEGIN")
            seed.seed_export_tables(cur, spend_rows, seed_value)
            legacy_data.seed_data_tables(cur, legacy_rows, seed_value)
            for repo_id, name, fields in SEEDED_REPOSITORIES:
                cur.execute(
                    "INSERT OR REPLACE INTO repositories VALUES (?, ?, ?, 0)",
                    [repo_id, name, fields],
                )
            cur.execute("INSERT OR REPLACE INTO sandbox_meta VALUES ('seed', ?)", [marker])
            cur.execute("COMMIT")
        return True

    def page_token_key(self) -> tuple[bytes, int]:
        """The key page tokens are signed with and their generation, made on first use.

        Kept in the database, so a restart on the same --db file honours earlier tokens.
        """
        with self.write_lock, self.cursor() as cur:
            cur.execute(_SCHEMA)
            found = first_row(cur, _META_VALUE, [_CURSOR_SIGNING])
            if found is None:
                key = os.urandom(32).hex()
                cur.execute("INSERT INTO sandbox_meta VALUES (?, ?)", [_CURSOR_SIGNING, key])
            else:
                key = str(found[0])
            generation = first_row(cur, _META_VALUE, [_CURSOR_GENERATION])
        return bytes.fromhex(key), int(generation[0]) if generation else 0

    def set_page_token_generation(self, generation: int) -> None:
        """Keep a new generation (every earlier token then answers 410)."""
        with self.write_lock, self.cursor() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO sandbox_meta VALUES (?, ?)",
                [_CURSOR_GENERATION, str(generation)],
            )


def new_id() -> str:
    """A fresh uuid4 string for imports, exports, repositories and delete queries."""
    return str(uuid.uuid4())
