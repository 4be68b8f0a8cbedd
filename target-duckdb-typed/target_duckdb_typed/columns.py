"""A stream's JSON Schema as DuckDB columns, and how each value is read from JSON.

- `number`, and strings with format `x-singer.decimal`: DECIMAL(p,s), with
  `decimal_precision`/`decimal_scale` or the property's own `precision`/`scale`; read
  exactly by Arrow (never through a float).
- `integer`: BIGINT; HUGEINT when `minimum`/`maximum` go beyond BIGINT.
- `boolean`: BOOLEAN.
- strings with format `date`, `date-time`, `time`: DATE, TIMESTAMPTZ, TIME (read as text,
  cast by DuckDB); other strings: VARCHAR.
- an array of one scalar type: a LIST of it, e.g. VARCHAR[] or DECIMAL(38,9)[].
- objects, arrays of objects or arrays, no type: JSON, the value's own text digit for digit.
- several scalar types (`["integer", "string"]`): VARCHAR, the value's own text.

`anyOf`/`oneOf` and type lists take the type that holds every alternative (`date` or
`date-time`: TIMESTAMPTZ; `integer` or `number`: DECIMAL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from target_duckdb_typed import sql_types as st
from target_duckdb_typed import wire
from target_duckdb_typed.sql_types import SqlType

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
_STRING_FORMATS = {"date": st.DATE, "date-time": st.TIMESTAMPTZ, "time": st.TIME}


@dataclass(frozen=True)
class Decimals:
    """DECIMAL precision and scale for numbers that do not declare their own."""

    precision: int
    scale: int


@dataclass(frozen=True)
class Column:
    """One property of a stream as a column: its type and how its values are read.

    `read` is Arrow's type for the JSON value; None means the value's own JSON text is kept
    (JSON columns) or, with `as_text`, its text (strings unquoted; VARCHAR columns of
    properties that may hold several scalar types)."""

    name: str
    type: SqlType
    read: pa.DataType | None
    as_text: bool = False


@dataclass(frozen=True)
class _Shape:
    type: SqlType
    read: pa.DataType | None
    kind: str  # the JSON kind of its values: string, number, boolean, array, any


_JSON_SHAPE = _Shape(SqlType(st.JSON), None, "any")


def column_for(name: str, schema: Mapping[str, Any], decimals: Decimals) -> Column:
    """The column for property `name` with JSON Schema `schema`."""
    shape = _shape(schema, decimals)
    if shape.read is None and shape.type.name == st.VARCHAR:
        return Column(name, shape.type, None, as_text=True)
    return Column(name, shape.type, shape.read)


def columns_for(schema: Mapping[str, Any], decimals: Decimals) -> list[Column]:
    """Columns for every property of a stream schema (the SDK's metadata ones left out)."""
    properties = schema.get("properties") or {}
    return [
        column_for(name, prop if isinstance(prop, Mapping) else {}, decimals)
        for name, prop in properties.items()
        if name not in wire.SDK_METADATA_PROPERTIES
    ]


def _alternatives(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The non-null shapes a property may take (type lists, anyOf and oneOf unfolded)."""
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            found: list[Mapping[str, Any]] = []
            for option in options:
                if isinstance(option, Mapping):
                    found.extend(_alternatives(option))
            return found
    types = schema.get("type")
    if types is None:
        return [{}]
    if isinstance(types, str):
        types = [types]
    return [{**schema, "type": kind} for kind in types if kind != "null"]


def _shape(schema: Mapping[str, Any], decimals: Decimals) -> _Shape:
    shapes = [_scalar_shape(alternative, decimals) for alternative in _alternatives(schema)]
    if not shapes:
        return _Shape(SqlType(st.VARCHAR), pa.string(), "string")  # only ever null
    if any(shape is None for shape in shapes):
        return _JSON_SHAPE
    first, *others = [shape for shape in shapes if shape is not None]
    kind_type: SqlType | None = first.type
    for other in others:
        kind_type = st.wider(kind_type, other.type) if kind_type is not None else None
    kinds = {shape.kind for shape in shapes if shape is not None}
    textual = all(st.holds(SqlType(st.VARCHAR), s.type) for s in shapes if s is not None)
    if kind_type is None:
        return _Shape(SqlType(st.VARCHAR), None, "any") if textual else _JSON_SHAPE
    if len(kinds) > 1:
        # Arrow reads one JSON kind per column: mixed kinds keep each value's own text.
        return _Shape(kind_type, None, "any") if kind_type.name == st.VARCHAR else _JSON_SHAPE
    return next(s for s in shapes if s is not None and s.type == kind_type)


def _scalar_shape(schema: Mapping[str, Any], decimals: Decimals) -> _Shape | None:
    """The shape of one non-null alternative; None when it is JSON (objects, anything)."""
    shaper = _SHAPERS.get(str(schema.get("type")))
    return shaper(schema, decimals) if shaper else None


def _string_shape(schema: Mapping[str, Any], decimals: Decimals) -> _Shape:
    if schema.get("format") == wire.SINGER_DECIMAL_FORMAT:
        return _decimal_shape(schema, decimals)
    named = _STRING_FORMATS.get(str(schema.get("format")))
    return _Shape(SqlType(named or st.VARCHAR), pa.string(), "string")


def _integer_shape(schema: Mapping[str, Any], decimals: Decimals) -> _Shape:
    low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
    if (low is not None and low < BIGINT_MIN) or (high is not None and high > BIGINT_MAX):
        return _Shape(SqlType(st.HUGEINT), pa.decimal128(st.MAX_DECIMAL_PRECISION, 0), "number")
    return _Shape(SqlType(st.BIGINT), pa.int64(), "number")


def _boolean_shape(schema: Mapping[str, Any], decimals: Decimals) -> _Shape:
    return _Shape(SqlType(st.BOOLEAN), pa.bool_(), "boolean")


def _array_shape(schema: Mapping[str, Any], decimals: Decimals) -> _Shape | None:
    items = schema.get("items")
    item = _shape(items, decimals) if isinstance(items, Mapping) and items else None
    if item is None or item.read is None or item.type.name in {st.LIST, st.JSON}:
        return None
    return _Shape(st.list_of(item.type), pa.list_(item.read), "array")


def _decimal_shape(schema: Mapping[str, Any], decimals: Decimals) -> _Shape:
    precision, scale = decimals.precision, decimals.scale
    own_precision = schema.get(wire.DECIMAL_PRECISION_KEY)
    own_scale = schema.get(wire.DECIMAL_SCALE_KEY)
    if (
        isinstance(own_precision, int)
        and isinstance(own_scale, int)
        and 0 <= own_scale <= own_precision <= st.MAX_DECIMAL_PRECISION
        and own_precision > 0
    ):
        precision, scale = own_precision, own_scale
    # Arrow reads at DuckDB's widest precision, from JSON numbers and decimal strings alike
    # (so its kind is "number" either way); the declared precision is checked on the values.
    return _Shape(
        st.decimal(precision, scale), pa.decimal128(st.MAX_DECIMAL_PRECISION, scale), "number"
    )


def _number(value: Any) -> int | float | Decimal | None:
    """A schema's bound (the SDK's reader decodes `1e30` as a Decimal)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return None


_SHAPERS: dict[str, Callable[[Mapping[str, Any], Decimals], _Shape | None]] = {
    "string": _string_shape,
    "number": _decimal_shape,
    "integer": _integer_shape,
    "boolean": _boolean_shape,
    "array": _array_shape,
}
