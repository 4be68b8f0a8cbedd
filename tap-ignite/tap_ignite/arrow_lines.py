"""RECORD lines made inside Arrow: a parquet record batch becomes Singer lines without a
Python object per value.

For snapshot records written as they are (snapshot_stream's chunked path). Each column
becomes its JSON text in Arrow (numbers from decimal128 text, quoted dates and timestamps,
`true`/`false`, escaped and quoted strings, arrays joined, `null`); one element-wise join
per batch adds the keys and the message around them, with a newline, so the joined
array's data buffer is the batch's lines.

The bytes are those the SDK's msgspec encoder writes for the same record, message by
message (tests compare them). Strings are escaped here for `"`, `\\`, newline, carriage
return and tab: a batch with another control character in a string is left to the
Python path, as is any column of a type this module does not convert.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tap_ignite.columns import Column
from tap_ignite.decimal_strings import DECIMAL_DATA_TYPES

Encode = Callable[[Any], bytes]
_CONTROL = r"[\x00-\x1f]"
_SPECIAL = r'[\x00-\x1f"\\]'  # what a JSON string escapes
_END = 1 << 62  # a slice start past any value's end: appends
# The control characters common in text, and msgspec's escapes for them.
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class LineBuilder:
    """One stream's RECORD lines, built from its export batches' columns."""

    def __init__(
        self,
        stream: str,
        version: int | None,
        time_extracted: datetime.datetime | None,
        encode: Encode,
        *,
        decimal_strings: bool,
    ) -> None:
        self.encode = encode
        self.decimal_strings = decimal_strings
        self._head = '{"type":"RECORD","stream":' + _text(encode(stream)) + ',"record":{'
        tail = "}"
        if version is not None:
            tail += ',"version":' + _text(encode(version))
        if time_extracted is not None:
            tail += ',"time_extracted":' + _text(encode(time_extracted))
        self._tail = tail + "}\n"

    def lines(
        self, columns: Sequence[Column | None], names: Sequence[str], batch: pa.RecordBatch
    ) -> bytes | None:
        """The batch's RECORD lines; None where a value needs the Python path."""
        if batch.num_rows == 0:
            return b""
        args: list[Any] = []
        for index, (column, name, array) in enumerate(
            zip(columns, names, batch.columns, strict=True)
        ):
            if column is None:
                return None
            fragment = json_text(column, array, decimal_strings=self.decimal_strings)
            if fragment is None:
                return None
            key = _text(self.encode(name)) + ":"
            args.append(("," if index else self._head) + key)
            args.append(fragment)
        if not args:
            return None
        args.append(self._tail)
        joined = pc.binary_join_element_wise(*args, "")
        _, offsets, data = joined.buffers()
        positions = memoryview(offsets).cast("i")  # int32 offsets of a string array
        start, end = positions[joined.offset], positions[joined.offset + len(joined)]
        return memoryview(data)[start:end].tobytes()


def json_text(column: Column, array: pa.Array, *, decimal_strings: bool) -> pa.Array | None:
    """A column's values as JSON text (`null` for nulls); None if not done in Arrow.

    The values are those `snapshot_files.RecordShaper` gives in Python, as msgspec
    encodes them.
    """
    text = _value_text(column, array, decimal_strings=decimal_strings)
    if text is None:
        return None
    text = pc.fill_null(text, "null")
    return text.cast(pa.string()) if pa.types.is_large_string(text.type) else text


def _value_text(column: Column, array: pa.Array, *, decimal_strings: bool) -> pa.Array | None:
    if column.data_type in DECIMAL_DATA_TYPES:
        return _number_text(array, decimal_strings=decimal_strings)
    text = time_text(column.data_type, array)
    if text is not None:
        return _quoted(text)
    if not column.is_known_type and not is_string(array.type):
        return None  # becomes JSON text in Python
    return _plain_text(array)


def _number_text(array: pa.Array, *, decimal_strings: bool) -> pa.Array | None:
    """NUMBER/MONETARY_AMOUNT: every digit of a decimal or integer, as a number or string."""
    kind = array.type
    if not (pa.types.is_decimal(kind) or pa.types.is_integer(kind)):
        return None
    digits = pc.cast(array, pa.string())
    return _quoted(digits) if decimal_strings else digits


def _plain_text(array: pa.Array) -> pa.Array | None:
    """A column given as it is in Python (`to_pylist`), by its Arrow type."""
    kind = array.type
    if pa.types.is_boolean(kind):
        return pc.if_else(array, "true", "false")
    if is_string(kind):
        return _string_text(array)
    if pa.types.is_integer(kind):
        return pc.cast(array, pa.string())
    if (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and is_string(kind.value_type):
        return _array_text(array)
    return None


def time_text(data_type: str, array: pa.Array) -> pa.Array | None:
    """DATE and TIMESTAMP columns as the rows endpoint's text; None for other columns."""
    kind = array.type
    if data_type == "DATE" and pa.types.is_date(kind):
        return pc.cast(array, pa.string())  # Arrow's date text is ISO 8601, `YYYY-MM-DD`
    if data_type == "DATE" and pa.types.is_timestamp(kind):
        return pc.strftime(_utc(array), format="%Y-%m-%d")
    if data_type == "TIMESTAMP" and pa.types.is_timestamp(kind):
        return _rfc3339(array)
    if data_type == "TIMESTAMP" and pa.types.is_date(kind):
        return pc.strftime(array, format="%Y-%m-%dT00:00:00Z")
    return None


def _utc(array: pa.Array) -> pa.Array:
    kind = array.type
    if pa.types.is_timestamp(kind) and kind.tz not in {None, "UTC", "+00:00", "Z"}:
        return pc.cast(array, pa.timestamp(kind.unit, tz="UTC"))
    return array


def _rfc3339(array: pa.Array) -> pa.Array:
    """Timestamps as the rows endpoint writes them: whole seconds unless a value has more.

    Whole seconds go through Arrow's own text of a naive timestamp (`YYYY-MM-DD HH:MM:SS`,
    the UTC wall clock), a `T` and a `Z`: the same text as strftime at a tenth of its cost.
    """
    array = _utc(array)
    try:
        whole = pc.cast(array, pa.timestamp("s", tz=array.type.tz), safe=True)
    except pa.ArrowInvalid:
        # Some value has a fraction of a second: keep it (digits as the file's unit).
        return pc.strftime(array, format="%Y-%m-%dT%H:%M:%SZ")
    text = pc.cast(pc.cast(whole, pa.timestamp("s")), pa.string())
    text = pc.replace_substring(text, " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, pa.scalar("Z"), "")


def _string_text(array: pa.Array) -> pa.Array | None:
    """Strings as JSON strings, escaped as msgspec escapes them; None for a control
    character other than a newline, carriage return or tab (rare: left to Python)."""
    if pc.any(pc.match_substring_regex(array, _SPECIAL)).as_py():
        array = pc.replace_substring(array, "\\", "\\\\")
        array = pc.replace_substring(array, '"', '\\"')
        for character, escape in _SHORT_ESCAPES.items():
            array = pc.replace_substring(array, character, escape)
        if pc.any(pc.match_substring_regex(array, _CONTROL)).as_py():
            return None
    return _quoted(array)


def _array_text(array: pa.ListArray | pa.LargeListArray) -> pa.Array | None:
    """Lists of strings as JSON arrays."""
    items = _string_text(array.values)
    if items is None:
        return None
    items = pc.fill_null(items, "null")
    # `offsets` index the whole child array (`values`), also for a slice; a null list is
    # set back to null afterwards (a validity mask cannot go with sliced offsets).
    lists = type(array).from_arrays(array.offsets, items)
    text = _wrapped(pc.binary_join(lists, ","), "[", "]")
    if array.null_count:
        text = pc.if_else(array.is_null(), pa.scalar(None, text.type), text)
    return text


def _quoted(array: pa.Array) -> pa.Array:
    return _wrapped(array, '"', '"')


def _wrapped(array: pa.Array, before: str, after: str) -> pa.Array:
    """Each value between `before` and `after` (nulls stay null)."""
    return pc.binary_replace_slice(pc.binary_replace_slice(array, 0, 0, before), _END, _END, after)


def is_string(kind: pa.DataType) -> bool:
    """Whether an Arrow type is UTF-8 text (string or large_string)."""
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _text(encoded: bytes) -> str:
    return encoded.decode()
