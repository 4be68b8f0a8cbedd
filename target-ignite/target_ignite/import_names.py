"""Import names from `import_name_template`: made for each batch, checked before data moves.

Everything about a name that the settings decide is checked at start-up (placeholders, format
specs, length with the repositories configured); what only the input decides (a stream's
name) is checked when the stream's SCHEMA arrives, before any of its rows move.
"""

from __future__ import annotations

import datetime
import string
from dataclasses import dataclass

from target_ignite import wire

FIELDS = frozenset({"stream", "repository", "load_started", "batch"})
LOAD_STARTED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The batch number names are checked with: a load makes fewer imports than this per stream.
LONGEST_BATCH = 9_999_999
_EXAMPLE_START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def template_problem(template: str) -> str | None:
    """What is wrong with a template whatever the names it is filled with, or None."""
    where = f"import_name_template '{template}'"
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        return f"{where} is not a valid template: {exc}"
    unknown = names - FIELDS
    if unknown:
        shown = ", ".join(f"{{{name}}}" for name in sorted(unknown))
        return (
            f"{where} has unknown placeholder(s) {shown}; use "
            f"{', '.join(f'{{{name}}}' for name in sorted(FIELDS))}"
        )
    if "batch" not in names:
        return f"{where} has no {{batch}}: every import of a stream would have the same name"
    try:
        ImportNames(template, _EXAMPLE_START).name("stream", "repository", 1)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        return f"{where} cannot be filled in: {exc}"
    return None


@dataclass(frozen=True)
class ImportNames:
    """The names of one load's imports."""

    template: str
    load_started: datetime.datetime

    def name(self, stream: str, repository: str, batch: int) -> str:
        """The name of import number `batch` of a stream."""
        return self.template.format(
            stream=stream,
            repository=repository,
            load_started=self.load_started.strftime(LOAD_STARTED_FORMAT),
            batch=batch,
        )

    def length_problem(self, where: str, stream: str | None, repository: str) -> str | None:
        """Why names of a stream (None: any stream, counted as an empty name) into a
        repository can be longer than the API takes; None if they cannot."""
        longest = len(self.name(stream or "", repository, LONGEST_BATCH))
        if longest <= wire.MAX_IMPORT_NAME_LENGTH:
            return None
        whose = f"stream '{stream}'" if stream is not None else "every stream"
        return (
            f"{where}: import names of {whose} into repository '{repository}' would be up to "
            f"{longest} characters (import_name_template '{self.template}'); Ignite takes at "
            f"most {wire.MAX_IMPORT_NAME_LENGTH}"
        )
