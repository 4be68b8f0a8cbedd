"""Helpers for the sandbox's own tests: an authenticated HTTP client and exact JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import requests
from ignite_sandbox.launcher import RunningSandbox


class Api:
    """A requests session against one sandbox, with the Bearer token and exact JSON parsing."""

    def __init__(self, server: RunningSandbox) -> None:
        self.server = server
        self.url = server.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {server.token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        url = path if path.startswith("http") else f"{self.url}{path}"
        return self.session.request(method, url, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def rows(self, entity: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.post(f"/tables/{entity}/rows", data=dumps(body or {}))

    def all_rows(self, entity: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row of a table through page tokens."""
        body = dict(body or {})
        rows: list[dict[str, Any]] = []
        while True:
            response = self.rows(entity, body)
            assert response.status_code == 200, response.text
            page = exact(response)
            rows.extend(page["data"])
            if not page.get("nextPageToken"):
                return rows
            body["pageToken"] = page["nextPageToken"]


def exact(response: requests.Response) -> Any:
    """A JSON body with numbers as Decimal, so money keeps every digit."""
    return json.loads(response.content, parse_float=Decimal)


_encoder = msgspec.json.Encoder(decimal_format="number")


def dumps(body: Any) -> bytes:
    """JSON that writes Decimals as numbers with their exact digits."""
    return _encoder.encode(body)


def assert_error(response: requests.Response, status: int, code: str) -> str:
    """The response is our error shape with this status and code; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    return str(body["message"])
