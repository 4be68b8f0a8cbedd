"""`use_singer_decimal`: NUMBER and MONETARY_AMOUNT as exact decimal strings.

The SDK's convention (singer_sdk.typing.SingerDecimalType, the SQL connectors' handler): a
string property with format `x-singer.decimal`. Targets that store JSON numbers as DOUBLE
(target-duckdb) then keep every digit. Values are `str(Decimal)` of what the API sent, so the
digits (and trailing zeros) are the API's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

DECIMAL_DATA_TYPES = frozenset({"NUMBER", "MONETARY_AMOUNT"})
SINGER_DECIMAL_FORMAT = "x-singer.decimal"


def with_decimal_strings(schema: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The schema with these properties declared as decimal strings (nullability kept)."""
    properties = dict(schema.get("properties") or {})
    for key in keys:
        types = properties[key].get("type")
        nullable = isinstance(types, list) and "null" in types
        properties[key] = {
            "type": ["string", "null"] if nullable else "string",
            "format": SINGER_DECIMAL_FORMAT,
        }
    return {**schema, "properties": properties}


def decimal_string(value: Any) -> Any:
    """A number as its exact decimal string; None and strings pass through."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        # Only a JSON encoder's shortest repr is meaningful for a float; never emitted by
        # the tap's own decoders, which read fractions as Decimal.
        return str(Decimal(repr(value)))
    if isinstance(value, bool):
        msg = f"a boolean ({value}) is not a decimal"
        raise TypeError(msg)
    return str(value)


def stringify_decimals(
    rows: Iterable[dict[str, Any]], keys: Iterable[str]
) -> Iterator[dict[str, Any]]:
    """Rows with the values under `keys` replaced by decimal strings."""
    keys = tuple(keys)
    for row in rows:
        for key in keys:
            if key in row:
                row[key] = decimal_string(row[key])
        yield row


def decimal_keys(data_types: Mapping[str, str]) -> list[str]:
    """The property names (of property -> dataType) that hold NUMBER or MONETARY_AMOUNT."""
    return [key for key, data_type in data_types.items() if data_type in DECIMAL_DATA_TYPES]
