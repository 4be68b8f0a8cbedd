"""Import API: repositories, JSON import and multipart file import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from ignite_sandbox import wire
from ignite_sandbox.auth import require_token
from ignite_sandbox.errors import bad_request
from ignite_sandbox.file_formats import CsvConfig, open_payload, parse_compressed_flag, read_rows
from ignite_sandbox.imports import (
    ImportRequestInfo,
    accept_import,
    check_target,
    encode_rows,
    sha256_of,
)
from ignite_sandbox.jsonbody import decode, json_response
from ignite_sandbox.models import ImportRequest
from ignite_sandbox.openapi import json_body
from ignite_sandbox.repositories import list_repositories
from ignite_sandbox.state import sandbox_of

router = APIRouter(dependencies=[Depends(require_token)], tags=["Import API"])

_IMPORT_KEYS = {"dataRepositoryId", "importName", "data", "deleteQueryId"}


@router.get(wire.REPOSITORIES_PATH, summary="List data repositories")
def repositories(request: Request) -> list[dict[str, Any]]:
    """Every data repository (what the web app calls a data source) and its fields."""
    with sandbox_of(request).store.cursor() as cur:
        return list_repositories(cur)


@router.post(
    wire.IMPORT_PATH,
    summary="Import JSON rows into a data repository",
    status_code=201,
    openapi_extra=json_body(ImportRequest),
    response_model=None,
)
async def import_json(request: Request) -> Response:
    """Rows as a JSON list of flat objects; numbers are kept digit for digit."""
    raw = await request.body()
    sandbox = sandbox_of(request)

    def run() -> dict[str, Any]:
        body = decode(raw)
        info, data = _import_body(body, len(raw), sha256_of(raw))
        return accept_import(sandbox.store, info, encode_rows(data))

    return json_response(await run_in_threadpool(run), status_code=201)


def _import_body(body: Any, size: int, digest: str) -> tuple[ImportRequestInfo, list[Any]]:
    """Check the top level by hand: pydantic over a million rows would only slow it down."""
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    unknown = sorted(set(body) - _IMPORT_KEYS)
    if unknown:
        raise bad_request(f"unknown field(s) in import body: {', '.join(unknown)}")
    repository_id = body.get("dataRepositoryId")
    if not isinstance(repository_id, str) or not repository_id:
        raise bad_request("dataRepositoryId is required (the data repository's uuid)")
    data = body.get("data")
    if not isinstance(data, list):
        raise bad_request("data is required: a JSON array of flat row objects")
    name = body.get("importName")
    if name is not None and not isinstance(name, str):
        raise bad_request("importName must be a string")
    delete_query_id = body.get("deleteQueryId")
    if delete_query_id is not None and not isinstance(delete_query_id, str):
        raise bad_request("deleteQueryId must be a string")
    info = ImportRequestInfo(
        repository_id=repository_id,
        import_name=name or None,
        delete_query_id=delete_query_id or None,
        kind="json",
        format="json",
        bytes=size,
        payload_sha256=digest,
    )
    return info, data


@router.post(
    wire.IMPORT_FILE_PATH,
    summary="Import a file into a data repository",
    status_code=201,
    response_model=None,
)
async def import_file(
    request: Request,
    *,
    dataRepositoryId: str = Form(...),  # noqa: N803 - wire name
    file: UploadFile = File(...),  # noqa: B008
    fileConfig: str | None = Form(None),  # noqa: N803 - wire name
    compressed: str | None = Form(None),
    deleteQueryId: str | None = Form(None),  # noqa: N803 - wire name
    importName: str | None = Form(None),  # noqa: N803 - wire name
) -> Response:
    """A .csv, .json, .ndjson or .xlsx file (gzip or single-file zip allowed) as multipart."""
    sandbox = sandbox_of(request)
    size = int(request.headers.get("content-length") or 0)

    def run() -> dict[str, Any]:
        config = CsvConfig.parse(fileConfig)
        digest = sha256_of(file.file)
        stream, file_format = open_payload(
            file.file,
            file.filename or "",
            parse_compressed_flag(compressed),
            sandbox.config.max_body_bytes,
        )
        info = ImportRequestInfo(
            repository_id=dataRepositoryId,
            import_name=importName or None,
            delete_query_id=deleteQueryId or None,
            kind="file",
            format=file_format,
            bytes=size,
            payload_sha256=digest,
        )
        with sandbox.store.cursor() as cur:
            check_target(cur, info)  # 404 before reading a large file for nothing
        try:
            rows = read_rows(stream, file_format, config)
        finally:
            stream.close()  # a decompressed copy may be a file on disk
        return accept_import(sandbox.store, info, encode_rows(rows))

    return json_response(await run_in_threadpool(run), status_code=201)
