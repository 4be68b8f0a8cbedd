"""The ASGI application: both APIs on one port, behind body-limit and fault middlewares."""

from __future__ import annotations

import importlib.metadata

from fastapi import FastAPI

from ignite_sandbox.error_handlers import ContainUnexpectedErrors, install_error_handlers
from ignite_sandbox.faults import ASGIApp, FaultMiddleware
from ignite_sandbox.limits import BodyLimitMiddleware
from ignite_sandbox.openapi import install_openapi
from ignite_sandbox.routes import admin, export_api, import_api, legacy
from ignite_sandbox.state import Sandbox


def create_api(sandbox: Sandbox) -> FastAPI:
    """The FastAPI app with every route and our error shape."""
    api = FastAPI(
        title="Ignite Procurement sandbox",
        version=importlib.metadata.version("ignite-sandbox"),  # pyproject.toml keeps it
        description=(
            "A local implementation of Ignite Procurement's Export API 2.0.0 and Import API "
            "over seeded procurement data, for tests and demos."
        ),
    )
    api.state.sandbox = sandbox
    install_error_handlers(api)
    api.include_router(export_api.router)
    api.include_router(export_api.downloads)
    api.include_router(import_api.router)
    api.include_router(legacy.router)
    api.include_router(admin.router)
    install_openapi(api)
    return api


def create_app(sandbox: Sandbox) -> ASGIApp:
    """The full stack: faults first (before anything is processed), then the body limit."""
    api = create_api(sandbox)
    limited = BodyLimitMiddleware(ContainUnexpectedErrors(api), sandbox.config.max_body_bytes)
    return FaultMiddleware(limited, sandbox.faults)
