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
from typing import Any

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
    # Arrow reads decimals at DuckDB's widest type without checking their digits before the
    # point: each value of these columns is checked against the column's precision.
    unchecked_decimals: bool = False


def row_name(label: str, number: str, stream: str, keys: Sequence[tuple[str, str]]) -> str:
    """SQL for `<label><number> (stream 'x', id=...)`, e.g. `line 12 (stream 'spend',
    id=SP-3)`; `number` is SQL, `keys` are (property, source column) pairs."""
    parts = [literal(label), f"CAST({number} AS VARCHAR)", literal(f" (stream '{stream}'")]
    for name, column in keys:
        parts += [literal(f", {name}="), f"CAST(src.{ident(column)} AS VARCHAR)"]
    parts.append(literal(")"))
    return f"concat({', '.join(parts)})"


def convert(
    value: str, source: SqlType, target: SqlType, where: str, name: str, *, unchecked: bool = False
) -> str:
    """SQL turning `value` (of type `source`) into `target`, or stopping the batch.
    `unchecked`: a DECIMAL source may hold more digits than its type says (Arrow's)."""
    if unchecked and _decimal_of(source) is not None:
        return _within_precision(value, source, target, where, name)
    stop = _stop(value, target, where, name)
    if source == target:
        return value
    if st.holds(target, source):
        return f"CAST({value} AS {target.sql})"
    cast = f"TRY_CAST({value} AS {target.sql})"
    if target.name == st.DECIMAL and source.name == st.DECIMAL and source.scale > target.scale:
        # TRY_CAST rounds: a value it changes is one the column cannot hold.
        return (
            f"coalesce(CASE WHEN round({value}, {target.scale}) = {value} THEN {cast} END, {stop})"
        )
    # COALESCE evaluates `stop` only for rows the cast turned into NULL: one cast per value.
    return f"coalesce({cast}, {stop})"


def _stop(value: str, target: SqlType, where: str, name: str, reason: str = "") -> str:
    """SQL stopping the batch with a message naming the row and `value` (NULL passes)."""
    if not reason and _decimal_of(target) is not None:
        reason = f", which {target} cannot hold exactly (values are never rounded)"
    if not reason:
        reason = f", not a valid {target}"
    message = (
        f"concat({where}, {literal(': ' + name + ' is ')}, CAST({value} AS VARCHAR), "
        f"{literal(reason)})"
    )
    return f"CASE WHEN {value} IS NULL THEN NULL ELSE error({message}) END"


def _decimal_of(kind: SqlType) -> SqlType | None:
    """The DECIMAL type of a DECIMAL or DECIMAL[] type."""
    if kind.name == st.LIST and kind.item is not None:
        kind = kind.item
    return kind if kind.name == st.DECIMAL else None


def _within_precision(value: str, source: SqlType, target: SqlType, where: str, name: str) -> str:
    """A decimal (or list of decimals) from Arrow, checked against the target's digits."""
    wanted = _decimal_of(target)
    if wanted is None:  # the table keeps it as text: any value fits
        return f"CAST({value} AS {target.sql})"
    digits = st.integer_digits(wanted)
    stop = _stop(
        value,
        target,
        where,
        name,
        f": more than the {digits} digits before the point {wanted} holds (raise "
        "decimal_precision, or lower decimal_scale; values are never rounded)",
    )
    largest = "9" * digits + ("." + "9" * wanted.scale if wanted.scale else "")
    over = f"abs(x) > {largest}" if digits else "x <> 0 AND abs(x) >= 1"
    if source.name == st.LIST:
        too_big = f"len(list_filter({value}, lambda x: {over})) > 0"
    else:
        too_big = over.replace("x", value)
    return f"CASE WHEN {too_big} THEN {stop} ELSE CAST({value} AS {target.sql}) END"


def statements(
    warehouse: Warehouse,
    stream: str,
    table: TableName,
    source: Source,
    keys: Sequence[str],
) -> list[str]:
    """The MERGE (or INSERT) of the source's rows into the table. Made and run inside the
    batch's transaction (after `prepare_versions`): it asks the table whether the batch's
    keys are new, and an earlier statement of the same transaction may have added some."""
    con = warehouse.con
    columns = warehouse.columns(table)
    source_types = describe(con, source.relation)
    selected: list[tuple[TableColumn, str]] = []
    for name, source_column in source.columns.items():
        column = columns[name.lower()]
        value = f"src.{ident(source_column)}"
        expression = convert(
            value,
            source_types[source_column],
            column.type,
            source.where,
            name,
            unchecked=source.unchecked_decimals,
        )
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
    facts = _key_facts(warehouse, source, keys) if keys else _KeyFacts(duplicates=False)
    if facts.duplicates:
        partition = ", ".join(ident(source.columns[key]) for key in keys)
        relation = (
            f"(SELECT * FROM {source.relation} QUALIFY row_number() OVER "
            f"(PARTITION BY {partition} ORDER BY {source.order} DESC) = 1)"
        )
    select = ", ".join(f"{expression} AS {ident(c.name)}" for c, expression in selected)
    rows = f"SELECT {select} FROM {relation} AS src"
    names = [column.name for column, _ in selected]
    targets = ", ".join(ident(name) for name in names)
    insert = f"INSERT INTO {table.sql} ({targets}) {rows}"
    if not keys:
        return [insert]
    key_columns = [columns[key.lower()].name for key in keys]
    pairs = [(column, source.columns[key]) for key, column in zip(keys, key_columns, strict=True)]
    if _keys_are_new(warehouse, table, relation, pairs, facts):
        # Only new keys (a first load, new rows): an INSERT does what the MERGE would, for
        # about two thirds of its work.
        return [insert]
    if len(names) == len(columns):
        # The batch sets every column: replacing the rows of its keys is the MERGE, and
        # DuckDB deletes and appends in far less memory than it updates in place.
        matched = " AND ".join(f"t.{ident(c)} = s.{ident(o)}" for c, o in pairs)
        return [f"DELETE FROM {table.sql} AS t USING {relation} AS s WHERE {matched}", insert]
    matched = " AND ".join(f"t.{ident(k)} = s.{ident(k)}" for k in key_columns)
    updates = ", ".join(
        f"{ident(name)} = s.{ident(name)}" for name in names if name not in key_columns
    )
    update = f"UPDATE SET {updates}" if updates else "DO NOTHING"
    values = ", ".join(f"s.{ident(name)}" for name in names)
    return [
        f"MERGE INTO {table.sql} AS t USING ({rows}) AS s ON ({matched}) "
        f"WHEN MATCHED THEN {update} "
        f"WHEN NOT MATCHED THEN INSERT ({targets}) VALUES ({values})"
    ]


def prepare_versions(warehouse: Warehouse, table: TableName, version: str) -> None:
    """Before the batch's transaction: the version columns, if its rows bring versions
    (`version` is the SQL of their `_sdc_table_version`)."""
    if version != NULL and not warehouse.has_version_columns(table):
        warehouse.add_version_columns(table)


def _keys_are_new(
    warehouse: Warehouse,
    table: TableName,
    relation: str,
    pairs: Sequence[tuple[str, str]],
    facts: _KeyFacts,
) -> bool:
    """Whether none of the relation's keys is in the table. A single key above the largest
    the table has is new without asking the table (taps that read in key order: a probe of
    the whole key column per batch cost 0.7 us a row at 1M rows); the largest key is kept
    as batches are written (`Warehouse.key_ceilings`)."""
    if len(pairs) != 1:
        return not _any_key_in_table(warehouse, table, relation, pairs)
    ((column, _),) = pairs
    low, high = facts.low, facts.high
    if table not in warehouse.key_ceilings:
        warehouse.key_ceilings[table] = warehouse.scalar(
            f"SELECT max({ident(column)}) FROM {table.sql}"
        )
    ceiling = warehouse.key_ceilings[table]
    try:
        above = ceiling is None or (low is not None and low > ceiling)
        # Rolled back or not, the table's keys stay at or below the new ceiling.
        if high is not None and (ceiling is None or high > ceiling):
            warehouse.key_ceilings[table] = high
    except TypeError:  # the table's key column has another type than the batch's
        warehouse.key_ceilings.pop(table, None)
        above = False
    return above or not _any_key_in_table(warehouse, table, relation, pairs)


def _any_key_in_table(
    warehouse: Warehouse, table: TableName, relation: str, pairs: Sequence[tuple[str, str]]
) -> bool:
    """Whether the table has a row with one of the relation's keys; `pairs` are (table
    column, relation column) for each key."""
    matched = " AND ".join(f"t.{ident(column)} = s.{ident(other)}" for column, other in pairs)
    query = f"SELECT EXISTS (SELECT 1 FROM {table.sql} AS t SEMI JOIN {relation} AS s ON {matched})"
    return bool(warehouse.scalar(query))


@dataclass(frozen=True)
class _KeyFacts:
    """What one scan of a batch's keys tells: whether a key comes twice, and for a single
    key its smallest and largest value."""

    duplicates: bool
    low: Any = None
    high: Any = None


def _key_facts(warehouse: Warehouse, source: Source, keys: Sequence[str]) -> _KeyFacts:
    """The batch's key facts, in one query (cheap to ask; deduplicating is not)."""
    key_sql = ", ".join(ident(source.columns[key]) for key in keys)
    distinct = f"({key_sql})" if len(keys) > 1 else key_sql
    bounds = f", min({key_sql}), max({key_sql})" if len(keys) == 1 else ""
    query = f"SELECT count(*) - count(DISTINCT {distinct}){bounds} FROM {source.relation}"
    row = warehouse.con.execute(query).fetchall()[0]
    if len(keys) == 1:
        return _KeyFacts(bool(row[0]), row[1], row[2])
    return _KeyFacts(bool(row[0]))
