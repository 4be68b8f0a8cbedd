"""tap-ignite | target-duckdb-typed, real processes against a sandbox: every mode lands the
same typed, exact table, and export snapshots mirror Ignite, vanished rows included."""

from __future__ import annotations

import datetime
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox

from tests.tap_ignite.helpers import TAP_EXECUTABLE, catalog_selecting, tap_config
from tests.target_duckdb_typed.helpers import TARGET, Run, column_types, query

pytestmark = pytest.mark.slow

_decode = msgspec.json.Decoder(float_hook=Decimal).decode
SPEND = "select id, amount, amount_local, invoice_date, updated_at, tags, is_po from ignite.spend"


def api_spend(sandbox: RunningSandbox, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every spend row the rows API serves (with `filters`), by id."""
    fields = ["id", "amount", "amount_local", "invoice_date", "updated_at", "tags", "is_po"]
    body: dict[str, Any] = {"fields": fields, "pageSize": 5000, "filters": filters or {}}
    rows: dict[str, Any] = {}
    while True:
        response = requests.post(
            f"{sandbox.url}/tables/spend/rows",
            headers={"Authorization": f"Bearer {sandbox.token}"},
            data=msgspec.json.encode(body),
            timeout=120,
        )
        response.raise_for_status()
        page = _decode(response.content)
        for row in page["data"]:
            rows[row["id"]] = (
                row["id"],
                row["amount"],
                row["amount_local"],
                datetime.date.fromisoformat(row["invoice_date"]) if row["invoice_date"] else None,
                datetime.datetime.fromisoformat(row["updated_at"]) if row["updated_at"] else None,
                row["tags"],
                row["is_po"],
            )
        if not page.get("nextPageToken"):
            return rows
        body["pageToken"] = page["nextPageToken"]


def pipeline(
    tmp_path: Path, sandbox: RunningSandbox, tap_settings: dict[str, Any], **target_settings: Any
) -> Run:
    """tap-ignite (spend only) piped into target-duckdb-typed, as `meltano run` pipes them."""
    config = tap_config(sandbox, **tap_settings)
    tap_config_path = tmp_path / "tap.json"
    tap_config_path.write_text(json.dumps(config))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(config, ["spend"])))
    target_config = tmp_path / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "filepath": str(tmp_path / "warehouse.duckdb"),
                "default_target_schema": "ignite",
                **target_settings,
            }
        )
    )
    tap = subprocess.Popen(
        [TAP_EXECUTABLE, "--config", str(tap_config_path), "--catalog", str(catalog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    target = subprocess.run(
        [TARGET, "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert tap.wait(timeout=600) == 0
    return Run(target.returncode, target.stdout.decode(), target.stderr.decode())


def as_exact(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row from DuckDB with its decimals normalized like the API's (same value)."""
    return tuple(value.normalize() if isinstance(value, Decimal) else value for value in row)


def loaded(tmp_path: Path) -> dict[str, Any]:
    rows = query(tmp_path / "warehouse.duckdb", SPEND)
    return {row[0]: as_exact(row) for row in rows}


def expected(api: dict[str, Any]) -> dict[str, Any]:
    return {key: as_exact(row) for key, row in api.items()}


@pytest.mark.parametrize("use_singer_decimal", [False, True])
def test_rows_mode_lands_typed_exact_rows(
    tmp_path: Path, sandbox: RunningSandbox, use_singer_decimal: bool
) -> None:
    run = pipeline(tmp_path, sandbox, {"use_singer_decimal": use_singer_decimal})
    assert run.returncode == 0, run.stderr
    assert run.states, "the bookmark reaches the target's output"
    types = column_types(tmp_path / "warehouse.duckdb", "ignite.spend")
    assert types["amount"] == "DECIMAL(38,9)"  # with or without use_singer_decimal
    assert types["invoice_date"] == "DATE"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["tags"] == "VARCHAR[]"
    assert loaded(tmp_path) == expected(api_spend(sandbox))


@pytest.mark.parametrize("batch", [False, True], ids=["export-records", "export-batch"])
def test_export_snapshots_mirror_ignite_vanished_rows_included(
    tmp_path: Path, sandbox: RunningSandbox, batch: bool
) -> None:
    settings: dict[str, Any] = {"sync_mode": "export", "export_format": "parquet"}
    if batch:
        batches = tmp_path / "batches"
        batches.mkdir()
        settings["batch_config"] = {
            "encoding": {"format": "parquet"},
            "storage": {"root": batches.as_uri()},
        }
    # A snapshot of EUR and NOK rows, then one of EUR only: the NOK rows vanished from what
    # Ignite serves, and the table follows.
    for currencies in (["EUR", "NOK"], ["EUR"]):
        filters = {"currency": {"in": currencies}}
        run = pipeline(tmp_path, sandbox, {**settings, "filters": {"spend": filters}})
        assert run.returncode == 0, run.stderr
        api = api_spend(sandbox, filters)
        assert api
        assert loaded(tmp_path) == expected(api)
    # The export's parquet file came as a BATCH message (read by DuckDB), or as RECORDs.
    if batch:
        assert "0 records, 1 batch manifests" in run.stderr
    else:
        assert " 0 batch manifests" in run.stderr
    versions = query(
        tmp_path / "warehouse.duckdb", "select distinct _sdc_table_version from ignite.spend"
    )
    assert len(versions) == 1
    assert versions[0][0] is not None  # the last snapshot's version, on every row
