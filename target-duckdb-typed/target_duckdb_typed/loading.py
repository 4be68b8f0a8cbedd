"""One batch into its table, in one transaction: every value cast and checked, then merged
on the stream's keys (an update for a key the table has, an insert for a new one) or
appended when the stream has none.

A value that a column cannot hold exactly (a date that is no date, a decimal with more
digits after the point than its column) stops the batch inside DuckDB with `error()`, the
message naming the line (or file and row), the stream, the key and the value: nothing of
the batch is committed, and nothing is ever rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from target_duckdb_typed import sql_types as st
from target_duckdb_typed import wire
from target_duckdb_typed.names import TableName, ident, literal
from target_duckdb_typed.sql_types import SqlType
from target_duckdb_typed.warehouse import TableColumn, Warehouse, describe

NULL = "NULL"


@dataclass(frozen=True)
class Source:
    """A batch's rows as DuckDB sees them.

    `relation`: a registered Arrow table or a `read_parquet(...)` call. `columns`: property
    name -> its column in the relation. `order`: arrival order (the last row of a key wins).
    `where`: a VARCHAR expression naming a row in errors. `version` and `extracted`: SQL for
    the row's `_sdc_table_version` and `_sdc_extracted_at`."""

    relation: str
    columns: dict[str, str]
    order: str
    where: str
    version: str = NULL
    extracted: str = NULL


def row_name(label: str, number: str, stream: str, keys: Sequence[tuple[str, str]]) -> str:
    """SQL for `<label><number> (stream 'x', id=...)`, e.g. `line 12 (stream 'spend',
    id=SP-3)`; `number` is SQL, `keys` are (property, source column) pairs."""
    parts = [literal(label), f"CAST({number} AS VARCHAR)", literal(f" (stream '{stream}'")]
    for name, column in keys:
        parts += [literal(f", {name}="), f"CAST(src.{ident(column)} AS VARCHAR)"]
    parts.append(literal(")"))
    return f"concat({', '.join(parts)})"


def convert(value: str, source: SqlType, target: SqlType, where: str, name: str) -> str:
    """SQL turning `value` (of type `source`) into `target`, or stopping the batch."""
    if source == target:
        return value
    if st.holds(target, source):
        return f"CAST({value} AS {target.sql})"
    failed = [f"TRY_CAST({value} AS {target.sql}) IS NULL"]
    reason = f", not a valid {target}"
    if target.name == st.DECIMAL:
        reason = f", which {target} cannot hold exactly (values are never rounded)"
        if source.name == st.DECIMAL and source.scale > target.scale:
            failed.append(f"round({value}, {target.scale}) <> {value}")
    message = (
        f"concat({where}, {literal(': ' + name + ' is ')}, CAST({value} AS VARCHAR), "
        f"{literal(reason)})"
    )
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN {' OR '.join(failed)} "
        f"THEN error({message}) ELSE TRY_CAST({value} AS {target.sql}) END"
    )


def statement(
    warehouse: Warehouse,
    stream: str,
    table: TableName,
    source: Source,
    keys: Sequence[str],
) -> str:
    """The MERGE (or INSERT) of the source's rows into the table; the caller runs it in the
    batch's transaction. Adds the version columns first if the rows bring versions."""
    con = warehouse.con
    if source.version != NULL and not warehouse.has_version_columns(table):
        warehouse.add_version_columns(table)
    columns = warehouse.columns(table)
    source_types = describe(con, source.relation)
    selected: list[tuple[TableColumn, str]] = []
    for name, source_column in source.columns.items():
        column = columns[name.lower()]
        value = f"src.{ident(source_column)}"
        expression = convert(value, source_types[source_column], column.type, source.where, name)
        selected.append((column, expression))
    for name, expression in (
        (wire.EXTRACTED_AT, f"TRY_CAST({source.extracted} AS TIMESTAMPTZ)"),
        (wire.BATCHED_AT, "current_timestamp"),
        (wire.TABLE_VERSION, source.version),
        (wire.DELETED_AT, f"CAST({NULL} AS TIMESTAMPTZ)"),
    ):
        if name.lower() in columns:
            selected.append((columns[name.lower()], expression))
    relation = source.relation
    if keys and _has_duplicate_keys(warehouse, source, keys):
        partition = ", ".join(ident(source.columns[key]) for key in keys)
        relation = (
            f"(SELECT * FROM {source.relation} QUALIFY row_number() OVER "
            f"(PARTITION BY {partition} ORDER BY {source.order} DESC) = 1)"
        )
    select = ", ".join(f"{expression} AS {ident(c.name)}" for c, expression in selected)
    rows = f"SELECT {select} FROM {relation} AS src"
    names = [column.name for column, _ in selected]
    targets = ", ".join(ident(name) for name in names)
    if not keys:
        return f"INSERT INTO {table.sql} ({targets}) {rows}"
    key_columns = [columns[key.lower()].name for key in keys]
    matched = " AND ".join(f"t.{ident(k)} = s.{ident(k)}" for k in key_columns)
    updates = ", ".join(
        f"{ident(name)} = s.{ident(name)}" for name in names if name not in key_columns
    )
    update = f"UPDATE SET {updates}" if updates else "DO NOTHING"
    values = ", ".join(f"s.{ident(name)}" for name in names)
    return (
        f"MERGE INTO {table.sql} AS t USING ({rows}) AS s ON ({matched}) "
        f"WHEN MATCHED THEN {update} "
        f"WHEN NOT MATCHED THEN INSERT ({targets}) VALUES ({values})"
    )


def _has_duplicate_keys(warehouse: Warehouse, source: Source, keys: Sequence[str]) -> bool:
    """Whether a key comes twice in the batch (cheap to ask; deduplicating is not)."""
    key_sql = ", ".join(ident(source.columns[key]) for key in keys)
    distinct = f"({key_sql})" if len(keys) > 1 else key_sql
    query = f"SELECT count(*) - count(DISTINCT {distinct}) FROM {source.relation}"
    return bool(warehouse.scalar(query))
