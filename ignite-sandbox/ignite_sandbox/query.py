"""Filter and projection semantics of the Export API, compiled to DuckDB SQL.

Shared by `POST /tables/{entity}/rows`, exports and delete queries' validation: `fields` and
`filters` always use column names; only the operators a column lists in `supportedOperators`
are valid; values are checked against the column's dataType before they reach SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ignite_sandbox import catalog
from ignite_sandbox.catalog import Column, Table
from ignite_sandbox.errors import bad_request

MAX_ARRAY_VALUES = 100  # contains_any / contains_all (documented)
MAX_IN_VALUES = 10_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def quote(identifier: str) -> str:
    """A DuckDB identifier, quoted so labels and names with any characters are safe."""
    return '"' + identifier.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Predicate:
    """A WHERE clause (without the keyword) and its parameters."""

    sql: str
    params: list[Any]


def select_columns(table: Table, fields: list[str] | None) -> list[Column]:
    """The projection: named columns in request order, or every scalar column."""
    if fields is None:
        return table.default_fields
    if not fields:
        raise bad_request("fields must name at least one column (omit it for every scalar column)")
    columns: list[Column] = []
    for name in fields:
        column = table.column(name)
        if column is None:
            raise bad_request(f"unknown column '{name}' in fields for table '{table.id}'")
        if column not in columns:
            columns.append(column)
    return columns


def value_sql(column: Column) -> str:
    """The SQL expression that renders a column's value in API format (TIMESTAMP as RFC 3339)."""
    if column.data_type == catalog.TIMESTAMP:
        return f"strftime({quote(column.name)}, '{TIMESTAMP_FORMAT}')"
    return quote(column.name)


def row_json_sql(columns: list[Column], keys: dict[str, str]) -> str:
    """A DuckDB expression giving each row as one JSON object text, keys in projection order.

    DuckDB's JSON writer keeps DECIMAL digits exact and writes NULL as null (key present).
    """
    args = ", ".join(f"{sql_string(keys[c.name])}, {value_sql(c)}" for c in columns)
    return f"json_object({args})::VARCHAR"


def compile_filters(table: Table, filters: dict[str, Any] | None) -> Predicate:
    """The conjunctive WHERE clause for `filters`; 400 for anything the API would reject."""
    clauses: list[str] = []
    params: list[Any] = []
    for name, operations in (filters or {}).items():
        column = table.column(name)
        if column is None:
            raise bad_request(f"unknown column '{name}' in filters for table '{table.id}'")
        if not isinstance(operations, dict) or not operations:
            raise bad_request(
                f"filters.{name} must be an object of operator: value, "
                f"with operators {', '.join(column.operators)}"
            )
        for operator, value in operations.items():
            if operator not in column.operators:
                raise bad_request(
                    f"operator '{operator}' is not supported by column '{name}' "
                    f"({column.data_type}) of table '{table.id}'; "
                    f"supported operators: {', '.join(column.operators)}"
                )
            sql, values = _clause(column, operator, value, f"filters.{name}.{operator}")
            clauses.append(sql)
            params.extend(values)
    return Predicate(" AND ".join(clauses) if clauses else "TRUE", params)


def _clause(column: Column, operator: str, value: Any, where: str) -> tuple[str, list[Any]]:
    col = quote(column.name)
    if operator in ("eq", "gte", "lte"):
        sql_op = {"eq": "=", "gte": ">=", "lte": "<="}[operator]
        return f"{col} {sql_op} ?", [coerce_scalar(column, value, where)]
    if operator == "in":
        items = _array(value, where, 1, MAX_IN_VALUES)
        values = [coerce_scalar(column, v, f"{where}[{i}]") for i, v in enumerate(items)]
        return f"{col} IN ({', '.join('?' for _ in values)})", values
    if operator == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise bad_request(f"{where} must be a two-item array [low, high]")
        low = coerce_scalar(column, value[0], f"{where}[0]")
        high = coerce_scalar(column, value[1], f"{where}[1]")
        return f"{col} BETWEEN ? AND ?", [low, high]
    if operator in ("contains_any", "contains_all"):
        items = _array(value, where, 1, MAX_ARRAY_VALUES)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise bad_request(f"{where}[{i}] must be a string")
        function = "list_has_any" if operator == "contains_any" else "list_has_all"
        return f"{function}({col}, ?::VARCHAR[])", [items]
    if operator in ("is_empty", "is_not_empty"):
        if value is not True:
            raise bad_request(f"{where} must be the boolean true")
        if operator == "is_empty":
            return f"coalesce(len({col}), 0) = 0", []
        return f"coalesce(len({col}), 0) > 0", []
    # An operator listed for a column but not known here would be a catalog bug.
    raise bad_request(f"operator '{operator}' is not supported")  # pragma: no cover


def _array(value: Any, where: str, minimum: int, maximum: int) -> list[Any]:
    if not isinstance(value, list) or not minimum <= len(value) <= maximum:
        raise bad_request(f"{where} must be an array of {minimum} to {maximum} values")
    return value


def coerce_scalar(column: Column, value: Any, where: str) -> Any:
    """A filter value as the Python object DuckDB compares with the column's type."""
    data_type = column.data_type
    if data_type in (catalog.NUMBER, catalog.MONETARY_AMOUNT):
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise bad_request(f"{where} must be a JSON number for {data_type} column")
        return Decimal(value) if isinstance(value, int) else value
    if data_type == catalog.BOOL:
        if not isinstance(value, bool):
            raise bad_request(f"{where} must be true or false for BOOL column")
        return value
    if data_type == catalog.DATE:
        return parse_date(value, where)
    if data_type == catalog.TIMESTAMP:
        return parse_timestamp(value, where)
    if not isinstance(value, str):
        raise bad_request(f"{where} must be a string for {data_type} column")
    return value


def parse_date(value: Any, where: str) -> dt.date:
    """A `YYYY-MM-DD` date, or a 400 naming where it came from."""
    if isinstance(value, str) and _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise bad_request(f"{where} must be a date as YYYY-MM-DD, got {_show(value)}")


def parse_timestamp(value: Any, where: str) -> dt.datetime:
    """An RFC 3339 timestamp as naive UTC (how the tables store them), or a 400."""
    if isinstance(value, str) and _TIMESTAMP.match(value):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.astimezone(dt.UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):  # OverflowError: e.g. year 1 with a +01:00 offset
            pass
    raise bad_request(
        f"{where} must be an RFC 3339 timestamp such as 2026-01-15T00:00:00Z, got {_show(value)}"
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
