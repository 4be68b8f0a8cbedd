"""A tiny HTTP server on 127.0.0.1 whose every answer the test scripts, down to the byte.

Real sockets, real timing: a test hands it a function from each request to an answer, and the
plugins under test talk to it over TCP like to any server. Answers it can give that a well
behaved server never would: no answer at all (a stall), a body (or the headers) one byte at a
time, any `Retry-After`, the caller's token echoed back in any form. `Forward` passes a request
on to a real server (a sandbox), so that imports land there, when and as the test decides.
Every connection answers one request and closes.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec


@dataclass(frozen=True)
class Request:
    """What a client sent."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Reply:
    """A complete answer."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, **headers: str) -> Reply:
        headers = {"Content-Type": "application/json", **headers}
        return cls(status, msgspec.json.encode(value), headers)


@dataclass(frozen=True)
class Stall:
    """Read the request, then never answer (until the server stops)."""


@dataclass(frozen=True)
class Drip:
    """Headers at once (or, with `headers_too`, they also drip), then the body one byte per
    `interval` seconds, for much longer than any test waits."""

    interval: float = 1.0
    headers_too: bool = False


@dataclass(frozen=True)
class Forward:
    """Pass the request on to `upstream` after `delay` seconds; the answer comes back."""

    upstream: str
    delay: float = 0.0


Answer = Reply | Stall | Drip | Forward
Script = Callable[[Request], Answer]

_STATUS_TEXT = {200: "OK", 201: "Created", 400: "Bad Request", 429: "Too Many Requests"}


class ScriptedServer:
    """Serves `script` on 127.0.0.1 until `stop`; keeps every request it was sent."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def seen(self, method: str, path_prefix: str) -> list[Request]:
        """The requests so far with this method whose path starts with `path_prefix`."""
        with self._lock:
            return [
                r for r in self.requests if r.method == method and r.path.startswith(path_prefix)
            ]

    # -- one connection ----------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        request = _read_request(sock)
        if request is None:
            return
        with self._lock:
            self.requests.append(request)
        answer = self.script(request)
        try:
            if isinstance(answer, Forward):
                answer = _forward(request, answer, self.stopping)
            if isinstance(answer, Reply):
                sock.sendall(_head(answer.status, answer.headers, len(answer.body)) + answer.body)
            elif isinstance(answer, Stall):
                self.stopping.wait()
            elif isinstance(answer, Drip):
                self._drip(sock, answer)
        except OSError:
            pass  # the client gave up (as a timeout should make it)

    def _drip(self, sock: socket.socket, drip: Drip) -> None:
        head = _head(200, {"Content-Type": "application/json"}, 100_000)
        if not drip.headers_too:
            sock.sendall(head)
            head = b""
        for byte in _forever(head + b'{"data": [' + b" " * 100_000):
            if self.stopping.wait(drip.interval):
                return
            sock.sendall(byte)


def _forever(data: bytes) -> Iterator[bytes]:
    for i in range(len(data)):
        yield data[i : i + 1]


def _head(status: int, headers: dict[str, str], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {length}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    first, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _ = first.split(" ", 2)
    headers = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(min(1 << 20, length - len(body)))
        if not chunk:
            return None
        body += chunk
    return Request(method, path, headers, body)


def _forward(request: Request, forward: Forward, stopping: threading.Event) -> Reply | Stall:
    if stopping.wait(forward.delay):
        return Stall()
    upstream = urlsplit(forward.upstream)
    connection = http.client.HTTPConnection(upstream.hostname or "", upstream.port, timeout=120)
    try:
        headers = {k: v for k, v in request.headers.items() if k not in {"host", "connection"}}
        connection.request(request.method, request.path, body=request.body, headers=headers)
        response = connection.getresponse()
        body = response.read()
        kept = {
            name: value
            for name, value in response.getheaders()
            if name.lower() in {"content-type", "retry-after"}
        }
        return Reply(response.status, body, kept)
    finally:
        connection.close()


@contextmanager
def scripted_server(script: Script) -> Iterator[ScriptedServer]:
    """A running `ScriptedServer`, stopped on exit."""
    server = ScriptedServer(script).start()
    try:
        yield server
    finally:
        server.stop()


# -- a minimal Export API: one table of `rows` rows, `page_size` per page ---------------------

SPEND_TABLE = {
    "id": "spend",
    "name": "Spend",
    "orderBy": ["id"],
    "columns": [
        {"name": "id", "label": "Id", "dataType": "STRING", "supportedOperators": ["eq", "in"]},
        {
            "name": "amount",
            "label": "Amount",
            "dataType": "MONETARY_AMOUNT",
            "supportedOperators": ["eq", "gte"],
        },
    ],
}


def page_start(request: Request) -> int:
    """The first row a rows request asks for (this server's `pageToken` is a row index)."""
    body = msgspec.json.decode(request.body) if request.body else {}
    return int(body.get("pageToken") or 0)


def export_api_answer(request: Request) -> Reply:
    """What a working Export API of `SPEND_TABLE` answers: 10 rows, 3 a page."""
    if request.method == "GET":
        return Reply.json(200, [SPEND_TABLE])
    return export_rows_page(request, rows=10, page_size=3)


def export_rows_page(request: Request, rows: int, page_size: int) -> Reply:
    """The page a rows request asks for."""
    start = page_start(request)
    end = min(rows, start + page_size)
    data = [{"id": f"r{i:05d}", "amount": i} for i in range(start, end)]
    return Reply.json(200, {"data": data, "nextPageToken": str(end) if end < rows else None})


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# -- a minimal Import API: one repository, imports that succeed -------------------------------

REPOSITORY = {
    "id": "repo-1",
    "name": "Scripted",
    "fields": ["Id", "Period", "SupplierName", "Amount"],
}


def import_api_answer(request: Request) -> Reply:
    """What a working Import API answers: the repository list, or an accepted JSON import."""
    if request.method == "GET" and request.path.startswith("/repositories/"):
        return Reply.json(200, [REPOSITORY])
    body = msgspec.json.decode(request.body)
    rows = len(body["data"])
    return Reply.json(
        201, {"importId": f"imp-{rows}", "importName": body["importName"], "rows": rows}
    )
