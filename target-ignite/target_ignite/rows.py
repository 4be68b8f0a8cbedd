"""Turning a record into one flat Ignite row, and a row into the bytes of one import format.

The SDK's flattening (on by default here) has already turned nested objects into
`parent__child` columns; what is left is made flat and exact:
- objects and arrays become JSON text, in the one form every route writes: the SDK's JSON
  (compact, non-ASCII escaped as `\\uXXXX`, Decimals as `str()` writes them), which is also
  what its flattening writes for arrays and for objects deeper than `flattening_max_depth`;
- dates, times and timestamps become ISO 8601 strings (UTC as `Z`);
- Decimal numbers keep every digit: they are written from the Decimal itself, never a float,
  in positional notation unless they came with a positive exponent;
- a NaN or infinite float (a stream map can make one) stops the load: it has no JSON form.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import msgspec
from singer_sdk.singerlib.json import serialize_json

from target_ignite import wire
from target_ignite.errors import BadRecord

NO_JSON_FORM = "NaN and Infinity have no JSON form"


def decimal_text(value: decimal.Decimal) -> str:
    """The digits of `value` as a JSON/CSV number, without losing or inventing digits."""
    if not value.is_finite():
        msg = f"{value} is not a finite number"
        raise BadRecord(msg)
    text = str(value)
    if "E" not in text:
        return text  # positional, so the exponent is <= 0: what format(value, "f") writes
    exponent = value.as_tuple().exponent
    # str() switches to scientific notation for small numbers (1E-7); 'f' keeps "0.0000001".
    return text if isinstance(exponent, int) and exponent > 0 else format(value, "f")


def iso_text(value: datetime.date | datetime.time) -> str:
    """ISO 8601, with UTC spelled `Z` as the Export API spells it."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _check_finite(value: Any, field: str) -> None:
    """Stop at a NaN or infinite number anywhere inside a nested value."""
    if isinstance(value, decimal.Decimal | float):
        finite = value.is_finite() if isinstance(value, decimal.Decimal) else math.isfinite(value)
        if not finite:
            msg = f"field '{field}': {value} is not a finite number ({NO_JSON_FORM})"
            raise BadRecord(msg)
    elif isinstance(value, Mapping):
        for item in value.values():
            _check_finite(item, field)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_finite(item, field)


def json_text(value: Mapping[str, Any] | list[Any] | tuple[Any, ...], field: str) -> str:
    """An object or array as the one JSON text every route sends: the SDK's `serialize_json`
    (what its flattening writes), so a RECORD and a BATCH file give the same cell."""
    _check_finite(value, field)
    return serialize_json(value)


_encoder = msgspec.json.Encoder(decimal_format="number")

# What `x-singer.decimal` strings may look like: a number as JSON or CSV can carry it once
# read as a Decimal (no NaN, Infinity, spaces or underscores, which Decimal() would take).
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def decimal_number(text: str, field: str) -> decimal.Decimal:
    """An `x-singer.decimal` string as the number it spells, every digit kept."""
    if not _DECIMAL_TEXT.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        msg = f"field '{field}': {shown!r} is not a decimal number (format x-singer.decimal)"
        raise BadRecord(msg)
    return decimal.Decimal(text)


def flat_value(value: Any, field: str) -> Any:
    """One cell: None, bool, int, Decimal, finite float or str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            msg = f"field '{field}': {value} is not a finite number"
            raise BadRecord(msg)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"field '{field}': {value} is not a finite number ({NO_JSON_FORM})"
            raise BadRecord(msg)
        return value
    if isinstance(value, datetime.date | datetime.time):
        return iso_text(value)
    if isinstance(value, Mapping | list | tuple):
        return json_text(value, field)
    return str(value)


# Values that are cells as they are (exact types: a str or int subclass goes to flat_value).
CELL_TYPES = frozenset({str, int, bool, type(None)})


def flat_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as a flat row of cells."""
    cell_types = CELL_TYPES
    return {
        key if type(key) is str else str(key): value
        if type(value) in cell_types
        else flat_value(value, key)
        for key, value in record.items()
    }


class RowCodec(Protocol):
    """How rows are written for one `import_format`."""

    name: str
    file_extension: str | None  # None: rows go in a JSON body, not a file
    separator: bytes  # between two rows
    file_config: Mapping[str, str] | None

    def header(self) -> bytes:
        """Bytes before the first row (a CSV header line)."""
        ...

    def encode(self, row: Mapping[str, Any]) -> bytes:
        """One row's bytes."""
        ...


def _row_for_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: msgspec.Raw(decimal_text(value).encode())
        if isinstance(value, decimal.Decimal)
        else value
        for key, value in row.items()
    }


class JsonRows:
    """`json`: rows are the objects of the JSON import's `data` array."""

    name = "json"
    file_extension: str | None = None
    separator = b","
    file_config: Mapping[str, str] | None = None

    def header(self) -> bytes:
        return b""

    def encode(self, row: Mapping[str, Any]) -> bytes:
        # msgspec writes a Decimal as str() does, which is `decimal_text` but for numbers
        # str() puts in scientific notation with a negative exponent (0.0000001 -> 1E-7):
        # only a row whose text has "E-" somewhere needs its Decimals written one by one.
        encoded = _encoder.encode(row)
        if b"E-" in encoded:
            return _encoder.encode(_row_for_json(row))
        return encoded


class NdjsonRows(JsonRows):
    """`ndjson`: one JSON object per line of a gzip-compressed `.ndjson` file."""

    name = "ndjson"
    file_extension: str | None = wire.NDJSON_EXTENSION
    separator = b""

    def encode(self, row: Mapping[str, Any]) -> bytes:
        return super().encode(row) + b"\n"


def csv_cell(value: Any) -> str:
    """A cell's CSV text: numbers with every digit, booleans as JSON spells them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _true_or_false(value: bool) -> str:
    return "true" if value else "false"


def _empty(value: None) -> str:
    return ""


def _csv_quoted(text: str) -> str:
    """A cell as `CsvRows` writes it: quoted when it holds the delimiter, the quote, a line
    feed or a carriage return (a bare CR would end the line for a CSV reader), its quotes
    doubled."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _any_csv_cell(value: Any) -> str:
    return _csv_quoted(csv_cell(value))


# `csv_cell` by exact type for the common cells, whose text never needs quotes.
_CSV_CELL_TEXT: dict[type, Callable[[Any], str]] = {
    type(None): _empty,
    bool: _true_or_false,
    int: int.__repr__,
    float: float.__repr__,
    decimal.Decimal: decimal_text,
}


class CsvRows:
    """`csv`: a gzip-compressed `.csv` file whose columns are the stream's fields."""

    name = "csv"
    file_extension: str | None = wire.CSV_EXTENSION
    separator = b""
    file_config: Mapping[str, str] | None = wire.CSV_FILE_CONFIG

    def __init__(self, columns: Iterable[str]) -> None:
        self.columns = list(columns)
        self._buffer = io.StringIO()
        # Matches CSV_FILE_CONFIG: comma, double quotes, a quote escaped by doubling it. With
        # "\r\n" as its line end, csv.writer quotes every cell holding a CR or a LF (with "\n"
        # alone it leaves a CR bare, which a reader takes for a line end); lines end in "\n".
        self._writer = csv.writer(
            self._buffer, delimiter=",", quotechar='"', doublequote=True, lineterminator="\r\n"
        )

    def _line(self, cells: Iterable[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue()[:-2].encode("utf-8") + b"\n"

    def header(self) -> bytes:
        return self._line(self.columns)

    def add_columns(self, names: Iterable[str]) -> None:
        """Columns for the next file: fields the stream's records brought beyond its schema."""
        self.columns.extend(names)

    def encode(self, row: Mapping[str, Any]) -> bytes:
        # The bytes `csv.writer` writes (see `_line`), without its per-row StringIO
        # (`_csv_quoted`, inlined for plain strings); tests/target_ignite/test_rows.py compares
        # the two byte for byte. A lone empty cell is written `""`, so the line is not blank.
        text_of = _CSV_CELL_TEXT.get
        cells = [
            (
                '"' + value.replace('"', '""') + '"'
                if "," in value or '"' in value or "\n" in value or "\r" in value
                else value
            )
            if type(value) is str
            else text_of(type(value), _any_csv_cell)(value)
            for value in map(row.get, self.columns)
        ]
        line = ",".join(cells)
        if not line and len(self.columns) == 1:
            return b'""\n'
        return (line + "\n").encode()


def codec_for(import_format: str, columns: Iterable[str]) -> RowCodec:
    """The codec of an `import_format` setting value."""
    if import_format == "ndjson":
        return NdjsonRows()
    if import_format == "csv":
        return CsvRows(columns)
    return JsonRows()
