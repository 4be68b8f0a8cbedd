"""The base stream every Ignite Export API request goes through.

It owns what all requests share: base URL, Bearer auth, one JSON decode per response
(msgspec, numbers as Decimal so money keeps every digit), error classification and retries.
Table streams build on it (table_stream.py); so do the listings discovery reads.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Generator, Iterable
from decimal import Decimal
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import backoff
import msgspec
import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.streams import RESTStream

from tap_ignite import http_rules, wire
from tap_ignite.http_rules import (
    DeadlineSession,
    Redactor,
    RetryAfterRefused,
)
from tap_ignite.stopping import STOP

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import RequestFunc

    from tap_ignite.settings import TapSettings
    from tap_ignite.tap import TapIgnite

# Seconds: first retry after ~0.5 s, then 1, 2, 4, ... capped at a minute (plus jitter).
BACKOFF_FACTOR = 0.5
BACKOFF_MAX_WAIT = 60.0
MAX_ERROR_TEXT = 300

# The SDK logs this at ERROR before re-raising whatever ended a stream's sync. The CLI then
# reports that error in one line which names the table (its path, or the export), so the
# SDK's line would only be a second, vaguer ERROR line: it is kept, at DEBUG.
SDK_SYNC_FAILED_PREFIX = "An unhandled error occurred while syncing"

_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_DECODED_ATTR = "_ignite_decoded_body"


# What the SDK retries: rate limits and 5xx (RetriableAPIError), resets, timeouts.
RETRIED_EXCEPTIONS = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class PageTokenExpiredError(FatalAPIError):
    """410 page_token_expired: the cursor is gone and pagination must restart from page one."""


class RetryLaterError(RetriableAPIError):
    """A retried status; `retry_after` is the wait its `Retry-After` asked for, if any."""

    def __init__(
        self, message: str, response: requests.Response, retry_after: float | None
    ) -> None:
        super().__init__(message, response)
        self.retry_after = retry_after


class RetryAfterRefusedError(FatalAPIError):
    """The server asked for a wait longer than max_retry_after, or for no wait one can honour."""


class StoppingError(FatalAPIError):
    """A request not sent, or not retried, because a signal asked the tap to stop."""


def decoded_body(response: requests.Response) -> Any:
    """The response's JSON, decoded once and kept on the response for the paginator.

    Numbers with a fraction or exponent become Decimal (exact), integers stay int.
    """
    cached = response.__dict__.get(_DECODED_ATTR)
    if cached is None:
        try:
            cached = _DECODER.decode(response.content)
        except msgspec.DecodeError as exc:
            msg = (
                f"Ignite API answered {response.request.method} {_path(response)} "
                f"with a body that is not JSON: {exc}"
            )
            raise FatalAPIError(msg) from exc
        setattr(response, _DECODED_ATTR, cached)
    return cached


def _path(response: requests.Response) -> str:
    return urlsplit(response.url).path or "/"


class IgniteStream(RESTStream[str | None]):
    """Base for streams that read the Ignite Export API."""

    def __init__(self, tap: TapIgnite, **kwargs: Any) -> None:
        self.ignite_tap = tap
        self.settings: TapSettings = tap.settings
        super().__init__(tap, **kwargs)

    @property
    @override
    def url_base(self) -> str:
        return self.settings.api_url.rstrip("/")

    @cached_property
    @override
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=http_rules.api_token(self.settings.api_token))

    @property
    @override
    def requests_session(self) -> requests.Session:
        return self.deadline_session

    @cached_property
    def deadline_session(self) -> DeadlineSession:
        """The session every API request goes through: request_timeout bounds each whole
        request, not each socket read (http_rules.py)."""
        return DeadlineSession(self.timeout)

    @property
    @override
    def timeout(self) -> int:
        # requests takes fractional seconds; the SDK merely annotates this as int.
        return cast("int", self.settings.request_timeout)

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        # One answer per request, unless a stream pages (rows, legacy data tables).
        return SinglePagePaginator()

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        body = decoded_body(response)
        rows = body.get(wire.RESPONSE_DATA) if isinstance(body, dict) else body
        if not isinstance(rows, list):
            msg = f"Ignite API answered {_path(response)} without a '{wire.RESPONSE_DATA}' list"
            raise FatalAPIError(msg)
        return rows

    # -- errors and retries -----------------------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status < wire.FIRST_ERROR_STATUS:
            return
        # What each status means: wire.RESPONSE_ACTIONS.
        action = wire.response_action(status, wire.Request.API, _error_code(response))
        message = self.response_error_message(response)
        if action is wire.Action.RESTART:
            raise PageTokenExpiredError(message)
        if action in wire.RETRIED_ACTIONS:
            raise self.retry_error(message, response)
        raise FatalAPIError(message)

    def retry_error(
        self, message: str, response: requests.Response
    ) -> RetryLaterError | RetryAfterRefusedError:
        """The error for an answer with a retried status: one to retry after the wait its
        `Retry-After` asks for, or one that stops the run if that wait cannot be honoured."""
        limit = self.settings.max_retry_after
        try:
            wait = http_rules.retry_after_seconds(
                response.headers.get(wire.RETRY_AFTER_HEADER), limit
            )
        except RetryAfterRefused as exc:
            return RetryAfterRefusedError(self.redact(f"{message}: {exc}"))
        return RetryLaterError(message, response, wait)

    @override
    def response_error_message(self, response: requests.Response) -> str:
        code = _error_code(response)
        detail = _error_detail(response, self._redactor)
        what = f"{response.status_code} {code or response.reason}"
        msg = f"Ignite API error {what} on {response.request.method} {_path(response)}"
        if detail:
            msg += f": {detail}"
        if response.status_code == HTTPStatus.UNAUTHORIZED:
            msg += " (check api_token)"
        return self.redact(msg)

    @override
    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        if message.startswith(SDK_SYNC_FAILED_PREFIX):
            level = logging.DEBUG
        super().log(message, *args, level=level, **kwargs)

    def redact(self, text: str) -> str:
        """The text with the API token masked in any form (http_rules.secret_forms), should a
        server or a library ever echo it back."""
        return self._redactor(text)

    @cached_property
    def _redactor(self) -> Redactor:
        return Redactor([self.settings.api_token])

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """The SDK's retry policy, minus backoff's own log lines.

        `backoff_handler` logs each retry in one line; when retries run out the error is
        reported once, by the CLI, rather than also as backoff's "Giving up" line.
        """
        decorator: Callable[[RequestFunc], RequestFunc] = backoff.on_exception(
            self.backoff_wait_generator,
            RETRIED_EXCEPTIONS,
            max_tries=self.backoff_max_tries,
            giveup=lambda _: STOP.requested,  # after SIGTERM, nothing is retried
            on_backoff=self.backoff_handler,
            jitter=None,  # in backoff_wait_generator: not added to a Retry-After
            logger=None,
        )

        def attempt(*args: Any, **kwargs: Any) -> requests.Response:
            # A worker thread may wake from a backoff wait after SIGTERM: it sends nothing.
            if STOP.requested:
                msg = "request not sent: the tap is stopping"
                raise StoppingError(msg)
            return func(*args, **kwargs)

        return decorator(attempt)

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """The wait `Retry-After` asks for, as it asks (the same in target-ignite), else
        exponential backoff with the SDK's jitter."""
        expo = backoff.expo(factor=BACKOFF_FACTOR, max_value=BACKOFF_MAX_WAIT)
        next(expo)  # consume expo's own priming step; backoff primes only this generator
        exception = yield 0.0  # primed by backoff with send(None); this value is unused
        while True:
            retry_after = getattr(exception, "retry_after", None)
            if retry_after is None:
                retry_after = self.backoff_jitter(next(expo))
            exception = yield retry_after

    @override
    def backoff_max_tries(self) -> int:
        return self.settings.max_retries + 1

    @override
    def backoff_handler(self, details: Details) -> None:
        exception = details.get("exception")
        if isinstance(exception, RetriableAPIError):
            reason = str(exception)
        else:
            reason = f"{type(exception).__name__}: {exception}"
        self.logger.warning(
            "Retrying %s in %.1f s (attempt %d of %d): %s",
            _retried_path(details) or self.path,
            details.get("wait") or 0.0,
            details.get("tries", 0) + 1,
            self.backoff_max_tries(),
            self.redact(reason),
        )


def _retried_path(details: Details) -> str | None:
    """The path of the request being retried: export calls and downloads share a table
    stream's retries but not its path. Never the query, which may carry a signature."""
    request = next(
        (arg for arg in details.get("args", ()) if isinstance(arg, requests.PreparedRequest)),
        None,
    )
    return urlsplit(request.url).path if request is not None and request.url else None


def _error_code(response: requests.Response) -> str | None:
    body = _error_body(response)
    code = body.get(wire.ERROR_CODE) if body else None
    return str(code) if code else None


def _error_detail(response: requests.Response, redact: Redactor) -> str:
    body = _error_body(response)
    if body and body.get(wire.ERROR_MESSAGE):
        return redact(str(body[wire.ERROR_MESSAGE]))
    if body is None and response.text:
        return http_rules.server_text(response.text, redact, MAX_ERROR_TEXT)
    return ""


def _error_body(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = decoded_body(response)
    except FatalAPIError:
        return None
    return body if isinstance(body, dict) else None


class TableListing(IgniteStream):
    """`GET /tables/`: the export tables and their columns, for discovery.

    A stream only so that the listing shares the rows' auth, errors and retries; it is never
    part of the catalog.
    """

    name = "tables"
    path = wire.TABLES_PATH

    def __init__(self, tap: Any) -> None:
        super().__init__(tap=tap, schema={"type": "object", "properties": {}})

    def fetch(self) -> list[dict[str, Any]]:
        """Every item of `GET /tables/`, as the API sent it."""
        return list(self.request_records(None))
