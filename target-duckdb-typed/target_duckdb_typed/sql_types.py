"""DuckDB column types as the loader reasons about them: what holds what without loss.

`holds(wide, narrow)` is the one rule schema evolution and loading share: a column of type
`wide` can take every value of `narrow` exactly (a cast, never a rounding). A table column
that holds what the schema now asks for is kept; one the new type holds is widened (ALTER);
anything else is an incompatible change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BIGINT_DIGITS = 19  # every BIGINT has at most 19 digits
MAX_DECIMAL_PRECISION = 38  # DuckDB's widest DECIMAL

BOOLEAN = "BOOLEAN"
BIGINT = "BIGINT"
HUGEINT = "HUGEINT"
DECIMAL = "DECIMAL"
DATE = "DATE"
TIME = "TIME"
TIMESTAMPTZ = "TIMESTAMPTZ"
VARCHAR = "VARCHAR"
JSON = "JSON"
LIST = "LIST"

# Values that have one exact text form (VARCHAR holds them all).
_TEXTUAL = frozenset({BOOLEAN, BIGINT, HUGEINT, DECIMAL, DATE, TIME, TIMESTAMPTZ, JSON})
# Simple widenings: type -> the types whose every value it holds.
_HELD_BY = {
    VARCHAR: _TEXTUAL,
    TIMESTAMPTZ: frozenset({DATE}),
    HUGEINT: frozenset({BIGINT}),
}
_ALIASES = {
    "TIMESTAMP WITH TIME ZONE": TIMESTAMPTZ,
    "INT8": BIGINT,
    "LONG": BIGINT,
    "INT128": HUGEINT,
    "BOOL": BOOLEAN,
    "STRING": VARCHAR,
    "TEXT": VARCHAR,
    "NUMERIC": DECIMAL,
}
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)$")


@dataclass(frozen=True)
class SqlType:
    """A DuckDB type: its name, DECIMAL's precision and scale, a LIST's item type.

    Types the loader does not make (INTEGER, DOUBLE, ... in a table made by something
    else) keep DuckDB's own name and hold only themselves."""

    name: str
    precision: int = 0
    scale: int = 0
    item: SqlType | None = None

    @property
    def sql(self) -> str:
        """The type as DuckDB SQL."""
        if self.name == DECIMAL:
            return f"DECIMAL({self.precision},{self.scale})"
        if self.name == LIST and self.item is not None:
            return f"{self.item.sql}[]"
        return self.name

    def __str__(self) -> str:
        return self.sql

    @classmethod
    def parse(cls, text: str) -> SqlType:
        """From DuckDB's spelling (`duckdb_columns().data_type`, DESCRIBE)."""
        text = text.strip().upper()
        if text.endswith("[]"):
            return list_of(cls.parse(text[:-2]))
        match = _DECIMAL.match(text)
        if match:
            return decimal(int(match.group(1)), int(match.group(2)))
        return cls(_ALIASES.get(text, text))


def decimal(precision: int, scale: int) -> SqlType:
    """DECIMAL(precision, scale)."""
    return SqlType(DECIMAL, precision=precision, scale=scale)


def list_of(item: SqlType) -> SqlType:
    """A LIST column of `item` values, e.g. VARCHAR[]."""
    return SqlType(LIST, item=item)


def integer_digits(kind: SqlType) -> int:
    """Digits before the point a numeric type can hold (0 if not numeric)."""
    if kind.name == BIGINT:
        return BIGINT_DIGITS
    if kind.name == HUGEINT:
        return MAX_DECIMAL_PRECISION + 1  # HUGEINT goes to about 1.7e38
    if kind.name == DECIMAL:
        return kind.precision - kind.scale
    return 0


def holds(wide: SqlType, narrow: SqlType) -> bool:
    """Whether every value of `narrow` converts to `wide` without loss."""
    if wide == narrow:
        return True
    if wide.name == LIST:
        return (
            narrow.name == LIST
            and wide.item is not None
            and narrow.item is not None
            and holds(wide.item, narrow.item)
        )
    if wide.name == DECIMAL and narrow.name in {BIGINT, HUGEINT, DECIMAL}:
        narrow_scale = narrow.scale if narrow.name == DECIMAL else 0
        return wide.scale >= narrow_scale and integer_digits(wide) >= integer_digits(narrow)
    return narrow.name in _HELD_BY.get(wide.name, frozenset())


def wider(first: SqlType, second: SqlType) -> SqlType | None:
    """The type that holds both, when one of them does, else None."""
    if holds(first, second):
        return first
    if holds(second, first):
        return second
    return None
