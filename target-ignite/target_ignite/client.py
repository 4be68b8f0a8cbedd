"""The part of target-ignite that speaks the Import API: repositories, imports, retries.

It knows the wire (paths, bodies, status codes) and nothing of Singer, batching or flattening.
Every message it produces goes through `redact`, so the API token cannot leak into a log line
or an error, in any form, whatever the server or `requests` put into theirs. Which answers are
retried is wire.RESPONSE_ACTIONS; `Retry-After` and the whole-request timeout follow
http_rules.py, as in tap-ignite.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import requests

from target_ignite import http_rules, wire
from target_ignite.errors import ImportFailed
from target_ignite.http_rules import DeadlineSession, Redactor
from target_ignite.stopping import STOP

T = TypeVar("T")

MAX_BACKOFF_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 1.0
MAX_ERROR_TEXT = 300


@dataclass(frozen=True)
class Repository:
    """A data repository (what the web app calls a data source) and its fields."""

    id: str
    name: str
    fields: tuple[str, ...]


def json_body(
    repository_id: str, import_name: str, delete_query_id: str | None, rows: bytes | bytearray
) -> bytes:
    """The exact `POST /import/` body; `rows` is the comma-joined content of `data`."""
    envelope: dict[str, str] = {
        wire.BODY_REPOSITORY_ID: repository_id,
        wire.BODY_IMPORT_NAME: import_name,
    }
    if delete_query_id:
        envelope[wire.BODY_DELETE_QUERY_ID] = delete_query_id
    head = msgspec.json.encode(envelope)[:-1]  # drop "}" to append the data array
    return b"".join((head, b',"', wire.BODY_DATA.encode(), b'":[', rows, b"]}"))


@dataclass(frozen=True)
class ImportRequest:
    """One import, built to the byte, as `ImportClient.send` sends it.

    `json`: `body` is the whole JSON body of `POST /import/` (see `json_body`). `ndjson` and
    `csv`: `body` is the gzip-compressed file that `POST /import/file/` uploads as `file_name`,
    with `file_config`; the multipart envelope around it is the client's.
    """

    repository_id: str
    import_name: str
    import_format: str
    rows: int
    delete_query_id: str | None
    body: bytes
    file_name: str | None = None
    file_config: Mapping[str, str] | None = None

    @property
    def is_file(self) -> bool:
        """Whether this import is a file upload (`POST /import/file/`)."""
        return self.file_name is not None


@dataclass(frozen=True)
class ImportResult:
    """What the Import API answered for one accepted import, and what it took to get it."""

    import_id: str
    import_name: str
    rows: int  # as the API reports them; -1 when it does not say
    request_bytes: int
    # Earlier attempts whose connection broke after the request was sent: each may have been
    # applied too (the Import API has no idempotency key), so the rows may be there twice.
    uncertain_attempts: int = 0
    attempts: int = 1
    seconds: float = 0.0

    @property
    def possible_duplicate(self) -> bool:
        """Whether an attempt's answer was lost after sending, so it may be applied twice."""
        return self.uncertain_attempts > 0


@dataclass
class _Attempts:
    """What `_with_retries` tells its caller: attempts made, and those whose answer was lost."""

    made: int = 0
    lost: list[str] = field(default_factory=list)


class ApiError(ImportFailed):
    """A non-transient answer from the API (any 4xx but 429)."""

    def __init__(self, what: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{what}: HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.server_message = message


class _Retryable(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A failure worth another try, with its action in wire.RESPONSE_ACTIONS.

    `retry_after` is the wait the answer's `Retry-After` asked for, if any.
    """

    def __init__(
        self, reason: str, action: wire.Action, *, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.ambiguous = action is wire.Action.RETRY_LOST_ANSWER
        self.retry_after = retry_after


class ImportClient:
    """Calls to one Ignite Import API base URL with one token."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout: float,
        max_retries: int,
        max_retry_after: float,
        logger: logging.Logger,
        dry_run: bool = False,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        # A dry run builds every import but sends none: only GET requests leave (plan.py).
        self.dry_run = dry_run
        self._token = http_rules.api_token(token)
        # The token as configured too: its stray whitespace may show up in another form.
        self._redactor = Redactor([token])
        self.timeout = timeout
        self.max_tries = max_retries + 1
        self.max_retry_after = max_retry_after
        self.logger = logger
        # requests.Session is not documented as thread-safe; the SDK drains sinks in threads.
        self._local = threading.local()

    # -- plumbing ---------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """`text` with the token masked in every form it may take (http_rules.secret_forms)."""
        return self._redactor(text)

    @property
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            # request_timeout bounds each whole request, not each socket read.
            session = DeadlineSession(self.timeout)
            session.headers["Authorization"] = f"Bearer {self._token}"
            session.headers["User-Agent"] = "target-ignite"
            self._local.session = session
        return session

    def _error_from(self, response: requests.Response, what: str) -> ApiError:
        code, message = "error", response.reason or "request failed"
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            code = str(body.get(wire.ERROR_CODE) or code)
            message = str(body.get(wire.ERROR_MESSAGE) or message)
        elif response.text:
            message = http_rules.server_text(response.text, self._redactor, MAX_ERROR_TEXT)
        return ApiError(what, response.status_code, self.redact(code), self.redact(message))

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One attempt; raises `_Retryable` for what is worth another try."""
        if self.dry_run and method != "GET":
            msg = f"{what}: a dry run sends no {method} request"
            raise AssertionError(msg)
        url = f"{self.api_url}{path}"
        try:
            response = self._session.request(method, url, **kwargs)
        except requests.exceptions.ConnectTimeout as exc:
            reason = f"{what}: connect timeout ({type(exc).__name__})"
            raise _Retryable(reason, wire.action_for(wire.CONNECT_FAILED)) from None
        except requests.exceptions.Timeout:
            reason = f"{what}: no answer within {self.timeout:g}s"
            raise _Retryable(reason, wire.action_for(wire.NO_ANSWER_IN_TIME)) from None
        except requests.exceptions.ConnectionError as exc:
            # The request may or may not have reached the server before the connection broke.
            reason = (
                f"{what}: connection failed ({self.redact(str(exc.args[0] if exc.args else exc))})"
            )
            raise _Retryable(reason, wire.action_for(wire.CONNECTION_BROKEN)) from None
        action = wire.action_for(response.status_code)
        if action is wire.Action.ACCEPT:
            return response
        if action not in {wire.Action.RETRY, wire.Action.WAIT}:
            raise self._error_from(response, what)
        reason = (
            f"{what}: rate limited (HTTP {response.status_code})"
            if action is wire.Action.WAIT
            else str(self._error_from(response, what))
        )
        try:
            wait = http_rules.retry_after_seconds(
                response.headers.get(wire.RETRY_AFTER_HEADER), self.max_retry_after
            )
        except http_rules.RetryAfterRefused as exc:
            raise ImportFailed(self.redact(f"{reason}: {exc}")) from None
        raise _Retryable(reason, action, retry_after=wait)

    def _with_retries(
        self, what: str, attempt: Callable[[], T], attempts: _Attempts | None = None
    ) -> T:
        """Run `attempt`, retrying transient failures after the wait `Retry-After` asks for,
        or else after an exponential backoff with jitter; nothing after SIGTERM (stopping.py).

        `attempts` counts the attempts made, and keeps those that may have been applied (the
        connection broke after sending), so the caller can report a possible duplicate.
        """
        attempts = attempts or _Attempts()
        ambiguous = attempts.lost  # every lost answer, the last one's too (for a receipt)
        for tries in range(1, self.max_tries + 1):
            if STOP.requested:
                msg = f"{what}: not sent, the target is stopping"
                raise ImportFailed(msg)
            attempts.made = tries
            try:
                return attempt()
            except _Retryable as exc:
                failure = exc
            if failure.ambiguous:
                ambiguous.append(self.redact(str(failure)))
            if tries == self.max_tries:
                break
            if failure.retry_after is not None:
                wait = failure.retry_after
            else:
                ceiling = min(MAX_BACKOFF_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (tries - 1))
                wait = random.uniform(ceiling / 2, ceiling)  # jitter: retries do not march
            suffix = ""
            if failure.ambiguous:
                suffix = (
                    " (the request may have been applied before the connection broke; "
                    "a duplicate would show as two imports of the same name)"
                )
            self.logger.warning(
                "%s; retry %d of %d in %.1fs%s",
                failure,
                tries,
                self.max_tries - 1,
                wait,
                suffix,
            )
            if STOP.pause(wait):
                msg = f"{failure}; not retried, the target is stopping"
                if ambiguous:
                    msg += " (the attempt may have been applied before its connection broke)"
                raise ImportFailed(self.redact(msg))
        msg = f"{failure}; gave up after {tries} attempts"
        if ambiguous:
            msg += " (an attempt may have been applied before its connection broke)"
        raise ImportFailed(self.redact(msg))

    # -- the API ----------------------------------------------------------------------

    def list_repositories(self) -> list[Repository]:
        """`GET /repositories/`: every repository the token can import into."""
        what = f"GET {self.api_url}{wire.REPOSITORIES_PATH}"
        response = self._with_retries(
            what, lambda: self._request("GET", wire.REPOSITORIES_PATH, what)
        )
        try:
            items = response.json()
            return [
                Repository(
                    id=str(item[wire.REPOSITORY_ID]),
                    name=str(item[wire.REPOSITORY_NAME]),
                    fields=tuple(str(f) for f in item.get(wire.REPOSITORY_FIELDS) or ()),
                )
                for item in items
            ]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            msg = f"{what}: unexpected response ({type(exc).__name__}: {exc})"
            raise ImportFailed(self.redact(msg)) from None

    def send(self, request: ImportRequest) -> ImportResult:
        """Make one import: `POST /import/` or `POST /import/file/`, retried as the rules say.

        The one place an import leaves the target: what comes before it only builds the
        request, what comes after it only records the result.
        """
        what = f"import '{request.import_name}'"
        if request.is_file:
            path, body, headers = wire.IMPORT_FILE_PATH, *self._multipart(request)
        else:
            path, body = wire.IMPORT_PATH, request.body
            headers = {"Content-Type": "application/json"}
        if self.dry_run:  # built to the byte, not sent (plan.py)
            return ImportResult("", request.import_name, -1, len(body), attempts=0)
        attempts = _Attempts()
        started = time.monotonic()
        try:
            response = self._with_retries(
                what,
                lambda: self._request("POST", path, what, data=body, headers=headers),
                attempts,
            )
            return self._result(
                response, request.import_name, len(body), attempts, time.monotonic() - started
            )
        except ImportFailed as exc:  # what it took, for the failed import's receipt
            exc.sent = ImportResult(
                "",
                request.import_name,
                -1,
                len(body),
                uncertain_attempts=len(attempts.lost),
                attempts=attempts.made,
                seconds=time.monotonic() - started,
            )
            raise

    def _multipart(self, request: ImportRequest) -> tuple[bytes, dict[str, str]]:
        """The form of a file import, built once so that every retry sends the same bytes
        and the size is known."""
        fields: dict[str, str] = {
            wire.FORM_REPOSITORY_ID: request.repository_id,
            wire.FORM_IMPORT_NAME: request.import_name,
            wire.FORM_COMPRESSED: "true",
        }
        if request.delete_query_id:
            fields[wire.FORM_DELETE_QUERY_ID] = request.delete_query_id
        if request.file_config is not None:
            fields[wire.FORM_FILE_CONFIG] = msgspec.json.encode(dict(request.file_config)).decode()
        prepared = requests.Request(
            "POST",
            f"{self.api_url}{wire.IMPORT_FILE_PATH}",
            data=fields,
            files={wire.FORM_FILE: (request.file_name, request.body, "application/gzip")},
        ).prepare()
        body = prepared.body if isinstance(prepared.body, bytes) else b""
        return body, {"Content-Type": str(prepared.headers["Content-Type"])}

    def _result(
        self,
        response: requests.Response,
        import_name: str,
        request_bytes: int,
        attempts: _Attempts,
        seconds: float,
    ) -> ImportResult:
        try:
            body = response.json()
            return ImportResult(
                import_id=str(body[wire.RESPONSE_IMPORT_ID]),
                import_name=str(body.get(wire.RESPONSE_IMPORT_NAME) or import_name),
                rows=int(body.get(wire.RESPONSE_ROWS, -1)),
                request_bytes=request_bytes,
                uncertain_attempts=len(attempts.lost),
                attempts=attempts.made,
                seconds=seconds,
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            msg = (
                f"import '{import_name}': HTTP {response.status_code} with an unexpected body "
                f"({type(exc).__name__}: {exc}); the import may have been applied"
            )
            raise ImportFailed(self.redact(msg)) from None
