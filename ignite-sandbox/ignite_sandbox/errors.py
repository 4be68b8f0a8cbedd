"""The sandbox's one error shape, `{"error": code, "message": text}`, for every failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
        headers: dict[str, str] | None = None,
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


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A ready error response (also used by the middlewares, which run outside FastAPI)."""
    return JSONResponse(
        error_body(code or STATUS_CODES.get(status, "error"), message),
        status_code=status,
        headers=headers,
    )


def _describe_validation(errors: list[Any]) -> str:
    """One line that names every invalid part of the body, e.g. `body.pageSize: ...`."""
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Make FastAPI/Starlette's own errors (422, 404, 405, 500) use our shape."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message, exc.code, exc.headers)

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, _describe_validation(list(exc.errors())))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint"
        return error_response(exc.status_code, message, headers=exc.headers)

    async def on_unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        return error_response(500, "unexpected server error")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
