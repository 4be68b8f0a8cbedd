"""The sandbox's own endpoints under `/_sandbox/`, for tests and demos (same Bearer token).

Never faulted (faults.py exempts them), so a test can always set up and inspect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from ignite_sandbox import legacy_data
from ignite_sandbox.auth import require_token
from ignite_sandbox.catalog import TABLES
from ignite_sandbox.errors import bad_request, not_found
from ignite_sandbox.faults import FaultSpec, FaultSpecError
from ignite_sandbox.imports import list_imports, repository_rows_json
from ignite_sandbox.jsonbody import raw_json_response, read_json, validate
from ignite_sandbox.models import (
    ExportBehaviour,
    FaultsRequest,
    NewDeleteQuery,
    NewRepository,
    TouchRequest,
)
from ignite_sandbox.openapi import json_body
from ignite_sandbox.query import quote
from ignite_sandbox.repositories import create_delete_query, create_repository
from ignite_sandbox.state import Sandbox, sandbox_of

router = APIRouter(
    prefix="/_sandbox", dependencies=[Depends(require_token)], tags=["Sandbox admin"]
)


@router.get("/repositories/{repository_id}/rows", response_model=None)
def repository_rows(repository_id: str, request: Request) -> Response:
    """Every row stored in a repository, in import order, numbers digit for digit."""
    with sandbox_of(request).store.cursor() as cur:
        return raw_json_response(repository_rows_json(cur, repository_id))


@router.get("/imports")
def imports(request: Request) -> list[dict[str, Any]]:
    """Every accepted import, oldest first."""
    with sandbox_of(request).store.cursor() as cur:
        return list_imports(cur)


@router.post("/repositories", status_code=201)
def new_repository(body: NewRepository, request: Request) -> dict[str, Any]:
    """Create a data repository (in Ignite this happens in the web app)."""
    return create_repository(sandbox_of(request).store, body.name, body.fields)


@router.post("/delete-queries", status_code=201, openapi_extra=json_body(NewDeleteQuery))
async def new_delete_query(request: Request) -> dict[str, str]:
    """Create a delete query; its filter values are kept exact (read without floats)."""
    body = validate(NewDeleteQuery, await read_json(request, default={}))
    store = sandbox_of(request).store
    query_id = await run_in_threadpool(
        create_delete_query, store, body.dataRepositoryId, body.filters
    )
    return {"id": query_id}


@router.post("/tables/{entity}/touch")
def touch_table(entity: str, body: TouchRequest, request: Request) -> dict[str, list[str]]:
    """Set `updated_at` to now (UTC, whole seconds) on `count` rows; returns their ids."""
    table = TABLES.get(entity)
    if table is None:
        raise not_found(f"unknown table '{entity}'")
    if table.column("updated_at") is None:
        raise bad_request(f"table '{entity}' has no updated_at column")
    return {"ids": _touch(sandbox_of(request), quote(table.id), "id", "updated_at", body.count)}


@router.post("/datatables/{data_table_id}/touch")
def touch_data_table(data_table_id: str, body: TouchRequest, request: Request) -> dict[str, Any]:
    """Set "Last Modified" to now on `count` rows of a deprecated data table."""
    table = legacy_data.DATA_TABLES.get(data_table_id)
    if table is None:
        raise not_found(f"unknown data table '{data_table_id}'")
    ids = _touch(
        sandbox_of(request),
        quote(table.sql_table),
        legacy_data.ID_LABEL,
        legacy_data.LAST_MODIFIED_LABEL,
        body.count,
    )
    return {"ids": ids}


def _touch(
    sandbox: Sandbox, table_sql: str, id_column: str, stamp_column: str, count: int
) -> list[str]:
    """Pick `count` rows (a different spread each call) and stamp them with now."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    with sandbox.store.write_lock, sandbox.store.cursor() as cur:
        salt = sandbox.next_touch_salt()
        rows = cur.execute(
            f"SELECT {quote(id_column)} FROM {table_sql} "
            f"ORDER BY hash({quote(id_column)}, ?) LIMIT ?",
            [salt, count],
        ).fetchall()
        ids = sorted(str(r[0]) for r in rows)
        if ids:
            cur.execute(
                f"UPDATE {table_sql} SET {quote(stamp_column)} = ? "
                f"WHERE list_contains(?, {quote(id_column)})",
                [now, ids],
            )
    return ids


@router.post("/cursors/expire", status_code=204, response_model=None)
def expire_cursors(request: Request) -> Response:
    """Every outstanding page token now answers 410 page_token_expired."""
    sandbox_of(request).tokens.expire_all()
    return Response(status_code=204)


@router.post("/faults")
def set_faults(body: FaultsRequest, request: Request) -> dict[str, Any]:
    """Replace the fault spec; an empty string turns faults off."""
    try:
        spec = FaultSpec.parse(body.spec)
    except FaultSpecError as exc:
        raise bad_request(str(exc)) from None
    plan = sandbox_of(request).faults
    plan.replace(spec)
    return {"spec": str(spec), "injected": dict(plan.injected)}


@router.get("/faults")
def get_faults(request: Request) -> dict[str, Any]:
    """The fault spec in force and how many of each fault were injected so far."""
    plan = sandbox_of(request).faults
    return {"spec": str(plan.spec), "injected": dict(plan.injected)}


@router.post("/exports/behaviour")
def export_behaviour(body: ExportBehaviour, request: Request) -> dict[str, Any]:
    """How exports created from now on end (succeed, fail, stall) and how long they run."""
    sandbox_of(request).exports.set_behaviour(body.outcome, body.delaySeconds)
    return body.model_dump()


@router.post("/exports/{export_id}/delete-files", status_code=204, response_model=None)
def delete_export_files(export_id: str, request: Request) -> Response:
    """Delete an export's files, as after 7 days: downloads then answer 404."""
    sandbox_of(request).exports.delete_files(export_id)
    return Response(status_code=204)
