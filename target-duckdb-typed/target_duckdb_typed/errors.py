"""Errors that stop a load with one clear line instead of a traceback."""

from __future__ import annotations

from singer_sdk.exceptions import MissingKeyPropertiesError


class LoadStopped(Exception):  # noqa: N818 - it names what happened to the load
    """The load cannot go on; the message is the one line the user sees."""


class SchemaChangeRefused(LoadStopped):
    """A new SCHEMA asks for a column type the table's column cannot become without loss."""


class BadInput(LoadStopped):
    """A line or value the warehouse cannot take. Rows before `line` are good to commit.

    `line` is the input line number (None when the problem is in a BATCH file)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class MissingKeyError(BadInput, MissingKeyPropertiesError):
    """A record without one of its stream's key properties (the SDK's error type, too)."""
