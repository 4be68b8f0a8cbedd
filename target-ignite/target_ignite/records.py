"""The SDK's per-record steps, done only as far as they change a record.

Most of the SDK's generic work on a record leaves it as it was: flattening a record whose
values are not objects only JSON-encodes its arrays, and a date that the SDK parses into a
`datetime` is written back by `iso_text` as the very text it came as. Each helper here
decides per record whether that holds, gives exactly what the SDK's step would give when
it does, and otherwise lets the SDK's own step run.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import math
import typing as t

import msgspec
from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.singerlib.json import serialize_json

from target_ignite.errors import BadRecord
from target_ignite.rows import NO_JSON_FORM, iso_text

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from singer_sdk.mapper import StreamMap


_encoder = msgspec.json.Encoder()


def array_text(value: list[t.Any]) -> str:
    """The JSON text the SDK's flattening gives an array (simplejson, ASCII only), faster for
    an array of strings: both write the compact form and escape printable ASCII alike (only
    `"` and `\\`), so msgspec's text is used when it is printable ASCII without `\\u`."""
    for item in value:
        if type(item) is not str:
            return serialize_json(value)
    encoded = _encoder.encode(value)
    if encoded.isascii() and b"\x7f" not in encoded and b"\\u" not in encoded:
        return encoded.decode()
    return serialize_json(value)


# Types of values that the SDK's flattening leaves as they are (exact types: it looks for
# mappings and lists, so a subclass of anything goes the SDK's way).
_AS_THEY_ARE = frozenset({str, int, bool, float, decimal.Decimal, type(None)})
_AS_THEY_ARE_OR_LIST = _AS_THEY_ARE | {list}


class Flattening:
    """What `stream_map.transform` does to a record of a stream whose only map is the SDK's
    identity map, without its per-key work when the record has no object to flatten."""

    def __init__(self, stream_map: StreamMap) -> None:
        self.stream_map = stream_map
        self.enabled = stream_map.flattening_enabled
        options = stream_map.flattening_options
        # Without options flattening is off (`enabled`), and `apply` never looks at the keys.
        max_key_length = options.max_key_length if options else 0
        schema = stream_map.transformed_schema
        # Keys that `flatten_key` leaves as they are (shorter than the cap) and that the SDK's
        # `_should_jsondump_value` cannot single out (it looks them up in the schema's top
        # level): for these, flattening a value that is not an object or array is a no-op.
        self._plain_keys = frozenset(
            key
            for key in schema.get("properties") or {}
            if len(key) < max_key_length and key not in schema
        )

    def apply(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """A new dict: the record as the SDK's map would give it."""
        if not self.enabled:
            return dict(record)  # the SDK's copy.copy of a dict
        if not record.keys() <= self._plain_keys:
            return self._sdk(record)
        kinds = set(map(type, record.values()))
        if kinds <= _AS_THEY_ARE:
            return dict(record)
        if not kinds <= _AS_THEY_ARE_OR_LIST:  # an object to flatten, or a list subclass
            return self._sdk(record)
        row = dict(record)
        for key, value in record.items():
            if type(value) is list:
                row[key] = array_text(value)
        return row

    def _sdk(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        transformed = self.stream_map.transform(copy.copy(record))
        if transformed is None:  # the identity map never filters
            msg = "the identity stream map filtered a record out"
            raise AssertionError(msg)
        return transformed


# Types the Singer reader gives a value: a BATCH record's values of these stay as they are.
_AS_READ = frozenset({str, int, bool, decimal.Decimal, type(None)})


def _as_read(value: t.Any, field: str) -> t.Any:
    if type(value) in _AS_READ:
        return value
    if type(value) is float:
        if not math.isfinite(value):
            msg = f"field '{field}': {value} is not a finite number ({NO_JSON_FORM})"
            raise BadRecord(msg)
        return decimal.Decimal(repr(value))  # its shortest text, read as the reader reads it
    if isinstance(value, dict):
        return {key: _as_read(item, field) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_read(item, field) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()  # as the SDK's writer, `T` between a date and its time
    return str(value)


def as_read(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """A BATCH file's record as the reader decodes the same record's RECORD line, whichever
    JSON writer the tap used: numbers with a fraction as Decimals (a parquet double as the
    Decimal of its shortest text), dates and timestamps as the ISO text the SDK's writer
    makes of them. A NaN or infinite number stops the load, as it does in a RECORD line."""
    return {key: _as_read(value, key) for key, value in record.items()}


def _same_date(value: str) -> bool:
    return datetime.date.fromisoformat(value).isoformat() == value


def _same_date_time(value: str) -> bool:
    return iso_text(datetime.datetime.fromisoformat(value)) == value


def _same_time(value: str) -> bool:
    return iso_text(datetime.time.fromisoformat(value)) == value


_SAME_TEXT: dict[str, Callable[[str], bool]] = {
    "date": _same_date,
    "date-time": _same_date_time,
    "time": _same_time,
}


_MAX_KEPT = 50_000  # texts remembered per kind (a few MB at most)


class DateColumns:
    """A schema's date, date-time and time properties, and whether a record's values of them
    may stay text: valid, and already written as `iso_text` would write the parsed value."""

    def __init__(self, schema: dict[str, t.Any]) -> None:
        properties = schema.get("properties") or {}
        self._properties = frozenset(properties)
        # Texts already found to stay as they are, per kind: dates repeat from row to row.
        self._kept: dict[str, set[str]] = {kind: set() for kind in _SAME_TEXT}
        self._columns: tuple[tuple[str, Callable[[str], bool], set[str]], ...] = tuple(
            (name, _SAME_TEXT[kind], self._kept[kind])
            for name, subschema in properties.items()
            if isinstance(subschema, dict)
            and (kind := get_datelike_property_type(subschema)) in _SAME_TEXT
        )

    def keep_text(self, record: dict[str, t.Any]) -> bool:
        """True when parsing the record's dates would change nothing the row ends up with;
        False for anything else (a field the schema lacks, a date that does not parse, ...)."""
        if not record.keys() <= self._properties:
            return False  # the SDK warns about fields the schema does not have
        for name, same_text, kept in self._columns:
            value = record.get(name)
            if value is None:
                continue
            if type(value) is not str:
                return False
            if value in kept:
                continue
            try:
                if not same_text(value):
                    return False
            except ValueError:
                return False  # the SDK's parse gives the error, with the field named
            if len(kept) >= _MAX_KEPT:
                kept.clear()
            kept.add(value)
        return True
