"""Fault injection, apart from the happy path: an ASGI middleware in front of the whole app.

SPEC is a comma list such as `429=0.1,500=0.05,reset=0.03,slow=0.02,lost=0.01`; each value is
the fraction of requests that get that fault. Request n draws a number from (seed, n), so a
given seed gives the same sequence of faults run after run. 429, 500 and `reset` answer
BEFORE the request is processed, so retrying them is always safe. `slow` stalls and then
processes the request: a client whose timeout is shorter than the stall gives up, yet the effect
still happens, so its retry may duplicate (like `lost`). `lost` processes the request and then
drops the connection (the effect happened, the client sees an error). Admin endpoints
(`/_sandbox/`) and the OpenAPI document are never faulted.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ignite_sandbox.errors import error_body

FAULT_KINDS = ("429", "500", "reset", "slow", "lost")
SLOW_SECONDS = 2.5  # long enough to trip a 1 s client timeout
EXEMPT_PREFIXES = ("/_sandbox/", "/openapi.json", "/docs", "/redoc")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message says which part and why."""


@dataclass(frozen=True)
class FaultSpec:
    """Fraction of requests per fault kind."""

    rates: dict[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """`429=0.1,500=0.05,...`; an empty string means no faults."""
        rates: dict[str, float] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            kind, sep, value = part.partition("=")
            kind = kind.strip()
            if not sep or kind not in FAULT_KINDS:
                msg = (
                    f"invalid fault '{part}': expected KIND=FRACTION with KIND one of "
                    f"{', '.join(FAULT_KINDS)}"
                )
                raise FaultSpecError(msg)
            try:
                rate = float(value)
            except ValueError:
                rate = -1.0
            if not 0.0 <= rate <= 1.0:
                msg = f"invalid fault '{part}': the fraction must be a number from 0 to 1"
                raise FaultSpecError(msg)
            rates[kind] = rates.get(kind, 0.0) + rate
        if sum(rates.values()) > 1.0 + 1e-9:
            msg = f"invalid fault spec '{text}': the fractions add up to more than 1"
            raise FaultSpecError(msg)
        return cls(rates)

    def __str__(self) -> str:
        return ",".join(f"{k}={v:g}" for k, v in self.rates.items())


class FaultPlan:
    """The current spec and the deterministic draw for each faultable request."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._spec = spec
        self._counter = 0
        self.injected: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

    @property
    def spec(self) -> FaultSpec:
        """The spec now in force."""
        return self._spec

    def replace(self, spec: FaultSpec) -> None:
        """A new spec; the draw sequence restarts so runs stay reproducible."""
        with self._lock:
            self._spec = spec
            self._counter = 0

    def draw(self) -> tuple[str | None, float]:
        """The fault (or None) for the next request, plus a second uniform number."""
        with self._lock:
            n = self._counter
            self._counter += 1
            spec = self._spec
        if not spec.rates:
            return None, 0.0
        digest = hashlib.blake2b(f"{self._seed}:{n}".encode(), digest_size=16).digest()
        first, second = struct.unpack("<QQ", digest)
        u, v = first / 2**64, second / 2**64
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += spec.rates.get(kind, 0.0)
            if u < edge:
                with self._lock:
                    self.injected[kind] += 1
                return kind, v
        return None, v


class FaultMiddleware:
    """Injects the planned fault (if any) into each non-admin request."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        fault, extra = self.plan.draw()
        if fault is None:
            await self.app(scope, receive, send)
        elif fault == "429":
            await _send_error(send, 429, "rate_limited", "too many requests; retry after 1 s",
                              [(b"retry-after", b"1")])  # fmt: skip
        elif fault == "500":
            status = 503 if extra < 0.5 else 500
            await _send_error(send, status, "internal_error", "injected transient failure", [])
        elif fault == "slow":
            await asyncio.sleep(SLOW_SECONDS + extra / 2)
            await self.app(scope, receive, send)
        elif fault == "reset":
            await _drop_connection(send)
        else:  # lost: the request takes full effect, its response never arrives
            await self.app(scope, receive, _swallow)
            await _drop_connection(send)


async def _swallow(_message: Message) -> None:
    return None


async def _send_error(
    send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = msgspec.json.encode(error_body(code, message))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drop_connection(send: Send) -> None:
    """Close the client's TCP connection with a reset and no response.

    uvicorn hands the app its per-request cycle's bound `send`; the cycle holds the transport.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        # Not uvicorn's h11 cycle: announce a body and break off mid-response instead.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1000")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        msg = "injected connection reset"
        raise ConnectionResetError(msg)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER 0 turns close into an RST, which clients report as a connection reset.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let uvicorn notice the disconnect before the app returns, so it does not try a 500.
    for _ in range(3):
        await asyncio.sleep(0)
