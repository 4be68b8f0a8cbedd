"""What the worker runs for a stream, each as one transaction: a batch of RECORD lines, the
files of one BATCH message, the retirement of older versions.

BATCH files go to DuckDB as they are: parquet through DuckDB's own `read_parquet` (no row
passes through Python), jsonl through the same Arrow read as RECORD lines. Either way the
rows get the same casts and checks as RECORD rows (`loading.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from target_duckdb_typed import wire
from target_duckdb_typed.batch_files import BatchFile
from target_duckdb_typed.errors import BadInput, LoadStopped
from target_duckdb_typed.loading import NULL, Source, prepare_versions, row_name, statements
from target_duckdb_typed.names import TableName, ident, literal
from target_duckdb_typed.record_lines import (
    EXTRACTED,
    LINE,
    VERSION,
    LineBuffer,
    ReadPlan,
    read_lines,
    source_name,
)
from target_duckdb_typed.warehouse import Warehouse, describe

ROWS = "target_duckdb_typed_rows"
JSONL_CHUNK_BYTES = 8 << 20  # lines of a jsonl BATCH file parsed and inserted at a time
_ERROR_PREFIX = re.compile(r"^[A-Za-z ]+ Error: ")
_AT_LINE = re.compile(r"^line (\d+) ")


@dataclass(frozen=True)
class StreamTable:
    """A stream, the table it loads, and how its lines are read."""

    stream: str
    table: TableName
    plan: ReadPlan


def load_lines(
    warehouse: Warehouse, target: StreamTable, buffer: LineBuffer, version: int | None
) -> None:
    """A batch of RECORD lines. At a bad line, the lines before it are committed (in a
    transaction of their own) and BadInput names the line."""
    try:
        _load_lines(warehouse, target, buffer, version)
        # Arrow's allocator keeps freed memory for reuse; between batches it is not needed.
        pa.default_memory_pool().release_unused()
    except BadInput as exc:
        earlier = buffer.before(exc.line) if exc.line is not None else LineBuffer()
        if len(earlier):
            _load_lines(warehouse, target, earlier, version)
            warehouse.logger.info(
                "Committed the %d rows of stream '%s' read before line %d",
                len(earlier),
                target.stream,
                exc.line,
            )
        raise


def _load_lines(
    warehouse: Warehouse, target: StreamTable, buffer: LineBuffer, version: int | None
) -> None:
    rows = read_lines(buffer, target.plan)
    versions = rows.column(VERSION)
    if versions.null_count == len(versions):
        version_sql = NULL if version is None else str(int(version))
    else:
        version_sql = f"src.{VERSION}" if version is None else f"coalesce(src.{VERSION}, {version})"
    keys = target.plan.keys
    names = {column.name: source_name(i) for i, column in enumerate(target.plan.columns)}
    source = Source(
        relation=ROWS,
        columns=names,
        order=LINE,
        where=row_name(
            "line ",
            f"src.{LINE}",
            target.stream,
            [(key, names[key]) for key in keys],
        ),
        version=version_sql,
        extracted=f"src.{EXTRACTED}",
        unchecked_decimals=True,
    )
    with _registered(warehouse, ROWS, rows), _translated(target):
        prepare_versions(warehouse, target.table, source.version)
        with warehouse.transaction():
            for sql in statements(warehouse, target.stream, target.table, source, keys):
                warehouse.execute(sql)


def load_files(
    warehouse: Warehouse,
    target: StreamTable,
    *,
    encoding_format: str,
    compression: str | None,
    urls: Sequence[str],
    version: int | None,
) -> None:
    """The files of a run of BATCH messages, as one transaction. One file at a time: a
    parquet file elsewhere (s3://...) is copied to a temporary folder and deleted once
    loaded, a jsonl file is read a chunk of lines at a time."""
    if encoding_format not in {wire.BATCH_PARQUET, wire.BATCH_JSONL}:
        msg = f"stream '{target.stream}': BATCH files in '{encoding_format}' are not supported"
        raise LoadStopped(msg)
    version_sql = NULL if version is None else str(int(version))
    with _translated(target):
        prepare_versions(warehouse, target.table, version_sql)
        with warehouse.transaction():
            for url in urls:
                file = BatchFile(url, encoding_format, target.stream)
                if encoding_format == wire.BATCH_PARQUET:
                    with file.local_path(warehouse.logger) as path:
                        source = _parquet_source(warehouse, target, path, version_sql)
                        _run(warehouse, target, source)
                else:
                    _load_jsonl(warehouse, target, file, compression, version_sql)


def _run(warehouse: Warehouse, target: StreamTable, source: Source) -> None:
    for sql in statements(warehouse, target.stream, target.table, source, target.plan.keys):
        warehouse.execute(sql)


def _load_jsonl(
    warehouse: Warehouse,
    target: StreamTable,
    file: BatchFile,
    compression: str | None,
    version_sql: str,
) -> None:
    """A jsonl BATCH file read like RECORD lines, a chunk of lines at a time."""
    plan = ReadPlan(target.stream, target.plan.columns, target.plan.keys, wrapped=False)
    columns = {column.name: source_name(i) for i, column in enumerate(plan.columns)}
    source = Source(
        relation=ROWS,
        columns=columns,
        order=LINE,
        where=row_name(
            f"file {file.name} line ",
            f"src.{LINE}",
            target.stream,
            [(key, columns[key]) for key in plan.keys],
        ),
        version=version_sql,
        unchecked_decimals=True,
    )
    for buffer in file.line_chunks(compression, JSONL_CHUNK_BYTES):
        rows = read_lines(buffer, plan, origin=f"file {file.name}")
        with _registered(warehouse, ROWS, rows):
            _run(warehouse, target, source)


def _parquet_source(
    warehouse: Warehouse, target: StreamTable, path: Path, version_sql: str
) -> Source:
    """A parquet BATCH file as DuckDB reads it (`read_parquet`), its keys checked."""
    relation = f"read_parquet({literal(str(path))}, file_row_number = true)"
    in_file = {name.lower(): name for name in describe(warehouse.con, relation)}
    columns = {
        column.name: in_file[column.name.lower()]
        for column in target.plan.columns
        if column.name.lower() in in_file
    }
    for key in target.plan.keys:
        if key not in columns:
            msg = f"file {path.name} (stream '{target.stream}'): no column for key property {key}"
            raise BadInput(msg)
        rows = warehouse.con.execute(
            f"SELECT file_row_number FROM {relation} WHERE {ident(columns[key])} IS NULL LIMIT 1"
        ).fetchall()
        if rows:
            msg = (
                f"file {path.name} row {int(rows[0][0]) + 1} (stream '{target.stream}'): "
                f"key property {key} is null"
            )
            raise BadInput(msg)
    return Source(
        relation=relation,
        columns=columns,
        order="file_row_number",
        where=row_name(
            f"file {path.name} row ",
            "src.file_row_number + 1",
            target.stream,
            [(key, columns[key]) for key in target.plan.keys],
        ),
        version=version_sql,
    )


def retire_versions(warehouse: Warehouse, target: StreamTable, version: int, *, soft: bool) -> None:
    """Rows of versions older than `version` are deleted (or marked, `soft`)."""
    with _translated(target):
        count = warehouse.retire_versions(target.table, version, soft=soft)
    warehouse.logger.info(
        "Stream '%s': version %d is active; %d rows of older versions %s in %s",
        target.stream,
        version,
        count,
        "marked with _sdc_deleted_at" if soft else "deleted",
        target.table,
    )


@contextmanager
def _registered(warehouse: Warehouse, name: str, rows: pa.Table) -> Iterator[None]:
    warehouse.con.register(name, rows)
    try:
        yield
    finally:
        warehouse.con.unregister(name)


@contextmanager
def _translated(target: StreamTable) -> Iterator[None]:
    """DuckDB's errors as one-line LoadStopped (BadInput when they name a line)."""
    try:
        yield
    except duckdb.Error as exc:
        text = _ERROR_PREFIX.sub("", str(exc).strip().splitlines()[0])
        match = _AT_LINE.match(text)
        if match:
            raise BadInput(text, int(match.group(1))) from None
        if text.startswith("file "):
            raise BadInput(text) from None
        msg = f"stream '{target.stream}': could not load table {target.table}: {text}"
        if "failed to allocate" in text or "Out of Memory" in text:
            msg += " (raise the memory_limit setting)"
        raise LoadStopped(msg) from None
