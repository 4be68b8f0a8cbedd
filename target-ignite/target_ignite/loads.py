"""What one run of the target shares across its sinks: repositories, delete queries, tallies.

A delete query deletes the repository's rows that match it, then the import adds its own.
Sent with every batch it would delete the load's own earlier batches, so it goes with the
FIRST import of its repository in a load and never again; imports into one repository hold
that repository's turn (`RepositoryLoad.turn`), so no other stream's batch can land before
the delete.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import typing as t
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from target_ignite.client import ImportRequest, ImportResult, Repository
from target_ignite.errors import ImportFailed, LoadStopped
from target_ignite.import_names import ImportNames
from target_ignite.receipts import ImportLog, NoImportLog, SentImport, utc_now

if t.TYPE_CHECKING:
    from target_ignite.fields import FieldCheck


class RepositoryNotFound(LoadStopped):
    """A stream or setting names a repository the token cannot see."""


def describe(repositories: Iterable[Repository]) -> str:
    """`'Name' (id), ...` for an error that lists what is available."""
    listed = ", ".join(f"'{r.name}' ({r.id})" for r in repositories)
    return listed or "none (create one in the Ignite web app)"


class RepositoryDirectory:
    """Repositories by id and by name, as `GET /repositories/` listed them."""

    def __init__(self, repositories: Iterable[Repository]) -> None:
        self.repositories = list(repositories)
        self._by_id = {r.id: r for r in self.repositories}

    def resolve(self, reference: str, where: str) -> Repository:
        """The repository an id or a name refers to; `where` names the setting."""
        named = [r for r in self.repositories if r.name == reference]
        by_id = self._by_id.get(reference)
        if by_id is not None:
            others = [r for r in named if r.id != by_id.id]
            if others:
                msg = (
                    f"{where}: '{reference}' is ambiguous: it is the id of repository "
                    f"'{by_id.name}' and the name of {describe(others)}. Set the other "
                    f"repository's id to load that one, or the name '{by_id.name}' to load "
                    "the first"
                )
                raise RepositoryNotFound(msg)
            return by_id
        if len(named) == 1:
            return named[0]
        if named:
            msg = (
                f"{where}: {len(named)} repositories are named '{reference}'; "
                f"use one of their ids: {describe(named)}"
            )
            raise RepositoryNotFound(msg)
        msg = (
            f"{where}: no repository has the id or name '{reference}'. "
            f"Available repositories: {describe(self.repositories)}"
        )
        raise RepositoryNotFound(msg)


@dataclass
class RepositoryLoad:
    """One repository's part of this load."""

    repository: Repository
    delete_query_id: str | None = None
    delete_query_streams: set[str] = field(default_factory=set)
    delete_query_sent_with: str | None = None
    streams: set[str] = field(default_factory=set)
    imports: list[ImportResult] = field(default_factory=list)
    rows: int = 0
    request_bytes: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Each of its sinks' columns against the repository's fields (for a dry run's plan).
    field_checks: list[FieldCheck] = field(default_factory=list)

    @contextlib.contextmanager
    def turn(self) -> Iterator[str | None]:
        """Hold the repository for one import: yields the delete query that import carries
        (the load's first import into the repository carries it, no later one does)."""
        with self.lock:
            yield self.delete_query_id if self.delete_query_sent_with is None else None


@dataclass(frozen=True)
class StreamSettings:
    """Where a stream goes, as the settings say."""

    default_repository: str | None
    stream_repositories: Mapping[str, str]
    default_delete_query: str | None
    stream_delete_queries: Mapping[str, str]


class Load:
    """The repositories, delete queries and counters of one run."""

    def __init__(
        self,
        directory: RepositoryDirectory,
        settings: StreamSettings,
        logger: logging.Logger,
        started_at: datetime.datetime,
        import_name_template: str,
        *,
        import_log: ImportLog | None = None,
    ) -> None:
        self.directory = directory
        # Hears of every import: receipts (receipts.py), or a dry run's plan (plan.py).
        self.import_log: ImportLog = import_log or NoImportLog()
        self.settings = settings
        self.logger = logger
        self.started_at = started_at
        self.import_names = ImportNames(import_name_template, started_at)
        self._repositories: dict[str, RepositoryLoad] = {}
        self._batch_numbers: dict[str, int] = {}
        self._activate_version_streams: set[str] = set()
        self._lock = threading.Lock()

    def repository_of(self, stream: str) -> Repository:
        """The repository a stream loads, from `stream_repositories` or `repository_id`."""
        if stream in self.settings.stream_repositories:
            return self.directory.resolve(
                self.settings.stream_repositories[stream], f"stream_repositories.{stream}"
            )
        if self.settings.default_repository:
            return self.directory.resolve(self.settings.default_repository, "repository_id")
        msg = (
            f"stream '{stream}' has no repository: set repository_id, or "
            f"stream_repositories.{stream} to a repository id or name. "
            f"Available repositories: {describe(self.directory.repositories)}"
        )
        raise RepositoryNotFound(msg)

    def delete_query_of(self, stream: str) -> str | None:
        """The delete query a stream's load applies, if any."""
        return self.settings.stream_delete_queries.get(stream) or self.settings.default_delete_query

    def register(self, stream: str) -> RepositoryLoad:
        """Join a stream to its repository's load; check its delete query fits that load."""
        repository = self.repository_of(stream)
        # The stream's name is known only now: its import names must fit before rows move.
        too_long = self.import_names.length_problem("import_name_template", stream, repository.name)
        if too_long:
            raise LoadStopped(too_long)
        delete_query = self.delete_query_of(stream)
        with self._lock:
            load = self._repositories.setdefault(repository.id, RepositoryLoad(repository))
            load.streams.add(stream)
            if delete_query is None:
                return load
            where = f"stream '{stream}' -> repository '{repository.name}'"
            if load.delete_query_id not in {None, delete_query}:
                msg = (
                    f"{where}: delete query {delete_query} differs from {load.delete_query_id} "
                    f"(streams {sorted(load.delete_query_streams)}); a repository takes one "
                    "delete query per load"
                )
                raise LoadStopped(msg)
            if load.delete_query_id is None and load.imports:
                msg = (
                    f"{where}: delete query {delete_query} arrived after this load already "
                    f"made {len(load.imports)} import(s) into the repository; sending it now "
                    "would delete them. Give every stream of this repository the same delete "
                    "query, or send this stream first"
                )
                raise LoadStopped(msg)
            load.delete_query_id = delete_query
            load.delete_query_streams.add(stream)
            return load

    def first_activate_version(self, stream: str) -> bool:
        """Whether this is the load's first ACTIVATE_VERSION of a stream."""
        with self._lock:
            first = stream not in self._activate_version_streams
            self._activate_version_streams.add(stream)
            return first

    def next_batch_number(self, stream: str) -> int:
        """1, 2, 3... per stream, across the stream's sinks."""
        with self._lock:
            number = self._batch_numbers.get(stream, 0) + 1
            self._batch_numbers[stream] = number
            return number

    def record(
        self, load: RepositoryLoad, stream: str, sent: ImportRequest, result: ImportResult
    ) -> None:
        """Count an import the API accepted (under `load.turn()`), and say what it did."""
        load.imports.append(result)
        load.rows += sent.rows
        load.request_bytes += result.request_bytes
        load.seconds += result.seconds
        if sent.delete_query_id:
            load.delete_query_sent_with = result.import_name
        self.import_log.sent(SentImport(load.repository, stream, sent, result, utc_now()))
        if not result.attempts:  # a dry run: built as it would be sent, not sent (plan.py)
            self.logger.info(
                "Stream '%s': import '%s' into repository '%s' (dry run, not sent): %d rows, "
                "%d bytes%s",
                stream,
                result.import_name,
                load.repository.name,
                sent.rows,
                result.request_bytes,
                f", with delete query {sent.delete_query_id}" if sent.delete_query_id else "",
            )
            return
        self.logger.info(
            "Stream '%s': import '%s' into repository '%s': %d rows, %d bytes, %.2fs, "
            "importId %s%s",
            stream,
            result.import_name,
            load.repository.name,
            sent.rows,
            result.request_bytes,
            result.seconds,
            result.import_id,
            f", with delete query {sent.delete_query_id}" if sent.delete_query_id else "",
        )
        if result.uncertain_attempts:
            self.logger.warning(
                "Import '%s' may have been applied more than once: %d earlier attempt(s) lost "
                "the connection after sending, and the Import API cannot tell whether they "
                "were applied. Look for imports of this name in Ignite",
                result.import_name,
                result.uncertain_attempts,
            )
        if 0 <= result.rows != sent.rows:
            self.logger.warning(
                "Import '%s' sent %d rows but the API reports %d",
                result.import_name,
                sent.rows,
                result.rows,
            )

    def failed(
        self, load: RepositoryLoad, stream: str, sent: ImportRequest, error: ImportFailed
    ) -> None:
        """An import the API refused, or that could not be sent: its receipt says so."""
        tried = error.sent or ImportResult("", sent.import_name, -1, 0, attempts=0)
        self.import_log.sent(SentImport(load.repository, stream, sent, tried, utc_now(), error))

    @property
    def repository_loads(self) -> list[RepositoryLoad]:
        """Each repository's part of the load, in the order streams joined them."""
        return list(self._repositories.values())

    def summary(self) -> list[str]:
        """One line per repository: imports, rows, bytes, seconds, import ids."""
        lines = []
        for load in self._repositories.values():
            repo = load.repository
            ids = ", ".join(result.import_id for result in load.imports) or "none"
            lines.append(
                f"Repository '{repo.name}' ({repo.id}): {len(load.imports)} imports, "
                f"{load.rows} rows, {load.request_bytes} bytes, {load.seconds:.2f} seconds; "
                f"import ids: {ids}"
            )
            doubtful = [r.import_name for r in load.imports if r.uncertain_attempts]
            if doubtful:
                lines.append(
                    f"Repository '{repo.name}': possible duplicates: {len(doubtful)} import(s) "
                    "were retried after a connection broke with the request already sent, so "
                    "they may have been applied more than once: "
                    + ", ".join(f"'{name}'" for name in doubtful)
                    + ". Check for imports of the same name in Ignite; to clean up, run the "
                    "load again with a delete query that covers its rows"
                )
            if load.delete_query_id and load.delete_query_sent_with:
                lines.append(
                    f"Repository '{repo.name}': delete query {load.delete_query_id} was sent "
                    f"once, with import '{load.delete_query_sent_with}'"
                )
            elif load.delete_query_id:
                lines.append(
                    f"Repository '{repo.name}': delete query {load.delete_query_id} was NOT "
                    f"sent: stream(s) {', '.join(sorted(load.delete_query_streams))} had no "
                    "records, so nothing was deleted or imported"
                )
        return lines
