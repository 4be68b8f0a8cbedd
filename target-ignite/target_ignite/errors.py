"""Errors that stop a load with one clear line instead of a traceback."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from target_ignite.client import ImportResult


class LoadStopped(Exception):  # noqa: N818 - it names what happened to the load
    """The load cannot go on; the message is the one line the user sees."""


class ImportFailed(LoadStopped):
    """The Import API refused an import, or it could not be sent after every retry."""

    # What the import sent, when and how often (for its receipt), if an import failed.
    sent: ImportResult | None = None


class BadRecord(LoadStopped):
    """A record that cannot become an Ignite row (the reader adds its line number)."""


class UnknownFields(BadRecord):
    """Fields the repository does not have, with `unknown_fields: error`."""


class BadBatchFile(LoadStopped):
    """A BATCH message's file that is missing, unreadable or not in the encoding it names."""
