"""Deprecated (still served) data tables: the listing and the label-keyed row export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ignite_sandbox import wire
from ignite_sandbox.auth import require_token
from ignite_sandbox.errors import not_found
from ignite_sandbox.jsonbody import raw_json_response, read_json, validate
from ignite_sandbox.legacy_data import DATA_TABLES
from ignite_sandbox.legacy_export import legacy_page
from ignite_sandbox.models import LegacyExportRequest
from ignite_sandbox.openapi import json_body
from ignite_sandbox.state import sandbox_of

router = APIRouter(dependencies=[Depends(require_token)], tags=["Deprecated data tables"])


@router.get(wire.DATATABLES_PATH, summary="List all data tables and their columns", deprecated=True)
def list_data_tables() -> list[dict[str, Any]]:
    """Every data table with its columns' labels, dataTypes and globalTypes."""
    return [t.describe() for t in DATA_TABLES.values()]


@router.get(
    wire.LEGACY_EXPORT_PATH,
    summary="Extract rows from a data table",
    deprecated=True,
    openapi_extra=json_body(LegacyExportRequest, required=False),
    response_model=None,
)
async def export_data_table(
    request: Request,
    data_table_id: str = Query(alias="dataTableId"),
    cursor: str | None = Query(None, alias=wire.LEGACY_CURSOR_PARAM),
) -> Response:
    """Up to `size` (<= 10,000) rows keyed by column label, and the `next` link."""
    table = DATA_TABLES.get(data_table_id)
    if table is None:
        raise not_found(
            f"unknown data table '{data_table_id}'; GET {wire.DATATABLES_PATH} lists them"
        )
    body = validate(LegacyExportRequest, await read_json(request, default={}))
    sandbox = sandbox_of(request)
    base_url = str(request.base_url)

    def run() -> bytes:
        with sandbox.store.cursor() as cur:
            return legacy_page(cur, table, body, cursor, tokens=sandbox.tokens, base_url=base_url)

    return raw_json_response(await run_in_threadpool(run))
