"""Errors that stop a load with one clear line instead of a traceback."""

from __future__ import annotations


class LoadStopped(Exception):  # noqa: N818 - it names what happened to the load
    """The load cannot go on; the message is the one line the user sees."""


class ImportFailed(LoadStopped):
    """The Import API refused an import, or it could not be sent after every retry."""


class BadRecord(LoadStopped):
    """A record that cannot become an Ignite row (the reader adds its line number)."""


class UnknownFields(BadRecord):
    """Fields the repository does not have, with `unknown_fields: error`."""


class BadBatchFile(LoadStopped):
    """A BATCH message's file that is missing, unreadable or not in the encoding it names."""
