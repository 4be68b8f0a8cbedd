"""The files a user or orchestrator hands the tap (--config, --state, --catalog), checked first.

The SDK parses them without looking and would end a run over an empty or truncated file with a
traceback. Each file is read here first: a problem is one line that names the file and what is
wrong with it, before anything is requested.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from singer_sdk.singerlib.catalog import Catalog


class InputFileError(Exception):
    """A --config, --state or --catalog file the tap cannot use; the message says why."""


def json_object(text: str, what: str) -> dict[str, Any]:
    """The JSON object a file holds; InputFileError if it is empty, not JSON or not an object."""
    if not text.strip():
        msg = f"{what} is empty"
        raise InputFileError(msg)
    try:
        data = json.loads(text)
    except ValueError as exc:
        msg = f"{what} is not JSON ({exc})"
        raise InputFileError(msg) from None
    if not isinstance(data, dict):
        msg = f"{what} holds a JSON {_kind(data)}, not an object"
        raise InputFileError(msg)
    return data


def check_config_file(path: str) -> None:
    """A --config file exists, is readable, and holds a JSON object."""
    what = f"--config file '{path}'"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{what} cannot be read: {getattr(exc, 'strerror', None) or exc}"
        raise InputFileError(msg) from None
    json_object(text, what)


def checked_state(file: IO[str] | None) -> IO[str] | None:
    """The --state file, to be read again by the SDK, once it holds a state of the tap's shape:
    an object whose `bookmarks` (if any) maps stream names to objects."""
    if file is None:
        return None
    what = f"--state file '{_name(file)}'"
    text = file.read()
    state = json_object(text, what)
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        msg = f"{what}: 'bookmarks' is a JSON {_kind(bookmarks)}, not an object of streams"
        raise InputFileError(msg)
    for stream, stream_state in bookmarks.items():
        if not isinstance(stream_state, Mapping):
            msg = (
                f"{what}: the bookmark of stream '{stream}' is a JSON {_kind(stream_state)}, "
                "not an object"
            )
            raise InputFileError(msg)
    return io.StringIO(text)


def checked_catalog(file: IO[str] | None) -> IO[str] | None:
    """The --catalog file, to be read again by the SDK, once it reads as a Singer catalog."""
    if file is None:
        return None
    what = f"--catalog file '{_name(file)}'"
    text = file.read()
    catalog = json_object(text, what)
    streams = catalog.get("streams")
    if not isinstance(streams, list) or not all(isinstance(s, Mapping) for s in streams):
        msg = f"{what} has no 'streams' list of stream objects (run the tap with --discover)"
        raise InputFileError(msg)
    try:
        Catalog.from_dict(catalog)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        msg = f"{what} is not a Singer catalog: {reason}"
        raise InputFileError(msg) from None
    return io.StringIO(text)


def _name(file: IO[str]) -> str:
    return str(getattr(file, "name", "<stdin>"))


def _kind(value: Any) -> str:
    """`list`, `string`... as JSON calls the type of a parsed value."""
    names = {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    if value is None:
        return "null"
    return names.get(type(value), type(value).__name__)
