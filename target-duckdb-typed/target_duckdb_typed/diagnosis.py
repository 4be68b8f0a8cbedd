"""The first bad line of a batch Arrow could not read, and what is wrong with it.

Runs only when a batch failed: each line is decoded in Python (numbers as Decimal) and its
values checked against their columns the way Arrow and DuckDB would take them, so the user
reads `line 12 (stream 'spend', id=SP-3): amount 1.234567890123 has 12 digits after the
point; ...` rather than a parser's message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from target_duckdb_typed import sql_types as st
from target_duckdb_typed import wire
from target_duckdb_typed.columns import Column
from target_duckdb_typed.errors import BadInput, MissingKeyError
from target_duckdb_typed.sql_types import SqlType

_decode = msgspec.json.Decoder(float_hook=Decimal).decode
_encode = msgspec.json.Encoder(decimal_format="number").encode
SHOWN_CHARACTERS = 200
PLAIN_DIGITS = 60  # decimals up to this many places from the point are shown without exponent


def diagnose(
    lines: Iterable[tuple[int, bytes]],
    *,
    stream: str,
    columns: Sequence[Column],
    keys: Sequence[str],
    wrapped: bool,
    failure: object,
    origin: str | None = None,
) -> Exception:
    """The error for the first bad line (a BadInput; MissingKeyError is the SDK's error type too).

    `failure` is what the fast read reported, used when no line shows a problem. `origin`
    names the file the lines come from when they are not the input's own lines."""
    first = None
    for number, line in lines:
        first = number if first is None else first
        problem = _line_problem(
            line,
            number,
            stream=stream,
            columns=columns,
            keys=keys,
            wrapped=wrapped,
            origin=origin,
        )
        if problem is not None:
            return problem
    where = f"{origin + ' ' if origin else ''}line {first} on" if first is not None else "lines"
    at_line = None if origin else first
    return BadInput(f"stream '{stream}', {where}: the batch could not be read: {failure}", at_line)


def key_text(record: Mapping[str, Any], keys: Sequence[str]) -> str:
    """`id=SP-3, line=2` for the key properties a record has."""
    return ", ".join(f"{key}={_shown(record[key], quote=False)}" for key in keys if key in record)


def _line_problem(
    line: bytes,
    number: int,
    *,
    stream: str,
    columns: Sequence[Column],
    keys: Sequence[str],
    wrapped: bool,
    origin: str | None,
) -> Exception | None:
    at = f"{origin} line {number}" if origin else f"line {number}"
    where = f"{at} (stream '{stream}')"
    at_line = None if origin else number
    try:
        message = _decode(line)
    except msgspec.DecodeError as exc:
        return BadInput(f"{where}: not valid JSON ({exc})", at_line)
    record = message.get(wire.MESSAGE_RECORD) if wrapped and isinstance(message, dict) else message
    if not isinstance(record, dict):
        what = "a RECORD without a record object" if wrapped else "not a JSON object"
        return BadInput(f"{where}: {what}", at_line)
    missing = [key for key in keys if key not in record]
    if missing:
        return MissingKeyError(
            f"{where}: the record has no key propert{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(missing)} (key properties: {', '.join(keys)})",
            at_line,
        )
    named = f"{at} (stream '{stream}', {key_text(record, keys)})" if keys else where
    for key in keys:
        if record[key] is None:
            return BadInput(f"{named}: key property '{key}' is null", at_line)
    for column in columns:
        value = record.get(column.name)
        problem = None if column.read is None else _value_problem(value, column.type)
        if problem is not None:
            return BadInput(f"{named}: {column.name} {problem}", at_line)
    return None


def _value_problem(value: Any, kind: SqlType) -> str | None:
    """Why `value` cannot be loaded into a column of `kind` as it is; None if it can."""
    if value is None:
        return None
    return _PROBLEMS.get(kind.name, _string_problem)(value, kind)


def _boolean_problem(value: Any, kind: SqlType) -> str | None:
    return None if isinstance(value, bool) else f"is {_shown(value)}, not true or false"


def _integer_problem(value: Any, kind: SqlType) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return f"is {_shown(value)}, not an integer"
    if kind.name == st.BIGINT and not -(2**63) <= value < 2**63:
        return f"is {value}, beyond BIGINT (declare `maximum`/`minimum` for a HUGEINT column)"
    if len(str(abs(value))) > st.MAX_DECIMAL_PRECISION:
        return f"is {value}, more than {st.MAX_DECIMAL_PRECISION} digits"
    return None


def _list_problem(value: Any, kind: SqlType) -> str | None:
    if not isinstance(value, list):
        return f"is {_shown(value)}, not an array"
    item = kind.item or SqlType(st.VARCHAR)
    for position, element in enumerate(value):
        problem = _value_problem(element, item)
        if problem is not None:
            return f"item {position}: {problem}"
    return None


def _string_problem(value: Any, kind: SqlType) -> str | None:
    return None if isinstance(value, str) else f"is {_shown(value)}, not a string"


def _decimal_problem(value: Any, kind: SqlType) -> str | None:
    shown = _shown(value, quote=False)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return f"is {_shown(value)}, not a number"
    try:
        number = Decimal(value)
    except InvalidOperation:
        return f"is {_shown(value)}, not a decimal number"
    if not number.is_finite():
        return f"is {shown}, not a finite number"
    exponent = number.normalize().as_tuple().exponent
    after = max(0, -int(exponent))
    if after > kind.scale:
        return (
            f"{shown} has {after} digits after the point; its column is {kind} and values "
            f"are never rounded (raise decimal_scale, or declare the property's scale)"
        )
    before = len(str(abs(int(number)))) if abs(number) >= 1 else 0
    if before > kind.precision - kind.scale:
        return (
            f"{shown} has {before} digits before the point; its column {kind} holds "
            f"{kind.precision - kind.scale} (raise decimal_precision, or lower decimal_scale)"
        )
    return None


_PROBLEMS: dict[str, Callable[[Any, SqlType], str | None]] = {
    st.BOOLEAN: _boolean_problem,
    st.BIGINT: _integer_problem,
    st.HUGEINT: _integer_problem,
    st.DECIMAL: _decimal_problem,
    st.LIST: _list_problem,
}


def _shown(value: Any, *, quote: bool = True) -> str:
    """A value as the user sent it (JSON), cut short if long."""
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) < PLAIN_DIGITS:
        text = format(value, "f")  # 0.0000000001 as sent, not Python's 1E-10
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str) and not quote:
        text = value
    else:
        text = _encode(value).decode("utf-8")
    if len(text) > SHOWN_CHARACTERS:
        return text[:SHOWN_CHARACTERS] + f"... ({len(text)} characters)"
    return text
