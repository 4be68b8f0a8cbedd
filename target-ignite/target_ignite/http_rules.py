"""The HTTP rules tap-ignite and target-ignite share.

Which answers are retried, how long a server may make us wait (`Retry-After`), how a secret
is masked in text, which API tokens and URLs are refused, the bounds of `request_timeout`, and
a session in which `request_timeout` bounds a whole request. The plugins are separate
packages, so each carries this module under the same name; tests/test_http_rules_parity.py
feeds both the same cases, so the two copies cannot drift apart unnoticed.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import heapq
import ipaddress
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from singer_sdk import typing as th
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

# -- retries ---------------------------------------------------------------------------------

# Rate limits and the 5xx that say "try again" (not 501/505, which will not change).
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_RETRIES = 5
MAX_RETRIES_LIMIT = 20
DEFAULT_MAX_RETRY_AFTER = 300
MAX_RETRY_AFTER_LIMIT = 86_400
_DELAY_SECONDS = re.compile(r"\s*(\d{1,12}(?:\.\d{1,6})?)\s*")
_SHOWN_HEADER_CHARS = 60

# -- request_timeout -------------------------------------------------------------------------

DEFAULT_REQUEST_TIMEOUT = 300
REQUEST_TIMEOUT_MIN = 1
REQUEST_TIMEOUT_MAX = 3_600
# At most this much of request_timeout goes to opening the connection.
CONNECT_TIMEOUT = 10.0

PROPERTIES = (
    th.Property(
        "request_timeout",
        th.NumberType(minimum=REQUEST_TIMEOUT_MIN, maximum=REQUEST_TIMEOUT_MAX),
        default=DEFAULT_REQUEST_TIMEOUT,
        description=(
            "Seconds one HTTP request may take in all: connecting, sending, and receiving the "
            "whole answer (a server that sends its answer a trickle at a time is abandoned "
            "too). A request that takes longer is retried like a dropped connection."
        ),
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=MAX_RETRIES_LIMIT),
        default=DEFAULT_MAX_RETRIES,
        description=(
            "Retries of one request after a 429, a 500/502/503/504, a dropped connection or a "
            "timeout, waiting as `Retry-After` says or else backing off exponentially (with "
            "jitter, up to a minute)."
        ),
    ),
    th.Property(
        "max_retry_after",
        th.NumberType(minimum=0, maximum=MAX_RETRY_AFTER_LIMIT),
        default=DEFAULT_MAX_RETRY_AFTER,
        description=(
            "Longest wait, in seconds, that a server's `Retry-After` (a number of seconds or "
            "an HTTP date) is honoured for. A longer one, or a value that is neither, stops "
            "the run at once with an error that says what the server asked for."
        ),
    ),
)


class RetryAfterRefused(Exception):  # noqa: N818 - it names what happened to the wait
    """A `Retry-After` that asks for too long a wait, or for no wait one could honour."""


def retry_after_seconds(
    value: str | None, limit: float, *, now: datetime.datetime | None = None
) -> float | None:
    """Seconds to wait before the next attempt, as a `Retry-After` value asks; None without one.

    Raises RetryAfterRefused when the wait is longer than `limit`, or when the value is not a
    number of seconds or an HTTP date (`inf`, `nan`, `-5`, garbage): sleeping for a day, or
    guessing, would both be wrong.
    """
    if value is None:
        return None
    shown = _shown(value)
    match = _DELAY_SECONDS.fullmatch(value)
    if match:
        seconds = float(match.group(1))
        asked = f"{seconds:g} s"
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            msg = (
                f"the server asked to wait before retrying with Retry-After '{shown}', which is "
                "not a number of seconds or an HTTP date; stopping rather than guessing"
            )
            raise RetryAfterRefused(msg) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        now = now or datetime.datetime.now(datetime.UTC)
        seconds = max(0.0, (when - now).total_seconds())
        asked = f"until {shown} ({seconds:.0f} s from now)"
    if seconds > limit:
        msg = (
            f"the server asked to wait {asked} before retrying (Retry-After '{shown}'), more "
            f"than max_retry_after ({limit:g} s); stopping instead of waiting"
        )
        raise RetryAfterRefused(msg)
    return seconds


def _shown(header_value: str) -> str:
    """A header value fit for a log line: printable, and short."""
    text = "".join(ch if ch.isprintable() else "?" for ch in header_value)
    if len(text) > _SHOWN_HEADER_CHARS:
        return text[:_SHOWN_HEADER_CHARS] + "..."
    return text


# -- secrets ---------------------------------------------------------------------------------

REDACTED = "<redacted>"


def secret_forms(secret: str) -> set[str]:
    """Every spelling of `secret` that text may carry: as given and stripped, escaped as
    `repr` and JSON escape it (a newline as `\\n`), and URL-encoded."""
    forms: set[str] = set()
    for text in {secret, secret.strip()}:
        if not text:
            continue
        forms.update(
            {
                text,
                repr(text)[1:-1],
                json.dumps(text)[1:-1],
                json.dumps(text, ensure_ascii=False)[1:-1],
                text.encode("unicode_escape").decode("ascii"),
                quote(text, safe=""),
                quote(text),
                quote_plus(text, safe=""),
            }
        )
    forms.discard("")
    return forms


class Redactor:
    """Masks every form (`secret_forms`) of some secrets in text, ignoring case."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets if secret for form in secret_forms(secret)}
        # Longest first: a form that contains another is masked whole.
        alternatives = sorted(forms, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
            if alternatives
            else None
        )

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text


def server_text(text: str, redact: Redactor, limit: int) -> str:
    """What a server said, for a log line: masked first (a cut could split a secret), then
    on one line and at most `limit` characters."""
    one_line = " ".join(redact(text).split())
    return one_line if len(one_line) <= limit else one_line[:limit] + "..."


# -- settings checks -------------------------------------------------------------------------


def api_token(configured: str) -> str:
    """The token as it is sent: without the whitespace a paste may have put around it."""
    return configured.strip()


def token_problem(configured: str, legacy_jwt_prefix: str) -> str | None:
    """Why a configured api_token cannot be used, in words that never include it; None if
    it can be (once `api_token` has stripped it). A legacy JWT is recognised by its
    `legacy_jwt_prefix` (wire.py), whatever the case and spaces around it."""
    legacy = re.compile(rf"\s*{re.escape(legacy_jwt_prefix.strip())}\s", re.IGNORECASE)
    if legacy.match(configured):
        return (
            "api_token is a legacy JWT ('JWT ...'), which Ignite no longer accepts: "
            "generate a new API token in Ignite and set it as api_token"
        )
    token = api_token(configured)
    if not token:
        return "api_token is empty"
    bad = [position for position, ch in enumerate(token, start=1) if not "!" <= ch <= "~"]
    if bad:
        shown = ", ".join(str(position) for position in bad[:5])
        return (
            f"api_token has {len(bad)} character(s) a token cannot have (spaces, control "
            f"characters or non-ASCII, at position(s) {shown}); copy the token from Ignite again"
        )
    return None


def url_without_credentials(url: str) -> str:
    """`url` with any `user:password@` removed from its host part."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def api_url_problem(url: str) -> str | None:
    """Why an api_url cannot be used, in words that never include credentials; None if it can.

    https:// only, except plain http to a loopback host (a local ignite-sandbox); no
    credentials in the URL (the token goes in api_token, and URLs end up in log lines).
    """
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        has_credentials = "@" in parts.netloc
    except ValueError:
        return "api_url is not a URL"
    if has_credentials:
        return (
            f"api_url '{url_without_credentials(url)}' carries credentials ('user:password@' "
            "before the host): remove them; the API token goes in api_token"
        )
    if parts.scheme not in {"http", "https"} or not hostname:
        return f"api_url '{url}' is not an https:// URL"
    if parts.scheme == "http" and not _is_loopback(hostname):
        return (
            f"api_url '{url}' is plain http: the API token would travel unencrypted to "
            f"'{hostname}'. Use https:// (plain http is allowed only for 127.0.0.1, ::1 or "
            "localhost)"
        )
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- one deadline for a whole request --------------------------------------------------------
#
# requests' timeout bounds each socket operation, so a server that sends a byte a second never
# trips it. Here a watchdog shuts the request's socket down when `request_timeout` has passed
# since the request started, whatever it was doing (sending, waiting for headers, reading the
# body); the request then fails, and `whole_request` reports it as a Timeout. One watchdog
# thread serves every request of the process: starting a thread per request cost up to a
# switch interval of the GIL each time.

_local = threading.local()


class _Watch:
    """The sockets of one request, shut down when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def attach(self, sock: object) -> None:
        if not isinstance(sock, socket.socket):  # not connected yet, or TLS inside a proxy
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut_down(sock)

    def finish(self) -> None:
        with self._lock:
            self.finished = True
            self._sockets.clear()

    def expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            for sock in self._sockets:
                _shut_down(sock)


class _Watchdog:
    """One daemon thread that expires each watch at its deadline (started at first use)."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._changed:
            heapq.heappush(self._due, (watch.deadline, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="request-deadlines", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def _run(self) -> None:
        with self._changed:
            while True:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)
                if not self._due:
                    self._changed.wait()
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heappop(self._due)[2].expire()


_WATCHDOG = _Watchdog()


def _shut_down(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket (whose own shutdown would first
    # unwrap TLS under the feet of the thread reading it): the reader wakes up at once.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


@contextlib.contextmanager
def whole_request(seconds: float) -> Iterator[None]:
    """Bound everything the current thread asks a `DeadlineSession` inside this block (one
    request, and its body if streamed) to `seconds` in all. A request that is not complete by
    then raises `requests.exceptions.ReadTimeout` (retried like any timeout)."""
    if getattr(_local, "watch", None) is not None:  # already bounded by an outer block
        yield
        return
    watch = _Watch(seconds)
    _local.watch = watch
    _WATCHDOG.add(watch)
    try:
        yield
    except (requests.RequestException, OSError):
        if watch.expired:
            raise _timed_out(seconds) from None
        raise
    finally:
        watch.finish()
        _local.watch = None
    if watch.expired:  # e.g. a body that ended early because its socket was shut down
        raise _timed_out(seconds)


def _timed_out(seconds: float) -> requests.exceptions.ReadTimeout:
    return requests.exceptions.ReadTimeout(
        f"no complete answer within request_timeout ({seconds:g} s)"
    )


def _attach_to_watch(sock: object) -> None:
    watch: _Watch | None = getattr(_local, "watch", None)
    if watch is not None:
        watch.attach(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _attach_to_watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_to_watch(self.sock)  # a kept-alive connection is already open
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _attach_to_watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_to_watch(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _watch_pools(manager: PoolManager) -> PoolManager:
    manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, whose connections report their sockets to the thread's watch."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        return _watch_pools(super().proxy_manager_for(proxy, **proxy_kwargs))


class DeadlineSession(requests.Session):
    """A requests session in which `request_timeout` bounds each whole request.

    Each socket operation still has a timeout of its own (connecting: at most CONNECT_TIMEOUT
    of it), so a request that is never answered fails even without the timer.
    """

    def __init__(self, request_timeout: float) -> None:
        super().__init__()
        self.request_timeout = float(request_timeout)
        adapter = _WatchedAdapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send within the deadline (a streamed body: see `whole_request`)."""
        kwargs["timeout"] = (min(CONNECT_TIMEOUT, self.request_timeout), self.request_timeout)
        with whole_request(self.request_timeout):
            return super().send(request, **kwargs)
