"""`unknown_fields`: what happens to fields the repository does not have.

Checked against the stream's schema when its SCHEMA arrives (after stream maps and
flattening), so `error` stops the load before any of its rows move; then for fields a
record carries beyond its schema (see columns.py), the same in every import format.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from target_ignite.client import Repository
from target_ignite.errors import UnknownFields

WARN, ERROR, DROP = "warn", "error", "drop"


class FieldCheck:
    """One stream's fields against one repository's."""

    def __init__(
        self,
        stream: str,
        repository: Repository,
        mode: str,
        schema_fields: Iterable[str],
        logger: logging.Logger,
    ) -> None:
        self.stream = stream
        self.repository = repository
        self.mode = mode
        self.logger = logger
        self.known = frozenset(repository.fields)
        self._reported: set[str] = set()
        # For a dry run's plan (plan.py): unknown fields in the order they were met, and the
        # fields records brought beyond the schema that are sent.
        self.unknown: list[str] = []
        self.extras_sent: dict[str, None] = {}
        schema_fields = list(schema_fields)
        self.schema_fields = tuple(schema_fields)
        # With no fields listed, the repository cannot tell what is unknown.
        self.active = bool(self.known)
        unknown = [f for f in schema_fields if f not in self.known] if self.active else []
        self._report(unknown, "the stream's schema has")
        dropped = set(unknown) if mode == DROP else set()
        self.columns = [f for f in schema_fields if f not in dropped]

    def _report(self, unknown: list[str], whose: str) -> None:
        fresh = [f for f in unknown if f not in self._reported]
        if not fresh:
            return
        self._reported.update(fresh)
        self.unknown.extend(fresh)
        names = ", ".join(f"'{f}'" for f in fresh)
        where = (
            f"stream '{self.stream}': {whose} field(s) {names} that repository "
            f"'{self.repository.name}' does not have (its fields: {', '.join(sorted(self.known))})"
        )
        if self.mode == ERROR:
            msg = f"{where}; unknown_fields is 'error'. Rename them with stream_maps, or drop them"
            raise UnknownFields(msg)
        if self.mode == DROP:
            self.logger.info("%s; dropping them (unknown_fields: drop)", where)
        else:
            self.logger.warning("%s; sending them anyway (unknown_fields: warn)", where)

    def sent(self, extras: list[str]) -> list[str]:
        """Which of a record's fields beyond its schema are sent (reporting unknown ones)."""
        sent = self._sent(extras)
        self.extras_sent.update(dict.fromkeys(sent))
        return sent

    def _sent(self, extras: list[str]) -> list[str]:
        if not self.active:
            return extras
        unknown = [name for name in extras if name not in self.known]
        if not unknown:
            return extras
        self._report(sorted(unknown), "a record has")
        if self.mode == DROP:
            return [name for name in extras if name in self.known]
        return extras
