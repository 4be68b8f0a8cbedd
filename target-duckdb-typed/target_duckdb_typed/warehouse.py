"""The DuckDB file: opened once per load, tables made and evolved, checkpointed at the end.

Only the loader's worker thread runs statements here (see `worker.py`), one after another,
so DDL, batches and version retirements happen in the order their messages came.

Schema evolution, column by column (`sql_types.holds`): a new property adds a column; a
table column that holds what the schema now asks for stays as it is (values are cast into
it); one that the new type holds is widened with ALTER (BIGINT -> DECIMAL(38,9), DATE ->
TIMESTAMPTZ, DECIMAL(18,2) -> DECIMAL(38,9), a scalar -> VARCHAR); anything else stops the
load with both types named. Columns the schema no longer has are kept (NULL in new rows).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from target_duckdb_typed import sql_types as st
from target_duckdb_typed import wire
from target_duckdb_typed.errors import LoadStopped, SchemaChangeRefused
from target_duckdb_typed.names import TableName, ident, literal
from target_duckdb_typed.sql_types import SqlType

METADATA_COLUMNS: tuple[tuple[str, SqlType], ...] = (
    (wire.EXTRACTED_AT, SqlType(st.TIMESTAMPTZ)),
    (wire.BATCHED_AT, SqlType(st.TIMESTAMPTZ)),
    (wire.TABLE_VERSION, SqlType(st.BIGINT)),
    (wire.DELETED_AT, SqlType(st.TIMESTAMPTZ)),
)
VERSION_COLUMNS = METADATA_COLUMNS[2:]

# How DuckDB works for a load, beside the tap that feeds it (benchmarks/PROFILE.md): one
# thread (the loader's main thread reads the input meanwhile); a checkpoint once the WAL
# holds 32 MB rather than after nearly every batch (committed rows are in the WAL either
# way); freed memory handed back after each task rather than kept for the next.
LOAD_SETTINGS = {
    "threads": "1",
    "checkpoint_threshold": "'32MB'",
    "allocator_flush_threshold": "'8MB'",
}


@dataclass(frozen=True)
class TableColumn:
    """A column as the table has it (DuckDB matches names case-insensitively)."""

    name: str
    type: SqlType


class Warehouse:
    """One DuckDB database file and what the loader knows of its tables."""

    def __init__(self, filepath: str, memory_limit: str, logger: logging.Logger) -> None:
        path = Path(filepath).expanduser()
        self.path = path
        self.logger = logger
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(path))
        except (duckdb.Error, OSError) as exc:
            reason = str(exc).splitlines()[0]
            msg = f"could not open the DuckDB file {path}: {reason}"
            raise LoadStopped(msg) from None
        # Date-times without an offset are UTC, and TIMESTAMPTZ text is written in UTC.
        self.con.execute("SET TimeZone = 'UTC'")
        try:
            self.con.execute(f"SET memory_limit = {literal(memory_limit)}")
        except duckdb.Error as exc:
            self.con.close()
            msg = f"memory_limit '{memory_limit}' is not a size DuckDB takes: {exc}"
            raise LoadStopped(msg) from None
        for setting, value in LOAD_SETTINGS.items():
            self.con.execute(f"SET {setting} = {value}")
        self.catalog = str(self.scalar("SELECT current_database()"))
        self._tables: dict[TableName, dict[str, TableColumn]] = {}
        # table -> a value no key of the table is above (its largest key), see loading.py
        self.key_ceilings: dict[TableName, object] = {}

    def scalar(self, sql: str) -> object:
        """The first value of a query's first row."""
        # fetchall: a result left unread keeps its transaction open, and DuckDB then
        # refuses to checkpoint the file.
        rows = self.con.execute(sql).fetchall()
        return rows[0][0] if rows else None

    def table(self, schema: str, name: str) -> TableName:
        return TableName(self.catalog, schema, name)

    def columns(self, table: TableName) -> dict[str, TableColumn]:
        """The table's columns by lower-case name, in table order ({} if no table)."""
        if table not in self._tables:
            rows = self.con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = ? AND schema_name = ? AND table_name = ? "
                "ORDER BY column_index",
                [table.catalog, table.schema, table.table],
            ).fetchall()
            self._tables[table] = {
                str(name).lower(): TableColumn(str(name), SqlType.parse(str(kind)))
                for name, kind in rows
            }
        return self._tables[table]

    def prepare(
        self, stream: str, table: TableName, wanted: Sequence[tuple[str, SqlType]]
    ) -> dict[str, TableColumn]:
        """Make the table, or evolve it to take `wanted` columns; its columns after."""
        existing = self.columns(table)
        if not existing:
            self.con.execute(
                f"CREATE SCHEMA IF NOT EXISTS {ident(table.catalog)}.{ident(table.schema)}"
            )
            body = ", ".join(f"{ident(name)} {kind.sql}" for name, kind in wanted)
            self.con.execute(f"CREATE TABLE {table.sql} ({body})")
            self.logger.info("Created table %s for stream '%s'", table, stream)
            return self._refresh(table)
        changes = list(self._changes(stream, table, existing, wanted))
        if changes:
            try:
                with self.transaction():
                    for statement, note in changes:
                        self.execute(statement)
                        self.logger.info("Table %s: %s", table, note)
            finally:
                self._tables.pop(table, None)
        return self._refresh(table)

    def add_version_columns(self, table: TableName) -> None:
        """`_sdc_table_version` and `_sdc_deleted_at`, for a stream that sends versions."""
        self.prepare(table.table, table, VERSION_COLUMNS)

    def has_version_columns(self, table: TableName) -> bool:
        return wire.TABLE_VERSION.lower() in self.columns(table)

    def _changes(
        self,
        stream: str,
        table: TableName,
        existing: dict[str, TableColumn],
        wanted: Iterable[tuple[str, SqlType]],
    ) -> Iterable[tuple[str, str]]:
        for name, kind in wanted:
            column = existing.get(name.lower())
            if column is None:
                yield (
                    f"ALTER TABLE {table.sql} ADD COLUMN {ident(name)} {kind.sql}",
                    f"added column {name} {kind}",
                )
            elif st.holds(column.type, kind):
                continue
            elif st.holds(kind, column.type):
                yield (
                    f"ALTER TABLE {table.sql} ALTER COLUMN {ident(column.name)} TYPE {kind.sql}",
                    f"widened column {column.name} from {column.type} to {kind}",
                )
            else:
                msg = (
                    f"stream '{stream}': column {column.name} of table {table} is "
                    f"{column.type}, and the stream's schema now makes it {kind}; neither "
                    f"holds the other's values, so the load stops rather than lose any. "
                    f"Rename or drop the column (or the table) to load it as {kind}."
                )
                raise SchemaChangeRefused(msg)

    def _refresh(self, table: TableName) -> dict[str, TableColumn]:
        self._tables.pop(table, None)
        self.key_ceilings.pop(table, None)
        return self.columns(table)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: everything in the block, or (on any error) nothing."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def execute(self, sql: str) -> None:
        """Run one statement to its end (a result left unread keeps DuckDB busy)."""
        self.con.execute(sql).fetchall()

    def retire_versions(self, table: TableName, version: int, *, soft: bool) -> int:
        """Delete (or, `soft`, mark deleted) the rows of versions older than `version`."""
        if not self.has_version_columns(table):
            self.add_version_columns(table)
        older = (
            f"({ident(wire.TABLE_VERSION)} IS NULL OR {ident(wire.TABLE_VERSION)} < {int(version)})"
        )
        if soft:
            statement = (
                f"UPDATE {table.sql} SET {ident(wire.DELETED_AT)} = current_timestamp "
                f"WHERE {older} AND {ident(wire.DELETED_AT)} IS NULL"
            )
        else:
            statement = f"DELETE FROM {table.sql} WHERE {older}"
        with self.transaction():
            rows = self.con.execute(statement).fetchall()
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        """Checkpoint and close: the file is then complete on its own (no WAL to replay)."""
        try:
            self.con.execute("CHECKPOINT")
        finally:
            self.con.close()


def describe(con: duckdb.DuckDBPyConnection, relation_sql: str) -> dict[str, SqlType]:
    """Column name -> type of a relation (e.g. `read_parquet([...])`)."""
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation_sql}").fetchall()
    return {str(row[0]): SqlType.parse(str(row[1])) for row in rows}
