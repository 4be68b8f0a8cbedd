"""Delete queries: saved predicates (export filter syntax) over one repository's rows.

Repository rows are stored as JSON texts, so a predicate compares each row's field text:
numerically when both the row's value and the filter's value are numbers, else as strings.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from ignite_sandbox.errors import bad_request
from ignite_sandbox.query import Predicate

OPERATORS = ("eq", "in", "gte", "lte", "between")
_SQL_OPS = {"eq": "=", "gte": ">=", "lte": "<="}
# Numbers are compared as DECIMAL(38, 10): at most 28 digits before the point and 10 after.
_NUMERIC = "DECIMAL(38, 10)"
_INTEGER_DIGITS = 28
_FRACTION_DIGITS = 10


def validate_filters(filters: dict[str, Any]) -> None:
    """400 unless `filters` is {field: {operator: scalar | [scalars]}} with known operators."""
    if not filters:
        raise bad_request("filters must name at least one field")
    for field_name, operations in filters.items():
        if not isinstance(operations, dict) or not operations:
            raise bad_request(f"filters.{field_name} must be an object of operator: value")
        for operator, value in operations.items():
            where = f"filters.{field_name}.{operator}"
            if operator not in OPERATORS:
                raise bad_request(
                    f"operator '{operator}' in {where} is not supported; "
                    f"supported operators: {', '.join(OPERATORS)}"
                )
            values = value if operator in ("in", "between") else [value]
            if not isinstance(values, list) or not values:
                raise bad_request(f"{where} must be an array of values")
            if operator == "between" and len(values) != 2:
                raise bad_request(f"{where} must be a two-item array [low, high]")
            for item in values:
                if item is None or isinstance(item, dict | list):
                    raise bad_request(f"{where} values must be strings, numbers or booleans")
                if _is_json_number(item) and _comparable(Decimal(item)) is None:
                    raise bad_request(
                        f"{where}: {item} is out of the range delete queries compare numbers in "
                        f"(at most {_INTEGER_DIGITS} digits before the decimal point and "
                        f"{_FRACTION_DIGITS} after)"
                    )


def compile_delete_query(filters: dict[str, Any]) -> Predicate:
    """The WHERE clause over `row_json` that selects the rows this query deletes."""
    clauses: list[str] = []
    params: list[Any] = []
    for field_name, operations in filters.items():
        pointer = "/" + field_name.replace("~", "~0").replace("/", "~1")
        for operator, value in operations.items():
            if operator == "in":
                parts = [_compare(pointer, "=", v, params) for v in value]
                clauses.append("(" + " OR ".join(parts) + ")")
            elif operator == "between":
                clauses.append(_compare(pointer, ">=", value[0], params))
                clauses.append(_compare(pointer, "<=", value[1], params))
            else:
                clauses.append(_compare(pointer, _SQL_OPS[operator], value, params))
    return Predicate(" AND ".join(clauses) if clauses else "FALSE", params)


def _compare(pointer: str, op: str, value: Any, params: list[Any]) -> str:
    text = _as_text(value)
    number = _as_number(value)
    field_text = "json_extract_string(row_json, ?)"
    if number is None:
        params.extend([pointer, text])
        return f"({field_text} {op} ?)"
    params.extend([pointer, pointer, number, pointer, text])
    return (
        f"(CASE WHEN TRY_CAST({field_text} AS {_NUMERIC}) IS NOT NULL "
        f"THEN TRY_CAST({field_text} AS {_NUMERIC}) {op} ? ELSE {field_text} {op} ? END)"
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_json_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _as_number(value: Any) -> Decimal | None:
    """The value as a number to compare numerically; None to compare it as text (a string
    that is not a number, or a number out of the range numbers are compared in)."""
    if _is_json_number(value):
        return _comparable(Decimal(value))
    if isinstance(value, str):
        try:
            return _comparable(Decimal(value.strip()))
        except InvalidOperation:
            return None
    return None


def _comparable(number: Decimal) -> Decimal | None:
    """The number in a form DECIMAL(38, 10) holds exactly (no exponent, no trailing zeros),
    or None if it cannot."""
    if not number.is_finite():
        return None
    # Enough precision that normalize and quantize never round a number that fits.
    with localcontext(prec=_INTEGER_DIGITS + _FRACTION_DIGITS + 2):
        normal = number.normalize()
        exponent = normal.as_tuple().exponent
        scale = max(0, -exponent) if isinstance(exponent, int) else 0
        too_large = not normal.is_zero() and normal.adjusted() >= _INTEGER_DIGITS
        if too_large or scale > _FRACTION_DIGITS:
            return None
        return normal.quantize(Decimal(1).scaleb(-scale))
