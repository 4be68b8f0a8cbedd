"""Accepting an import: flat-row check, delete query, rows stored in DuckDB, import recorded.

Rows are kept as JSON texts written with exact decimals, so a value sent as
12345678901234567.89 reads back from `/_sandbox/repositories/{id}/rows` with the same digits.
Each import also keeps the SHA-256 of what it carried (the JSON body, or the uploaded file as
sent), so a test can tell whether two loads sent the very same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

import duckdb
import pyarrow as pa

from ignite_sandbox import wire
from ignite_sandbox.db import arrow_result, concat_texts, first_row
from ignite_sandbox.delete_queries import compile_delete_query
from ignite_sandbox.errors import bad_request, not_found
from ignite_sandbox.jsonbody import decode, encode
from ignite_sandbox.store import Store, new_id

_INSERT_BATCH = 100_000


@dataclass(frozen=True)
class ImportRequestInfo:
    """What an import call asked for, whichever endpoint it came through."""

    repository_id: str
    import_name: str | None
    delete_query_id: str | None
    kind: str  # "json" | "file"
    format: str  # "json" | "csv" | "ndjson" | "xlsx"
    bytes: int
    payload_sha256: str  # of the JSON body, or of the uploaded file as sent


def sha256_of(payload: bytes | IO[bytes]) -> str:
    """The hex SHA-256 of a body, or of a file read to its end (and rewound)."""
    if isinstance(payload, bytes):
        return hashlib.sha256(payload).hexdigest()
    digest = hashlib.sha256()
    for chunk in iter(lambda: payload.read(1 << 20), b""):
        digest.update(chunk)
    payload.seek(0)
    return digest.hexdigest()


def flat_row_check(rows: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """Yield rows, 400 at the first one that is not a flat object (naming index and field)."""
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise bad_request(f"data[{index}] must be an object, got {type(row).__name__}")
        for key, value in row.items():
            if isinstance(value, dict | list):
                kind = "object" if isinstance(value, dict) else "array"
                raise bad_request(
                    f"data[{index}].{key} is a nested {kind}; rows must be flat objects "
                    "(encode nested values as strings first)"
                )
        yield row


def encode_rows(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Each row as JSON text (exact decimals); checks flatness on the way."""
    return [encode(row).decode() for row in flat_row_check(rows)]


def check_target(cur: duckdb.DuckDBPyConnection, info: ImportRequestInfo) -> None:
    """404 for an unknown repository or delete query; 400 for a delete query of another one
    or an importName longer than the API takes."""
    if info.import_name is not None and len(info.import_name) > wire.MAX_IMPORT_NAME_LENGTH:
        raise bad_request(
            f"importName is {len(info.import_name)} characters long; at most "
            f"{wire.MAX_IMPORT_NAME_LENGTH} are accepted"
        )
    if not first_row(cur, "SELECT 1 FROM repositories WHERE id = ?", [info.repository_id]):
        raise not_found(f"unknown data repository '{info.repository_id}'")
    if info.delete_query_id:
        found = first_row(
            cur, "SELECT repository_id FROM delete_queries WHERE id = ?", [info.delete_query_id]
        )
        if not found:
            raise not_found(f"unknown delete query '{info.delete_query_id}'")
        if found[0] != info.repository_id:
            raise bad_request(
                f"delete query '{info.delete_query_id}' belongs to repository '{found[0]}', "
                f"not '{info.repository_id}'"
            )


def accept_import(store: Store, info: ImportRequestInfo, row_texts: list[str]) -> dict[str, Any]:
    """Apply the delete query, store the rows and record the import, all or nothing."""
    import_id = new_id()
    name = info.import_name or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.write_lock, store.cursor() as cur:
        check_target(cur, info)
        cur.execute("BEGIN")
        try:
            deleted = _apply_delete_query(cur, info)
            _insert_rows(cur, info.repository_id, import_id, row_texts)
            seq = first_row(cur, "SELECT coalesce(max(seq), 0) + 1 FROM imports")
            cur.execute(
                "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    seq[0] if seq else 1, import_id, info.repository_id, name,
                    info.delete_query_id, len(row_texts), deleted, info.kind, info.format,
                    info.bytes, dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    info.payload_sha256,
                ],
            )  # fmt: skip
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    return {
        wire.IMPORT_ID_FIELD: import_id,
        wire.IMPORT_NAME_FIELD: name,
        wire.IMPORT_ROWS_FIELD: len(row_texts),
    }


def _apply_delete_query(cur: duckdb.DuckDBPyConnection, info: ImportRequestInfo) -> int:
    if not info.delete_query_id:
        return 0
    found = first_row(
        cur, "SELECT filters_json FROM delete_queries WHERE id = ?", [info.delete_query_id]
    )
    if not found:  # checked before; kept for a concurrent admin change
        raise not_found(f"unknown delete query '{info.delete_query_id}'")
    filters = decode(found[0].encode(), "stored delete query")
    predicate = compile_delete_query(filters)
    where = f"repository_id = ? AND ({predicate.sql})"
    params = [info.repository_id, *predicate.params]
    count = first_row(cur, f"SELECT count(*) FROM repository_rows WHERE {where}", params)
    cur.execute(f"DELETE FROM repository_rows WHERE {where}", params)
    return int(count[0]) if count else 0


def _insert_rows(
    cur: duckdb.DuckDBPyConnection, repository_id: str, import_id: str, row_texts: list[str]
) -> None:
    start_row = first_row(cur, "SELECT coalesce(max(seq), 0) + 1 FROM repository_rows")
    start = int(start_row[0]) if start_row else 1
    for offset in range(0, len(row_texts), _INSERT_BATCH):
        chunk = row_texts[offset : offset + _INSERT_BATCH]
        batch = pa.table(
            {
                "repository_id": pa.array([repository_id] * len(chunk), pa.string()),
                "import_id": pa.array([import_id] * len(chunk), pa.string()),
                "seq": pa.array(range(start + offset, start + offset + len(chunk)), pa.int64()),
                "row_json": pa.array(chunk, pa.string()),
            }
        )
        cur.register("_import_batch", batch)
        cur.execute("INSERT INTO repository_rows SELECT * FROM _import_batch")
        cur.unregister("_import_batch")


def repository_rows_json(cur: duckdb.DuckDBPyConnection, repository_id: str) -> bytes:
    """`{"rows": [...]}` for a repository, rows in the order they were imported."""
    if not first_row(cur, "SELECT 1 FROM repositories WHERE id = ?", [repository_id]):
        raise not_found(f"unknown data repository '{repository_id}'")
    result = arrow_result(
        cur,
        "SELECT row_json || ',' AS j FROM repository_rows WHERE repository_id = ? ORDER BY seq",
        [repository_id],
    )
    return b'{"rows":[' + concat_texts(result.column("j"))[:-1] + b"]}"


def list_imports(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every accepted import, oldest first."""
    result = cur.execute(
        "SELECT import_id, repository_id, import_name, delete_query_id, rows, kind, format, "
        "deleted_rows, bytes, created_at, payload_sha256 FROM imports ORDER BY seq"
    ).fetchall()
    keys = (
        "importId", "dataRepositoryId", "importName", "deleteQueryId", "rows", "kind", "format",
        "deletedRows", "bytes", "createdAt", "payloadSha256",
    )  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in result]
