"""Export API 2.0.0: table listing, rows, async exports and their downloads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from ignite_sandbox import wire
from ignite_sandbox.auth import require_token
from ignite_sandbox.catalog import TABLES, Table
from ignite_sandbox.errors import not_found
from ignite_sandbox.jsonbody import raw_json_response, read_json, validate
from ignite_sandbox.models import RowsRequest
from ignite_sandbox.openapi import json_body
from ignite_sandbox.pages import rows_page
from ignite_sandbox.state import sandbox_of

router = APIRouter(dependencies=[Depends(require_token)], tags=["Export API"])


def table_or_404(entity: str) -> Table:
    """The export table with this id, or 404."""
    table = TABLES.get(entity)
    if table is None:
        raise not_found(f"unknown table '{entity}'; GET {wire.TABLES_PATH} lists the tables")
    return table


@router.get(wire.TABLES_PATH, summary="List available export tables and columns")
def list_tables() -> list[dict[str, Any]]:
    """Every export table with its columns, dataTypes, supported operators and orderBy."""
    return [t.describe() for t in TABLES.values()]


@router.post(
    wire.ROWS_PATH,
    summary="Fetch rows from an export table",
    openapi_extra=json_body(RowsRequest, required=False),
    response_model=None,
)
async def fetch_rows(entity: str, request: Request) -> Response:
    """A page of rows: projection, filters, keyBy and an opaque nextPageToken."""
    table = table_or_404(entity)
    body = validate(RowsRequest, await read_json(request, default={}))
    sandbox = sandbox_of(request)

    def run() -> bytes:
        with sandbox.store.cursor() as cur:
            return rows_page(cur, table, body, sandbox.tokens)

    return raw_json_response(await run_in_threadpool(run))
