"""Checks of a configured `filters` object against a table's columns, before it is sent.

Each condition is checked the way the Export API documents it: the column exists, the operator
is in the column's `supportedOperators`, and the value has the operator's shape (one value, an
array, a two-item range, or `true`) and the column's JSON type (STRING a string, NUMBER and
MONETARY_AMOUNT a number, BOOL a boolean, DATE `YYYY-MM-DD`, TIMESTAMP RFC 3339 UTC,
STRING_ARRAY strings). Whether a date exists in the calendar is left to the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tap_ignite.columns import Column, Table

# Operators whose value is an array, a two-item range, or the boolean true.
ARRAY_VALUE_OPERATORS = frozenset({"in", "contains_any", "contains_all"})
RANGE_OPERATORS = frozenset({"between"})
FLAG_OPERATORS = frozenset({"is_empty", "is_not_empty"})
MAX_ARRAY_FILTER_VALUES = 100

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def filter_errors(table: Table, filters: Mapping[str, Any]) -> list[str]:
    """Problems with one table's filters object, one line each (empty if none)."""
    errors: list[str] = []
    for column_name, condition in filters.items():
        where = f"filters.{table.id}.{column_name}"
        column = table.column(column_name)
        if column is None:
            errors.append(
                f"{where}: table '{table.id}' has no column '{column_name}' "
                f"(columns: {', '.join(col.name for col in table.columns)})"
            )
            continue
        allowed = ", ".join(column.supported_operators) or "none"
        if not isinstance(condition, Mapping) or not condition:
            errors.append(
                f"{where}: expected an object of operator -> value (allowed operators: {allowed})"
            )
            continue
        for operator, value in condition.items():
            if operator not in column.supported_operators:
                errors.append(
                    f"{where}: operator '{operator}' is not supported by column "
                    f"'{column_name}' of table '{table.id}' (allowed operators: {allowed})"
                )
                continue
            error = _shape_error(operator, value) or _type_error(column, operator, value)
            if error:
                errors.append(f"{where}.{operator}: {error}")
    return errors


def _shape_error(operator: str, value: Any) -> str | None:
    """What is wrong with the value's shape for this operator; None if nothing."""
    error: str | None = None
    if operator in FLAG_OPERATORS:
        if value is not True:
            error = "expects the boolean true"
    elif operator in RANGE_OPERATORS:
        if not (isinstance(value, list) and len(value) == 2):
            error = "expects a two-item array [from, to] (inclusive)"
    elif operator in ARRAY_VALUE_OPERATORS:
        if not isinstance(value, list) or not value:
            error = "expects a non-empty array of values"
        elif operator != "in" and len(value) > MAX_ARRAY_FILTER_VALUES:
            error = f"takes at most {MAX_ARRAY_FILTER_VALUES} strings"
    elif isinstance(value, (list, dict)):
        error = "expects a single value"
    return error


def _type_error(column: Column, operator: str, value: Any) -> str | None:
    """What is wrong with the value's type for this column; None if nothing."""
    if operator in FLAG_OPERATORS:
        return None
    values = value if isinstance(value, list) else [value]
    expected = _EXPECTED.get(column.data_type)
    if expected is None:  # a dataType the API does not document: the API decides
        return None
    description, accepts = expected
    for item in values:
        if not accepts(item):
            return (
                f"column '{column.name}' is {column.data_type}: expects {description}, got {item!r}"
            )
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


_EXPECTED: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "STRING": ("a string", lambda v: isinstance(v, str)),
    "NUMBER": ("a number", _is_number),
    "MONETARY_AMOUNT": ("a number", _is_number),
    "BOOL": ("true or false", lambda v: isinstance(v, bool)),
    "DATE": ("a date as YYYY-MM-DD", lambda v: isinstance(v, str) and bool(_DATE.match(v))),
    "TIMESTAMP": (
        "an RFC 3339 timestamp such as 2026-01-15T00:00:00Z",
        lambda v: isinstance(v, str) and bool(_TIMESTAMP.match(v)),
    ),
    "STRING_ARRAY": ("strings", lambda v: isinstance(v, str)),
}
