"""Export API 2.0.0: table listing, rows, async exports and their downloads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ignite_sandbox import wire
from ignite_sandbox.auth import require_token
from ignite_sandbox.catalog import Table
from ignite_sandbox.errors import not_found
from ignite_sandbox.exports import FORMATS
from ignite_sandbox.jsonbody import json_response, raw_json_response, read_json, validate
from ignite_sandbox.models import ExportRequest, RowsRequest
from ignite_sandbox.openapi import json_body
from ignite_sandbox.pages import rows_page
from ignite_sandbox.state import sandbox_of

router = APIRouter(dependencies=[Depends(require_token)], tags=["Export API"])
# Download URLs are pre-signed (like a storage bucket's): they need no Authorization header.
downloads = APIRouter(tags=["Export API"])


def table_or_404(request: Request, entity: str) -> Table:
    """The export table with this id, or 404."""
    table = sandbox_of(request).tables.get(entity)
    if table is None:
        raise not_found(f"unknown table '{entity}'; GET {wire.TABLES_PATH} lists the tables")
    return table


@router.get(wire.TABLES_PATH, summary="List available export tables and columns")
def list_tables(request: Request) -> list[dict[str, Any]]:
    """Every export table with its columns, dataTypes, supported operators and orderBy."""
    return [t.describe() for t in sandbox_of(request).tables.values()]


@router.post(
    wire.ROWS_PATH,
    summary="Fetch rows from an export table",
    openapi_extra=json_body(RowsRequest, required=False),
    response_model=None,
)
async def fetch_rows(entity: str, request: Request) -> Response:
    """A page of rows: projection, filters, keyBy and an opaque nextPageToken."""
    table = table_or_404(request, entity)
    body = validate(RowsRequest, await read_json(request, default={}))
    sandbox = sandbox_of(request)

    def run() -> bytes:
        with sandbox.store.cursor() as cur:
            return rows_page(cur, table, body, sandbox.tokens)

    return raw_json_response(await run_in_threadpool(run))


@router.post(
    wire.EXPORTS_PATH,
    summary="Start an asynchronous table export",
    status_code=201,
    openapi_extra=json_body(ExportRequest, required=False),
    response_model=None,
)
async def start_export(entity: str, request: Request) -> Response:
    """Queue an export of the selected fields and filtered rows as json or parquet files."""
    table = table_or_404(request, entity)
    body = validate(ExportRequest, await read_json(request, default={}))
    exports = sandbox_of(request).exports
    job = await run_in_threadpool(exports.create, table, body)
    return json_response(exports.describe(job, str(request.base_url)), status_code=201)


@router.get(wire.EXPORT_STATUS_PATH, summary="Get asynchronous export status")
def export_status(export_id: str, request: Request) -> dict[str, Any]:
    """Status; when succeeded, files with fresh time-limited download URLs."""
    exports = sandbox_of(request).exports
    return exports.describe(exports.get(export_id), str(request.base_url))


@downloads.get(
    wire.DOWNLOAD_PATH, summary="Download an export file (signed URL)", response_model=None
)
def download(
    export_id: str,
    file_name: str,
    request: Request,
    expires: str = Query("", alias=wire.DOWNLOAD_EXPIRES_PARAM),
    signature: str = Query("", alias=wire.DOWNLOAD_SIGNATURE_PARAM),
) -> Response:
    """The file, streamed from disk; 403 once the URL has expired, 404 once files are gone."""
    path = sandbox_of(request).exports.download_path(export_id, file_name, expires, signature)
    media_type = (
        "application/json" if path.suffix == FORMATS["json"] else "application/vnd.apache.parquet"
    )
    return FileResponse(path, media_type=media_type, filename=file_name)
