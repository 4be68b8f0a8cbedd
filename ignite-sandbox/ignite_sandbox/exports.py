"""Async table exports: background jobs that write files with DuckDB COPY, served by signed URLs.

A job moves queued -> running -> succeeded | failed in a daemon thread. Past
`--export-file-rows` the result is split into several files, cut on the table's orderBy key.
json files are a JSON array of row objects formatted exactly as rows mode; parquet files use
native types (DECIMAL, date32, timestamp UTC, list<string>). Download URLs carry an expiry
and an HMAC signature: after `--url-ttl` they answer 403 and re-polling gives fresh ones.
Test knobs: the outcome/delay of later exports, and deleting a job's files (then 404).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ignite_sandbox import catalog, wire
from ignite_sandbox.catalog import Column, Table
from ignite_sandbox.db import first_row
from ignite_sandbox.errors import ApiError, bad_request, not_found
from ignite_sandbox.models import ExportRequest
from ignite_sandbox.query import Predicate, compile_filters, quote, select_columns, value_sql
from ignite_sandbox.store import Store

FORMATS = {"json": ".json", "parquet": ".parquet"}
QUEUED_SECONDS = 0.05  # long enough for a client to see "queued" once
_ESTIMATED_BYTES_PER_VALUE = 12


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ExportFile:
    """One written file of a succeeded export."""

    name: str
    path: Path
    rows: int
    bytes: int


@dataclass
class ExportJob:
    """One export and what its status endpoint reports."""

    id: str
    entity: str
    format: str
    columns: list[Column]
    predicate: Predicate
    estimated_bytes: int
    outcome: str
    delay_seconds: float
    status: str = "queued"
    created_at: dt.datetime = field(default_factory=_now)
    updated_at: dt.datetime = field(default_factory=_now)
    files: list[ExportFile] = field(default_factory=list)
    error: dict[str, str] | None = None
    files_deleted: bool = False


class ExportManager:
    """Creates, runs and describes export jobs; signs and checks download URLs."""

    def __init__(self, store: Store, file_rows: int, url_ttl: float) -> None:
        self.store = store
        self.file_rows = file_rows
        self.url_ttl = url_ttl
        self.directory = Path(tempfile.mkdtemp(prefix="ignite-sandbox-exports-"))
        self._secret = os.urandom(32)
        self._jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()
        self._behaviour: tuple[str, float] = ("succeed", 0.0)

    # --- API ---------------------------------------------------------------------------------
    def create(self, table: Table, request: ExportRequest) -> ExportJob:
        """Validate (400s now, not later in the job) and queue an export."""
        export_format = request.format.lower()
        if export_format not in FORMATS:
            raise bad_request(f"format must be json or parquet, got '{request.format}'")
        columns = select_columns(table, request.fields)
        predicate = compile_filters(table, request.filters)
        with self.store.cursor() as cur:
            count = first_row(
                cur, f"SELECT count(*) FROM {quote(table.id)} WHERE {predicate.sql}",
                predicate.params,
            )  # fmt: skip
        rows = int(count[0]) if count else 0
        with self._lock:
            outcome, delay = self._behaviour
        job = ExportJob(
            id=str(uuid.uuid4()),
            entity=table.id,
            format=export_format,
            columns=columns,
            predicate=predicate,
            estimated_bytes=rows * len(columns) * _ESTIMATED_BYTES_PER_VALUE,
            outcome=outcome,
            delay_seconds=delay,
        )
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(
            target=self._run, args=(job,), name=f"export-{job.id}", daemon=True
        ).start()
        return job

    def get(self, export_id: str) -> ExportJob:
        """The job with this id, or 404."""
        with self._lock:
            job = self._jobs.get(export_id)
        if job is None:
            raise not_found(f"unknown export '{export_id}'")
        return job

    def describe(self, job: ExportJob, base_url: str) -> dict[str, Any]:
        """The status object; fresh signed URLs each time a succeeded job is polled."""
        body: dict[str, Any] = {
            "id": job.id,
            "entity": job.entity,
            "status": job.status,
            "format": job.format,
            "estimatedBytesProcessed": job.estimated_bytes,
            "createdAt": _rfc3339(job.created_at),
            "updatedAt": _rfc3339(job.updated_at),
        }
        if job.status == "succeeded":
            expires = time.time() + self.url_ttl
            body[wire.EXPORT_FILES_FIELD] = [
                {
                    wire.EXPORT_FILE_URL_FIELD: self._signed_url(base_url, job.id, f.name, expires),
                    wire.EXPORT_FILE_EXPIRES_FIELD: _rfc3339(
                        dt.datetime.fromtimestamp(expires, dt.UTC)
                    ),
                    wire.EXPORT_FILE_ROWS_FIELD: f.rows,
                    wire.EXPORT_FILE_BYTES_FIELD: f.bytes,
                }
                for f in job.files
            ]
        if job.status == "failed" and job.error:
            body[wire.EXPORT_ERROR_FIELD] = job.error
        return body

    def download_path(self, export_id: str, file_name: str, expires: str, signature: str) -> Path:
        """The file behind a download URL: 403 if expired or forged, 404 if gone."""
        expected = self._signature(export_id, file_name, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode(errors="replace")):
            raise ApiError(403, "download URL signature is not valid", code="forbidden")
        try:
            expires_at = float(expires)
        except ValueError:
            raise ApiError(403, "download URL signature is not valid", code="forbidden") from None
        if time.time() > expires_at:
            raise ApiError(
                403,
                "download URL has expired; poll the export again for fresh URLs",
                code="url_expired",
            )
        job = self.get(export_id)
        match = next((f for f in job.files if f.name == file_name), None)
        if match is None or job.files_deleted or not match.path.exists():
            raise not_found(f"export file '{file_name}' no longer exists (kept for 7 days)")
        return match.path

    # --- admin knobs ---------------------------------------------------------------------------
    def set_behaviour(self, outcome: str, delay_seconds: float) -> None:
        """How exports created from now on end: succeed, fail or stall (never leave running)."""
        with self._lock:
            self._behaviour = (outcome, delay_seconds)

    def delete_files(self, export_id: str) -> None:
        """Delete a job's files, as Ignite does after 7 days."""
        job = self.get(export_id)
        job.files_deleted = True
        for export_file in job.files:
            export_file.path.unlink(missing_ok=True)

    def shutdown(self) -> None:
        """Remove every written file (jobs still running are daemon threads)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- the job -------------------------------------------------------------------------------
    def _run(self, job: ExportJob) -> None:
        time.sleep(QUEUED_SECONDS)
        self._set_status(job, "running")
        if job.delay_seconds:
            time.sleep(job.delay_seconds)
        if job.outcome == "stall":
            return
        if job.outcome == "fail":
            job.error = {"code": "export_failed", "message": "the export failed (sandbox knob)"}
            self._set_status(job, "failed")
            return
        try:
            job.files = self._write_files(job)
        except Exception as exc:  # a job must end in a status, never vanish
            job.error = {"code": "export_failed", "message": f"export could not be written: {exc}"}
            self._set_status(job, "failed")
            return
        self._set_status(job, "succeeded")

    def _set_status(self, job: ExportJob, status: str) -> None:
        job.status = status
        job.updated_at = _now()

    def _write_files(self, job: ExportJob) -> list[ExportFile]:
        table = catalog.TABLES[job.entity]
        key = quote(table.order_by)
        where = job.predicate.sql
        params = job.predicate.params
        job_dir = self.directory / job.id
        job_dir.mkdir(parents=True, exist_ok=True)
        select = ", ".join(self._export_value(c, job.format) for c in job.columns)
        source = quote(table.id)
        with self.store.cursor() as cur:
            # The last key of every full file; the final file takes whatever remains.
            bounds = [
                str(r[0])
                for r in cur.execute(
                    f"SELECT k FROM (SELECT {key} AS k, row_number() OVER (ORDER BY {key}) AS n "
                    f"FROM {source} WHERE {where}) WHERE n % {self.file_rows} = 0 ORDER BY k",
                    params,
                ).fetchall()
            ]
            ranges: list[tuple[str | None, str | None]] = []
            low: str | None = None
            for high in bounds:
                ranges.append((low, high))
                low = high
            total = first_row(cur, f"SELECT count(*) FROM {source} WHERE {where}", params)
            if not ranges or (total and int(total[0]) > len(bounds) * self.file_rows):
                ranges.append((low, None))
            files = []
            for index, (low_key, high_key) in enumerate(ranges, start=1):
                clauses = [f"({where})"]
                chunk_params = list(params)
                if low_key is not None:
                    clauses.append(f"{key} > ?")
                    chunk_params.append(low_key)
                if high_key is not None:
                    clauses.append(f"{key} <= ?")
                    chunk_params.append(high_key)
                name = f"{job.entity}-{index:05d}{FORMATS[job.format]}"
                path = job_dir / name
                query = (
                    f"SELECT {select} FROM {source} WHERE {' AND '.join(clauses)} ORDER BY {key}"
                )
                options = "FORMAT json, ARRAY true" if job.format == "json" else "FORMAT parquet"
                cur.execute(f"COPY ({query}) TO '{path}' ({options})", chunk_params)
                counted = first_row(
                    cur, f"SELECT count(*) FROM {source} WHERE {' AND '.join(clauses)}",
                    chunk_params,
                )  # fmt: skip
                rows = int(counted[0]) if counted else 0
                files.append(ExportFile(name, path, rows, path.stat().st_size))
        return files

    @staticmethod
    def _export_value(column: Column, export_format: str) -> str:
        if export_format == "parquet" and column.data_type == catalog.TIMESTAMP:
            # TIMESTAMPTZ is written as a UTC-adjusted parquet timestamp.
            return f"{quote(column.name)}::TIMESTAMPTZ AS {quote(column.name)}"
        if export_format == "parquet":
            return quote(column.name)
        return f"{value_sql(column)} AS {quote(column.name)}"

    def _signature(self, export_id: str, file_name: str, expires: str) -> str:
        message = f"{export_id}/{file_name}/{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def _signed_url(self, base_url: str, export_id: str, file_name: str, expires: float) -> str:
        expires_text = f"{expires:.3f}"
        path = wire.DOWNLOAD_PATH.format(export_id=export_id, file_name=file_name)
        query = urlencode(
            {
                wire.DOWNLOAD_EXPIRES_PARAM: expires_text,
                wire.DOWNLOAD_SIGNATURE_PARAM: self._signature(export_id, file_name, expires_text),
            }
        )
        return f"{base_url.rstrip('/')}{path}?{query}"
