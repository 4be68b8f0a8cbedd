"""Receipts: one JSON line per import a load sent, so a team can audit what went into Ignite.

`receipts_path` names a file (appended to, load after load) or a folder (one file per load,
`target-ignite-receipts-<load start>.jsonl`). Each line is written, flushed and synced as
soon as its import is answered, so a load that stops has receipts for everything it sent
before it stopped, the import that failed included (`"status": "failed"`, with the error).

A receipt holds what identifies the import in Ignite and what it carried, never the token:

    load_started, api_url, stream, repository_id, repository_name, import_name, import_id,
    status, format, rows, bytes, sha256, delete_query_id, started_at, finished_at, attempts,
    possible_duplicate, error

`bytes` counts the request (the JSON body, or the multipart upload); `sha256` is of the JSON
body, or of the gzip file uploaded. `possible_duplicate` is true when an attempt's answer was
lost after the request was sent (the Import API cannot tell whether it was applied), so the
import may be in Ignite twice (or, if it then failed, once).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from target_ignite.client import ImportRequest, ImportResult, Repository
from target_ignite.errors import ImportFailed

RECEIPTS_FILE = "target-ignite-receipts-{load_started}.jsonl"
FILE_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class SentImport:
    """One import a load made (or, in a dry run, would make), and what came of it."""

    repository: Repository
    stream: str
    request: ImportRequest  # to the byte: the JSON body, or the gzip file
    result: ImportResult  # for a failed import, what it took (no import id)
    finished_at: datetime.datetime
    error: ImportFailed | None = None  # None: Ignite accepted it (or a dry run built it)

    @property
    def sha256(self) -> str:
        """Of the JSON body, or of the gzip file (what the sandbox's imports list shows)."""
        return hashlib.sha256(self.request.body).hexdigest()

    @property
    def started_at(self) -> datetime.datetime:
        """When its first attempt began."""
        return self.finished_at - datetime.timedelta(seconds=self.result.seconds)


def utc_now() -> datetime.datetime:
    """Now, in UTC."""
    return datetime.datetime.now(datetime.UTC)


class ImportLog(Protocol):
    """What hears of every import a load made or would make (receipts, or a dry run's plan)."""

    def sent(self, sent: SentImport) -> None:
        """One import was answered (`error` is None) or failed (`error`)."""


class NoImportLog:
    """No receipts asked for."""

    def sent(self, sent: SentImport) -> None:
        """Nothing to write."""


def utc_text(moment: datetime.datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, `Z` for UTC (what DuckDB reads as a timestamp)."""
    if moment is None:
        return None
    text = moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def writable_problem(setting: str, path: Path) -> str | None:
    """What stops `path` (named by `setting`) from being appended to, its folder made if need
    be; checked before any input is read, so a bad path stops the load before data moves."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"{setting}: '{path}' cannot be written: {reason}"
    return None


def receipts_file(setting: str, load_started: datetime.datetime) -> Path:
    """The file `receipts_path` means: itself, or a file of this load's in a folder (an
    existing folder, or a path ending with a slash)."""
    path = Path(setting).expanduser()
    if path.is_dir() or setting.endswith(("/", os.sep)):
        stamp = load_started.astimezone(datetime.UTC).strftime(FILE_STAMP)
        return path / RECEIPTS_FILE.format(load_started=stamp)
    return path


def receipt(sent: SentImport, load_started: datetime.datetime, api_url: str) -> dict[str, Any]:
    """One receipt line's fields, in the order they are written."""
    request, result, error = sent.request, sent.result, sent.error
    return {
        "load_started": utc_text(load_started),
        "api_url": api_url,
        "stream": sent.stream,
        "repository_id": sent.repository.id,
        "repository_name": sent.repository.name,
        "import_name": result.import_name,
        "import_id": result.import_id or None,
        "status": "failed" if error is not None else "imported",
        "format": request.import_format,
        "rows": request.rows,
        "bytes": result.request_bytes,
        "sha256": sent.sha256,
        "delete_query_id": request.delete_query_id,
        "started_at": utc_text(sent.started_at),
        "finished_at": utc_text(sent.finished_at),
        "attempts": result.attempts,
        "possible_duplicate": result.possible_duplicate,
        "error": str(error) if error is not None else None,
    }


class Receipts:
    """The receipts file of one load, appended to as imports are answered."""

    def __init__(
        self,
        path: Path,
        load_started: datetime.datetime,
        api_url: str,
        logger: logging.Logger,
    ) -> None:
        self.path = path
        self.load_started = load_started
        self.api_url = api_url
        self.logger = logger
        self.written = 0
        self._lock = threading.Lock()

    def check(self) -> str | None:
        """Whether the file can be appended to (its folder made if need be): what is wrong."""
        return writable_problem("receipts_path", self.path)

    def sent(self, sent: SentImport) -> None:
        """Append the import's receipt at once (flushed and synced). One that cannot be
        written is logged whole as an ERROR: the import is made, and stopping the load now
        would only make a rerun send it again."""
        line = json.dumps(receipt(sent, self.load_started, self.api_url), ensure_ascii=False)
        with self._lock:
            try:
                with self.path.open("a", encoding="utf-8") as file:
                    file.write(line + "\n")
                    file.flush()
                    os.fsync(file.fileno())
                self.written += 1
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                self.logger.error(
                    "Could not write a receipt to '%s' (%s): %s", self.path, reason, line
                )

    def summary(self) -> str:
        """Where this load's receipts are."""
        return f"Receipts: {self.written} import(s) written to '{self.path}'"
