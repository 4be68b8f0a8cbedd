"""A dry run's plan: what a real load would send, built exactly as it would be sent.

With `dry_run`, the target reads all of its input with every check a real load makes
(schemas, validation, flattening, the field check against each repository, the byte caps),
and every batch becomes its import, body or gzip file included, in the order the real load
would send them, with the delete query on the import that would carry it. The client then
sends none of them (client.py refuses any request but a GET in a dry run), no STATE is
written, and the plan goes to stderr (stdout stays for Singer messages, of which there are
none), and as JSON to `dry_run_plan_path` if set. The exit code is the real load's: 0, or 1
with the same one ERROR line at the same input line.

Each planned import's `sha256` is of the very bytes a real load sends (the JSON body, or
the gzip file), so a real load with the same import names (an `import_name_template`
without `{load_started}`) has receipts with the same hashes.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
import typing as t
from dataclasses import asdict, dataclass, field
from pathlib import Path

from target_ignite.fields import DROP, ERROR
from target_ignite.receipts import utc_text, writable_problem

if t.TYPE_CHECKING:
    from target_ignite.fields import FieldCheck
    from target_ignite.loads import Load, RepositoryLoad
    from target_ignite.receipts import SentImport

EXIT_STOPPED = 1


@dataclass(frozen=True)
class PlannedImport:
    """One import as a real load would send it."""

    number: int  # 1, 2, ... per repository, in the order they would be sent
    stream: str
    import_name: str
    rows: int
    bytes: int  # of the request: the JSON body, or the multipart upload
    format: str
    sha256: str  # of the JSON body, or of the gzip file
    delete_query_id: str | None


@dataclass
class StreamColumns:
    """A stream's columns against its repository's fields."""

    stream: str
    unknown_fields: str
    checked: bool  # False when the repository lists no fields
    sent: list[str] = field(default_factory=list)
    fields: dict[str, str | None] = field(default_factory=dict)  # column -> field, or None
    unknown: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    fields_not_filled: list[str] = field(default_factory=list)


def stream_columns(checks: list[FieldCheck]) -> list[StreamColumns]:
    """One entry per stream (its latest schema's columns, and every field its records
    brought beyond a schema), in the order the streams arrived."""
    by_stream: dict[str, list[FieldCheck]] = {}
    for check in checks:
        by_stream.setdefault(check.stream, []).append(check)
    found = []
    for stream, stream_checks in by_stream.items():
        latest = stream_checks[-1]
        sent = dict.fromkeys(latest.columns)
        unknown: dict[str, None] = {}
        dropped: dict[str, None] = {}
        for check in stream_checks:
            sent.update(check.extras_sent)
            unknown.update(dict.fromkeys(check.unknown))
            if check.mode == DROP:
                dropped.update(dict.fromkeys(f for f in check.unknown if f not in sent))
        known = latest.known
        entry = StreamColumns(stream, latest.mode, latest.active)
        entry.sent = list(sent)
        entry.fields = {c: (c if c in known or not latest.active else None) for c in sent}
        entry.unknown = list(unknown)
        entry.dropped = list(dropped)
        entry.fields_not_filled = sorted(known - set(sent)) if latest.active else []
        found.append(entry)
    return found


class Plan:
    """Collects a dry run's imports (as the load's import log), then says them."""

    def __init__(
        self,
        api_url: str,
        load_started: datetime.datetime,
        plan_path: str | None,
        logger: logging.Logger,
    ) -> None:
        self.api_url = api_url
        self.load_started = load_started
        self.plan_path = Path(plan_path).expanduser() if plan_path else None
        self.logger = logger
        self.imports: dict[str, list[PlannedImport]] = {}  # by repository id
        self.stop: dict[str, t.Any] | None = None
        self.exit_code = 0

    def check(self) -> str | None:
        """Whether `dry_run_plan_path` can be written (checked before any input is read)."""
        if self.plan_path is None:
            return None
        return writable_problem("dry_run_plan_path", self.plan_path)

    # -- as the load's import log ----------------------------------------------------------

    def sent(self, sent: SentImport) -> None:
        """An import was built (a dry run sends none, so none fails)."""
        planned = self.imports.setdefault(sent.repository.id, [])
        planned.append(
            PlannedImport(
                number=len(planned) + 1,
                stream=sent.stream,
                import_name=sent.result.import_name,
                rows=sent.request.rows,
                bytes=sent.result.request_bytes,
                format=sent.request.import_format,
                sha256=sent.sha256,
                delete_query_id=sent.request.delete_query_id,
            )
        )

    def stopped(
        self, line: int | None, error: BaseException, exit_code: int = EXIT_STOPPED
    ) -> None:
        """The load stops here: the first rejected record, or whatever stopped it."""
        if self.stop is None:
            self.stop = {"line": line, "error": str(error)}
            self.exit_code = exit_code

    # -- what it says ----------------------------------------------------------------------

    def as_json(self, load: Load) -> dict[str, t.Any]:
        """The plan as the JSON written to `dry_run_plan_path`."""
        return {
            "dry_run": True,
            "api_url": self.api_url,
            "load_started": utc_text(self.load_started),
            "would_succeed": self.stop is None,
            "exit_code": self.exit_code,
            "stop": self.stop,
            "repositories": [self._repository_json(part) for part in load.repository_loads],
        }

    def _repository_json(self, part: RepositoryLoad) -> dict[str, t.Any]:
        planned = self.imports.get(part.repository.id, [])
        with_delete = next((p.import_name for p in planned if p.delete_query_id), None)
        return {
            "id": part.repository.id,
            "name": part.repository.name,
            "streams": sorted(part.streams),
            "delete_query_id": part.delete_query_id,
            "delete_query_with_import": with_delete,
            "imports": [asdict(p) for p in planned],
            "rows": sum(p.rows for p in planned),
            "bytes": sum(p.bytes for p in planned),
            "columns": [asdict(c) for c in stream_columns(part.field_checks)],
        }

    def text(self, load: Load) -> str:
        """The plan a person reads at a glance."""
        lines = [
            f"DRY RUN: nothing was sent to {self.api_url} (only its repositories were read), "
            "no delete query was applied, no STATE was written.",
        ]
        for part in load.repository_loads:
            lines += self._repository_text(part)
        if not load.repository_loads:
            lines.append("No stream reached a repository: the real load would import nothing.")
        if self.stop is None:
            lines.append("Outcome: the real load would succeed (exit code 0).")
        else:
            where = f" at line {self.stop['line']}" if self.stop["line"] else ""
            lines.append(
                f"Outcome: the real load would make the imports above, then STOP{where} "
                f"(exit code {self.exit_code}): {self.stop['error']}"
            )
        return "\n".join(lines)

    def _repository_text(self, part: RepositoryLoad) -> list[str]:
        repository = part.repository
        planned = self.imports.get(repository.id, [])
        lines = [
            f"Repository '{repository.name}' ({repository.id}), stream(s) "
            + ", ".join(f"'{s}'" for s in sorted(part.streams))
            + ":"
        ]
        if part.delete_query_id:
            carrier = next((p for p in planned if p.delete_query_id), None)
            if carrier is None:
                lines.append(
                    f"  delete query {part.delete_query_id}: NOT applied (no import: its "
                    "stream(s) had no records), so nothing would be deleted"
                )
            else:
                lines.append(
                    f"  delete query {part.delete_query_id}: applied once, with import "
                    f"{carrier.number} '{carrier.import_name}': it deletes the matching rows, "
                    "then that import adds its own"
                )
        else:
            lines.append("  no delete query: the imports only add rows")
        for columns in stream_columns(part.field_checks):
            lines += _columns_text(columns)
        if planned:
            lines.append("  imports, in the order they would be sent:")
            width = max(len(str(p.rows)) for p in planned)
            byte_width = max(len(str(p.bytes)) for p in planned)
            for p in planned:
                delete = f"  + delete query {p.delete_query_id}" if p.delete_query_id else ""
                lines.append(
                    f"    {p.number:>3}. {p.rows:>{width}} rows {p.bytes:>{byte_width}} bytes "
                    f"{p.format:<6} '{p.import_name}'{delete}"
                )
        lines.append(
            f"  total: {len(planned)} import(s), {sum(p.rows for p in planned)} rows, "
            f"{sum(p.bytes for p in planned)} bytes"
        )
        return lines


def _names(names: t.Iterable[str]) -> str:
    return ", ".join(names) or "none"


def _columns_text(columns: StreamColumns) -> list[str]:
    stream = f"  stream '{columns.stream}'"
    if not columns.checked:
        return [
            f"{stream}: {len(columns.sent)} column(s) sent, not checked (the repository "
            f"lists no fields): {_names(columns.sent)}"
        ]
    matched = [c for c in columns.sent if columns.fields.get(c)]
    lines = [
        f"{stream}: {len(columns.sent)} column(s) sent; {len(matched)} fill the repository "
        f"field of the same name: {_names(matched)}"
    ]
    sent_unknown = [c for c in columns.sent if not columns.fields.get(c)]
    if sent_unknown:
        lines.append(
            f"    not repository fields, sent anyway (unknown_fields: {columns.unknown_fields}): "
            + _names(sent_unknown)
        )
    if columns.dropped:
        lines.append(
            "    not repository fields, dropped (unknown_fields: drop): " + _names(columns.dropped)
        )
    if columns.unknown_fields == ERROR and columns.unknown:
        lines.append(
            "    not repository fields, the load stops (unknown_fields: error): "
            + _names(columns.unknown)
        )
    if columns.fields_not_filled:
        lines.append(
            "    repository fields no column fills (left empty): "
            + _names(columns.fields_not_filled)
        )
    return lines


def emit(plan: Plan, load: Load) -> None:
    """Print the plan to stderr (stdout is for Singer messages), and write its JSON."""
    sys.stderr.write(plan.text(load) + "\n")
    sys.stderr.flush()
    if plan.plan_path is not None:
        text = json.dumps(plan.as_json(load), indent=2, ensure_ascii=False) + "\n"
        try:
            plan.plan_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            plan.logger.error("Could not write the plan to '%s': %s", plan.plan_path, exc)
        else:
            plan.logger.info("Dry run plan written to '%s'", plan.plan_path)
