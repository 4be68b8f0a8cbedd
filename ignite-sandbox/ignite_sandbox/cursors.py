"""Opaque page tokens: signed, bound to the request body, expiring.

A token carries the last row's orderBy key (keyset pagination, so deep pages stay fast), a hash
of the body it was issued for (a changed body is a 400), when it was issued (older than
`--cursor-ttl` is a 410) and a generation (`/_sandbox/cursors/expire` bumps it: every
outstanding token then answers 410).

The signing key and the generation live in the store, so a sandbox restarted on the same
`--db` file honours the tokens it issued before, as Ignite does across its own restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from typing import TYPE_CHECKING, Any

import msgspec

from ignite_sandbox import wire
from ignite_sandbox.errors import ApiError, bad_request

if TYPE_CHECKING:
    from ignite_sandbox.store import Store

_body_encoder = msgspec.json.Encoder(order="sorted", decimal_format="number")


def body_fingerprint(body: dict[str, Any]) -> str:
    """A stable hash of a request body (keys sorted, numbers exact)."""
    return hashlib.sha256(_body_encoder.encode(body)).hexdigest()[:24]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Issues and checks page tokens, with the key and generation the store keeps."""

    def __init__(self, ttl_seconds: float, store: Store) -> None:
        self.ttl_seconds = ttl_seconds
        self._store = store
        self._secret, self._generation = store.page_token_key()
        self._lock = threading.Lock()

    def expire_all(self) -> None:
        """Every token issued so far now answers 410 (after a restart too)."""
        with self._lock:
            self._generation += 1
            self._store.set_page_token_generation(self._generation)

    def issue(self, scope: str, fingerprint: str, last_key: str) -> str:
        """A token for the page after `last_key` of `scope` (a table or data table)."""
        payload = msgspec.json.encode(
            {"s": scope, "f": fingerprint, "k": last_key, "t": time.time(), "g": self._generation}
        )
        signature = hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]
        return f"{_b64(payload)}.{_b64(signature)}"

    def read(self, token: str, scope: str, fingerprint: str) -> str:
        """The last key a valid token carries; 400 for a foreign or rebound token, 410 if old."""
        payload = self._verified_payload(token)
        if payload is None or payload.get("s") != scope:
            raise bad_request(
                "pageToken is not a token this server issued for this table; "
                "start again from the first page"
            )
        if (
            payload.get("g") != self._generation
            or time.time() - float(payload.get("t", 0)) > self.ttl_seconds
        ):
            raise ApiError(
                410,
                "pageToken has expired; restart pagination from the first page",
                code=wire.PAGE_TOKEN_EXPIRED,
            )
        if payload.get("f") != fingerprint:
            raise bad_request(
                "request body changed under pageToken: send the same fields, filters, "
                "pageSize and keyBy as for the first page"
            )
        return str(payload.get("k", ""))

    def _verified_payload(self, token: str) -> dict[str, Any] | None:
        encoded, _, signature = token.partition(".")
        try:
            payload = _unb64(encoded)
            expected = hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]
            if not hmac.compare_digest(expected, _unb64(signature)):
                return None
            decoded = msgspec.json.decode(payload)
        except (ValueError, msgspec.DecodeError):
            return None
        return decoded if isinstance(decoded, dict) else None
