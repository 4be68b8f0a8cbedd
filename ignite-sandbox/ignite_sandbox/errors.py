"""The sandbox's one error shape, `{"error": code, "message": text}`, for every failure.

Kept free of web-framework imports so the CLI and middlewares load fast.
"""

from __future__ import annotations

from collections.abc import Mapping

from ignite_sandbox import wire

STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    410: wire.PAGE_TOKEN_EXPIRED,
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "internal_error",
}


class ApiError(Exception):
    """An error the API answers with its documented status and body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.headers = headers


def bad_request(message: str) -> ApiError:
    """A 400 invalid_request whose message names what is wrong and where."""
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    """A 404 for an unknown table, repository, export, delete query or data table."""
    return ApiError(404, message)


def error_body(code: str, message: str) -> dict[str, str]:
    """The JSON body of every error."""
    return {wire.ERROR_CODE_FIELD: code, wire.ERROR_MESSAGE_FIELD: message}
