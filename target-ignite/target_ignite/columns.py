"""The one shape a stream's rows have, whichever route (RECORD or BATCH) and format they take.

- First the stream's columns: its schema's properties after stream maps and flattening (less
  those `unknown_fields: drop` leaves out), in schema order, every one of them, null where a
  record has no value. A BATCH parquet file cannot tell a missing key from a null, and a CSV
  file has every column anyway, so "missing" and "null" are one thing in every format. A
  nested object that is null is such a case: its columns are null, and no column is named
  after the object itself.
- Then the fields a record has beyond its schema, in the record's order, when they hold a
  value (a null one says no more than a missing one), as `unknown_fields` says: in every
  format, a CSV file included (see `CsvRows.add_columns`).
- A property declared `{"type": "string", "format": "x-singer.decimal"}` is money an SDK tap
  sent as a string (`use_singer_decimal`): it is sent as the number with the same digits.
"""

from __future__ import annotations

import typing as t

from target_ignite.rows import CELL_TYPES, decimal_number, flat_row, flat_value

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from target_ignite.fields import FieldCheck

SINGER_DECIMAL = "x-singer.decimal"


def is_singer_decimal(subschema: object) -> bool:
    """Whether a property is a decimal sent as a string (`x-singer.decimal`)."""
    if not isinstance(subschema, dict) or subschema.get("format") != SINGER_DECIMAL:
        return False
    types = subschema.get("type")
    return types == "string" or (isinstance(types, list) and "string" in types)


class RowShape:
    """One stream's columns, and a record as the row with exactly those columns."""

    def __init__(self, properties: Mapping[str, t.Any], fields: FieldCheck) -> None:
        self._fields = fields
        self._declared = frozenset(properties)
        self.columns: tuple[str, ...] = tuple(fields.columns)
        self._decimals = tuple(c for c in self.columns if is_singer_decimal(properties.get(c)))
        # Fields records brought beyond the schema and sent, in the order they first came.
        self.extras: list[str] = []
        self._extras_seen: set[str] = set()

    def row(self, record: Mapping[str, t.Any]) -> dict[str, t.Any]:
        """The record as one flat row of cells (see the module's docstring)."""
        cell_types = CELL_TYPES
        if tuple(record) == self.columns:  # every column, in schema order: what taps send
            row = {
                column: value if type(value) in cell_types else flat_value(value, column)
                for column, value in record.items()
            }
        else:
            get = record.get
            row = {
                column: value
                if type(value := get(column)) in cell_types
                else flat_value(value, column)
                for column in self.columns
            }
            if not record.keys() <= self._declared:
                self._add_extras(record, row)
        for column in self._decimals:
            value = row[column]
            if type(value) is str:
                row[column] = decimal_number(value, column)
        return row

    def _add_extras(self, record: Mapping[str, t.Any], row: dict[str, t.Any]) -> None:
        extras = flat_row(
            {key: value for key, value in record.items() if key not in self._declared}
        )
        for name in self._fields.sent([name for name, cell in extras.items() if cell is not None]):
            row[name] = extras[name]
            if name not in self._extras_seen:
                self._extras_seen.add(name)
                self.extras.append(name)
