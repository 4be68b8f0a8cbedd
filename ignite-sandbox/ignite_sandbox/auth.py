"""Bearer-token auth for every API and admin route (never echoing the token)."""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ignite_sandbox.errors import ApiError
from ignite_sandbox.state import sandbox_of

bearer_scheme = HTTPBearer(auto_error=False, description="Ignite API token")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require_token(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008
) -> None:
    """401 unless `Authorization: Bearer <the sandbox's token>`."""
    scheme = request.headers.get("authorization", "").strip().partition(" ")[0]
    if scheme.lower() == "jwt":
        raise ApiError(
            401,
            "legacy JWT tokens are no longer accepted: generate a new API token in Ignite "
            "and send it as 'Authorization: Bearer <token>'",
            headers=_CHALLENGE,
        )
    if credentials is None:
        raise ApiError(
            401, "missing API token: send 'Authorization: Bearer <token>'", headers=_CHALLENGE
        )
    expected = sandbox_of(request).config.token
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise ApiError(401, "invalid API token", headers=_CHALLENGE)
