"""The async Export API: start an export, poll it to the end, and re-poll for fresh URLs.

Requests go through the owning stream, so they share its Bearer auth, error messages
(token redacted), `Retry-After` handling and retries with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from singer_sdk.exceptions import FatalAPIError

from tap_ignite import wire
from tap_ignite.client import decoded_body
from tap_ignite.mode_settings import EXPORT_POLL_GROWTH, EXPORT_POLL_INTERVAL_CAP

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_ignite.client import IgniteStream

MEGABYTE = 1_000_000
# Stream state key of the export in flight: {"id", "entity", "request": <the POST body>}.
STATE_EXPORT = "export_in_flight"


class ExportFailedError(FatalAPIError):
    """The export ended with status `failed`; the message is the server's error."""


class ExportTimeoutError(FatalAPIError):
    """The export did not finish within export_timeout."""


class ExportNotFoundError(FatalAPIError):
    """`GET /exports/{id}` answered 404: the export is unknown (or long gone)."""


@dataclass(frozen=True)
class ExportFile:
    """One file of a succeeded export. `url` is signed: never log it."""

    number: int  # 1-based, for messages
    url: str
    rows: int | None
    bytes: int | None


@dataclass(frozen=True)
class Export:
    """An export job as `POST /tables/{entity}/exports` or `GET /exports/{id}` shows it."""

    id: str
    entity: str
    status: str
    estimated_bytes: int | None
    files: tuple[ExportFile, ...]
    error: str | None
    format: str | None = None  # as Ignite reports it, lower case; None if it does not

    @classmethod
    def from_api(cls, body: Mapping[str, Any], entity: str) -> Export:
        """Build from the API's export object."""
        files = tuple(
            ExportFile(
                number=number,
                url=str(item[wire.FILE_URL]),
                rows=_int_or_none(item.get(wire.FILE_ROWS)),
                bytes=_int_or_none(item.get(wire.FILE_BYTES)),
            )
            for number, item in enumerate(body.get(wire.EXPORT_FILES) or (), start=1)
        )
        return cls(
            id=str(body[wire.EXPORT_ID]),
            entity=str(body.get("entity") or entity),
            status=str(body.get(wire.EXPORT_STATUS) or ""),
            estimated_bytes=_int_or_none(body.get(wire.EXPORT_ESTIMATED_BYTES)),
            files=files,
            error=_error_text(body.get(wire.EXPORT_ERROR)),
            format=str(body.get(wire.BODY_FORMAT) or "").lower() or None,
        )

    @property
    def finished(self) -> bool:
        """Whether the status is final (succeeded or failed)."""
        return self.status in {wire.EXPORT_SUCCEEDED, wire.EXPORT_FAILED}

    def describe(self) -> str:
        """`export <id> of table '<entity>'`, for messages."""
        return f"export {self.id} of table '{self.entity}'"


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _error_text(error: Any) -> str | None:
    if not error:
        return None
    if isinstance(error, Mapping):
        code = error.get(wire.EXPORT_ERROR_CODE)
        message = error.get(wire.EXPORT_ERROR_MESSAGE)
        return ": ".join(str(part) for part in (code, message) if part) or str(dict(error))
    return str(error)


def saved_export_mismatch(saved: Any, entity: str, request: Mapping[str, Any]) -> str | None:
    """Why the export kept in state is not table `entity`'s export of `request`; None if it is.

    State may come from elsewhere (another table's, an older run's, edited by hand).
    """
    if not isinstance(saved, Mapping) or not isinstance(saved.get("id"), str) or not saved["id"]:
        return f"Table '{entity}': '{STATE_EXPORT}' in state is not an export ({saved!r:.200})"
    saved_entity = saved.get("entity", entity)
    if saved_entity != entity:
        return f"Export {saved['id']} in state is of table '{saved_entity}', not '{entity}'"
    kept = saved.get("request")
    if kept != request:
        differ = (
            ", ".join(sorted(k for k in {*kept, *request} if kept.get(k) != request.get(k)))
            if isinstance(kept, Mapping)
            else "no request kept"
        )
        return (
            f"Export {saved['id']} in state for table '{entity}' ({differ}) asked for other "
            "columns, filters or format"
        )
    return None


def export_mismatch(export: Export, entity: str, export_format: str) -> str | None:
    """Why an export, as Ignite describes it, cannot be read as table `entity` in
    `export_format`; None if it can."""
    if export.entity != entity:
        return (
            f"Export {export.id} in state is of table '{export.entity}' (as Ignite describes "
            f"it), not '{entity}'"
        )
    if export.format is not None and export.format != export_format:
        return (
            f"Export {export.id} in state for table '{entity}' is in {export.format}, not "
            f"{export_format}"
        )
    if export.status == wire.EXPORT_FAILED:
        return f"Export {export.id} in state failed ({export.error or 'no error given'})"
    return None


class ExportClient:
    """Export API calls for one stream: create, look up, and wait for an export."""

    def __init__(self, stream: IgniteStream) -> None:
        self.stream = stream
        self.poll_interval = stream.settings.export_poll_interval
        self.timeout = stream.settings.export_timeout

    def create(self, entity: str, body: Mapping[str, Any]) -> Export:
        """`POST /tables/{entity}/exports`: start a new export."""
        path = wire.EXPORTS_PATH.format(entity=quote(entity, safe=""))
        response = self._send("POST", path, body)
        return Export.from_api(decoded_body(response), entity)

    def get(self, export_id: str, entity: str) -> Export:
        """`GET /exports/{id}`: the export now, with fresh download URLs once it succeeded."""
        path = wire.EXPORT_STATUS_PATH.format(export_id=quote(export_id, safe=""))
        return Export.from_api(decoded_body(self._send("GET", path)), entity)

    def wait(self, export: Export) -> Export:
        """Poll until the export succeeds; stop on `failed` or after export_timeout.

        Logs status, estimated size and elapsed time at every poll.
        """
        started = time.monotonic()
        interval = self.poll_interval
        cap = max(EXPORT_POLL_INTERVAL_CAP, self.poll_interval)
        while True:
            elapsed = time.monotonic() - started
            self._log_progress(export, elapsed)
            if export.status == wire.EXPORT_SUCCEEDED:
                return export
            if export.status == wire.EXPORT_FAILED:
                msg = f"Ignite {export.describe()} failed: {export.error or 'no error given'}"
                raise ExportFailedError(self.stream.redact(msg))
            remaining = self.timeout - elapsed
            if remaining <= 0:
                msg = (
                    f"Ignite {export.describe()} did not finish within export_timeout "
                    f"({self.timeout:g} s; last status '{export.status}'); the next run "
                    "resumes polling it"
                )
                raise ExportTimeoutError(msg)
            time.sleep(min(interval, remaining))
            interval = min(interval * EXPORT_POLL_GROWTH, cap)
            export = self.get(export.id, export.entity)

    def _log_progress(self, export: Export, elapsed: float) -> None:
        size = (
            f"~{export.estimated_bytes / MEGABYTE:.1f} MB estimated"
            if export.estimated_bytes is not None
            else "size not estimated yet"
        )
        files = f", {len(export.files)} file(s)" if export.files else ""
        self.stream.logger.info(
            "Ignite %s: %s, %s, %.1f s elapsed%s",
            export.describe(),
            export.status,
            size,
            elapsed,
            files,
        )

    def _send(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> requests.Response:
        """One request with the stream's auth, retries and error handling; 404 is its own."""
        stream = self.stream
        prepared = stream.build_prepared_request(
            method=method,
            url=f"{stream.url_base}{path}",
            json=dict(body) if body is not None else None,
            headers=stream.http_headers,
        )

        def send(request: requests.PreparedRequest, _: Context | None) -> requests.Response:
            response = stream.requests_session.send(request, timeout=stream.timeout)
            action = wire.response_action(response.status_code, wire.Request.EXPORT)
            if action is wire.Action.NEW_EXPORT:
                raise ExportNotFoundError(stream.response_error_message(response))
            stream.validate_response(response)
            return response

        response: requests.Response = stream.request_decorator(send)(prepared, None)
        return response
