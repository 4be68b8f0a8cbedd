"""Request-body schemas in `/openapi.json` for routes that parse their own (exact) JSON.

Those routes read the raw body so numbers stay Decimal; FastAPI then cannot see the model,
so each route declares it through `json_body(Model)` and `install_openapi` adds the schemas.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"
_models: dict[str, type[BaseModel]] = {}


def json_body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """`openapi_extra` declaring `model` as the route's JSON request body."""
    _models[model.__name__] = model
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
            },
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` include the schemas of every `json_body` model."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _models.items():
            model_schema = model.model_json_schema(ref_template=_REF)
            for def_name, definition in model_schema.pop("$defs", {}).items():
                components.setdefault(def_name, definition)
            components.setdefault(name, model_schema)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
