"""Bookmarks from a state the tap did not write, checked before any table is read.

A bookmark becomes the lower bound of a filter (rows mode) or a modified-since date (legacy
data tables). One that is not a value of its column would fail only when its table's turn
comes, after the tables before it were read, or worse, be sent as it is: so every selected
stream's bookmark is checked against its column's dataType first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tap_ignite.settings import parse_timestamp
from tap_ignite.table_stream import IgniteTableStream


def bookmark_errors(state: Mapping[str, Any], streams: Iterable[IgniteTableStream]) -> list[str]:
    """One line per selected stream whose bookmark its replication key's column cannot take."""
    bookmarks = state.get("bookmarks") or {}
    errors = []
    for stream in streams:
        key = stream.replication_key
        stream_state = bookmarks.get(stream.name)
        if not stream.selected or not key or not isinstance(stream_state, Mapping):
            continue
        # The SDK uses a bookmark only when it is for the stream's current replication key.
        if stream_state.get("replication_key") != key:
            continue
        value = stream_state.get("replication_key_value")
        data_type = stream.replication_data_type()
        if value is None or data_type is None or _fits(value, data_type):
            continue
        errors.append(
            f"state: the bookmark of stream '{stream.name}' is {value!r}, which is not a "
            f"{data_type} value for its replication key '{key}'; correct it or remove the "
            "stream from the state's bookmarks (the stream is then read from start_date)"
        )
    return errors


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and parse_timestamp(value) is not None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return False
    try:
        return Decimal(str(value).strip()).is_finite()
    except InvalidOperation:
        return False


# dataType -> whether a value is one of its values. A dataType the API does not document
# takes any scalar: its values are sent as they are.
_CHECKS: Mapping[str, Callable[[Any], bool]] = {
    "TIMESTAMP": _is_time,
    "DATE": _is_time,
    "NUMBER": _is_number,
    "MONETARY_AMOUNT": _is_number,
    "BOOL": lambda value: isinstance(value, bool),
    "STRING": lambda value: isinstance(value, str),
}


def _fits(value: Any, data_type: str) -> bool:
    """Whether a bookmark is a value of a column of this dataType."""
    if isinstance(value, dict | list):
        return False
    check = _CHECKS.get(data_type)
    return check is None or check(value)
