"""Request bodies parsed exactly (JSON numbers become Decimal) and responses encoded exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from fastapi import Request, Response
from pydantic import BaseModel, ValidationError

from ignite_sandbox.errors import bad_request

M = TypeVar("M", bound=BaseModel)

# float_hook keeps every digit of 12345678901234567.89; json.loads would round it to a float.
_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


def decode(raw: bytes, what: str = "request body") -> Any:
    """Parse JSON text, answering 400 with the parser's position when it is not JSON."""
    try:
        return _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise bad_request(f"{what} is not valid JSON: {exc}") from None


def encode(value: Any) -> bytes:
    """JSON bytes with Decimals written as numbers, digit for digit."""
    return _encoder.encode(value)


async def read_json(request: Request, default: Any = None) -> Any:
    """The request's JSON body; `default` when the body is empty."""
    raw = await request.body()
    if not raw.strip():
        return default
    return decode(raw)


def validate(model: type[M], data: Any) -> M:
    """Check a parsed body against its model; a mismatch is a 400 naming the field."""
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for error in exc.errors()[:5]:
            location = ".".join(str(p) for p in error.get("loc", ())) or "body"
            parts.append(f"{location}: {error.get('msg', 'invalid')}")
        raise bad_request("invalid request: " + "; ".join(parts)) from None


def json_response(value: Any, status_code: int = 200) -> Response:
    """A JSON response encoded exactly (Decimals as numbers)."""
    return Response(encode(value), status_code=status_code, media_type="application/json")


def raw_json_response(body: bytes, status_code: int = 200) -> Response:
    """A response whose JSON was already assembled (e.g. rows serialised inside DuckDB)."""
    return Response(body, status_code=status_code, media_type="application/json")
