"""Export tables as `GET /tables/` describes them, and their mapping to Singer schemas.

One module owns the column model: which property name a column gets (by name or by the
documented label rules), which JSON Schema its dataType maps to, and which columns key a
table. Row sync, snapshot export and tests all read these answers from here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tap_ignite import wire

logger = logging.getLogger(__name__)

KeyBy = Literal["name", "label"]

STRING_ARRAY = "STRING_ARRAY"

# dataType -> JSON Schema (without nullability). Numbers stay JSON numbers: the tap decodes
# them as Decimal and writes them back digit for digit, so money is never a float.
DATA_TYPE_SCHEMAS: Mapping[str, Mapping[str, Any]] = {
    "STRING": {"type": "string"},
    "NUMBER": {"type": "number"},
    "MONETARY_AMOUNT": {"type": "number"},
    "BOOL": {"type": "boolean"},
    "DATE": {"type": "string", "format": "date"},
    "TIMESTAMP": {"type": "string", "format": "date-time"},
    STRING_ARRAY: {"type": "array", "items": {"type": "string"}},
}
UNKNOWN_TYPE_SCHEMA: Mapping[str, Any] = {"type": "string"}


@dataclass(frozen=True)
class Column:
    """One column of an export table."""

    name: str
    label: str
    data_type: str
    supported_operators: tuple[str, ...]

    @property
    def is_array(self) -> bool:
        """STRING_ARRAY columns are left out of rows unless named in `fields`."""
        return self.data_type == STRING_ARRAY

    @property
    def is_known_type(self) -> bool:
        """Whether the dataType is one the Export API documents."""
        return self.data_type in DATA_TYPE_SCHEMAS


@dataclass(frozen=True)
class Table:
    """One export table: its id, columns in `GET /tables/` order, and row order."""

    id: str
    name: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Table:
        """Build from one item of the `GET /tables/` response."""
        columns = tuple(
            Column(
                name=str(col[wire.COLUMN_NAME]),
                label=str(col.get(wire.COLUMN_LABEL) or col[wire.COLUMN_NAME]),
                data_type=str(col.get(wire.COLUMN_DATA_TYPE) or ""),
                supported_operators=tuple(col.get(wire.COLUMN_OPERATORS) or ()),
            )
            for col in item.get(wire.TABLE_COLUMNS) or ()
        )
        return cls(
            id=str(item[wire.TABLE_ID]),
            name=str(item.get(wire.TABLE_NAME) or item[wire.TABLE_ID]),
            columns=columns,
            order_by=tuple(item.get(wire.TABLE_ORDER_BY) or ()),
        )

    def column(self, name: str) -> Column | None:
        """The column with this name, if the table has one."""
        return next((col for col in self.columns if col.name == name), None)

    @property
    def primary_keys(self) -> tuple[str, ...]:
        """`id`, or `spend_id` on classification tables; none if the table has neither."""
        for candidate in wire.PRIMARY_KEY_CANDIDATES:
            if self.column(candidate) is not None:
                return (candidate,)
        return ()

    def property_names(self, key_by: KeyBy) -> dict[str, str]:
        """Column name -> the key its values carry in a row (and the Singer property name)."""
        if key_by == "label":
            keys = label_keys(self.columns)
            return {col.name: key for col, key in zip(self.columns, keys, strict=True)}
        return {col.name: col.name for col in self.columns}

    def json_schema(self, key_by: KeyBy) -> dict[str, Any]:
        """The Singer schema of this table's records; key columns are the only non-null ones."""
        names = self.property_names(key_by)
        keys = set(self.primary_keys)
        properties: dict[str, Any] = {}
        for col in self.columns:
            if not col.is_known_type:
                logger.warning(
                    "Table '%s', column '%s': unknown dataType '%s', read as a string",
                    self.id,
                    col.name,
                    col.data_type,
                )
            properties[names[col.name]] = column_schema(col, nullable=col.name not in keys)
        return {"type": "object", "properties": properties}


def column_schema(column: Column, *, nullable: bool) -> dict[str, Any]:
    """JSON Schema of one column's values."""
    schema = dict(DATA_TYPE_SCHEMAS.get(column.data_type, UNKNOWN_TYPE_SCHEMA))
    if nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


def label_keys(columns: Sequence[Column]) -> list[str]:
    """Row keys under `keyBy: label`, exactly as the Export API documents them.

    In `GET /tables/` column order: the first column with a label keeps it, later ones get
    `"<label> (<name>)"`, and any remaining collision gets ` #2`, ` #3`, ... until unique.
    """
    used: set[str] = set()
    seen: set[str] = set()
    keys: list[str] = []
    for col in columns:
        key = col.label if col.label not in seen else f"{col.label} ({col.name})"
        seen.add(col.label)
        if key in used:
            n = 2
            while f"{key} #{n}" in used:
                n += 1
            key = f"{key} #{n}"
        used.add(key)
        keys.append(key)
    return keys


def parse_tables(payload: Iterable[Mapping[str, Any]]) -> list[Table]:
    """Tables from a `GET /tables/` response body."""
    return [Table.from_api(item) for item in payload]
