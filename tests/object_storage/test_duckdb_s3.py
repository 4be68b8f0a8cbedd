"""BATCH files in S3-compatible storage: tap-ignite writes them, target-duckdb-typed loads them.

Real processes only: the sandbox, moto's S3 server (tests/s3.py), tap-ignite's CLI piped into
target-duckdb-typed's CLI, and the DuckDB file read back. Both plugins find the server and the
credentials the way they find AWS, through the standard AWS environment variables; they log
at DEBUG level here (botocore logs each request's headers then), and neither output may carry
the credentials in any form.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.reliability.helpers import Run, catalog_of, plugin_env, run_tap
from tests.s3 import S3Server, credential_leaks
from tests.tap_ignite.helpers import TAP_EXECUTABLE
from tests.target_duckdb_typed.helpers import TARGET, column_types, query
from tests.target_duckdb_typed.test_with_tap_ignite import SPEND, api_spend, as_exact

PREFIX = "exports/run-1/"
DEBUG = {
    "LOGLEVEL": "DEBUG",
    "TAP_IGNITE_LOGLEVEL": "DEBUG",
    "TARGET_DUCKDB_TYPED_LOGLEVEL": "DEBUG",
}
SPEND_ROWS = 25_000
FILE_ROWS = 10_000  # three export files, three BATCH messages


@pytest.fixture
def server(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory(spend_rows=SPEND_ROWS, export_file_rows=FILE_ROWS)


def tap_settings(server: RunningSandbox, root: str) -> dict[str, Any]:
    """tap-ignite: export snapshots as parquet BATCH files under `root`."""
    return {
        "api_url": server.url,
        "api_token": server.token,
        "sync_mode": "export",
        "export_format": "parquet",
        "export_poll_interval": 0.05,
        "batch_config": {
            "encoding": {"format": "parquet"},
            "storage": {"root": root, "prefix": PREFIX},
        },
    }


def target_config(workdir: Path) -> Path:
    path = workdir / "target.json"
    warehouse = workdir / "warehouse.duckdb"
    path.write_text(json.dumps({"filepath": str(warehouse), "default_target_schema": "ignite"}))
    return path


def pipeline(
    workdir: Path, tap_config: dict[str, Any], env: dict[str, str]
) -> tuple[Run, Run, Path]:
    """tap-ignite (spend only) | target-duckdb-typed, as `meltano run` pipes them: both runs
    and the DuckDB file."""
    workdir.mkdir()
    tap_config_path = workdir / "tap.json"
    tap_config_path.write_text(json.dumps(tap_config))
    catalog = workdir / "catalog.json"
    catalog.write_text(json.dumps(catalog_of(tap_config, ["spend"])))
    tap_log = workdir / "tap.log"
    with tap_log.open("wb") as tap_stderr:
        tap = subprocess.Popen(
            [TAP_EXECUTABLE, "--config", str(tap_config_path), "--catalog", str(catalog)],
            stdout=subprocess.PIPE,
            stderr=tap_stderr,
            env=env,
        )
        assert tap.stdout is not None
        target = subprocess.run(
            [TARGET, "--config", str(target_config(workdir))],
            stdin=tap.stdout,
            capture_output=True,
            timeout=600,
            env=env,
            check=False,
        )
        tap.stdout.close()
        tap_code = tap.wait(timeout=600)
    tap_run = Run("tap-ignite", tap_code, "", tap_log.read_text(encoding="utf-8"))
    target_run = Run(
        "target-duckdb-typed", target.returncode, target.stdout.decode(), target.stderr.decode()
    )
    return tap_run, target_run, workdir / "warehouse.duckdb"


def run_target_alone(workdir: Path, singer_input: str, env: dict[str, str]) -> Run:
    workdir.mkdir()
    completed = subprocess.run(
        [TARGET, "--config", str(target_config(workdir))],
        input=singer_input.encode(),
        capture_output=True,
        timeout=300,
        env=env,
        check=False,
    )
    return Run(
        "target-duckdb-typed",
        completed.returncode,
        completed.stdout.decode(),
        completed.stderr.decode(),
    )


def all_rows(warehouse: Path) -> list[tuple[Any, ...]]:
    """Every row of the spend table, every column but the load's own metadata."""
    columns = [name for name in column_types(warehouse, "ignite.spend") if name[:5] != "_sdc_"]
    select = ", ".join(f'"{name}"' for name in columns)
    return query(warehouse, f"select {select} from ignite.spend order by id")  # noqa: S608


def assert_no_credentials(*runs: Run, debug: bool = True) -> None:
    for run in runs:
        if debug:
            assert "| DEBUG" in run.stderr, f"{run.label} did not log at DEBUG level"
        leaks = credential_leaks(run.stdout + run.stderr)
        assert not leaks, f"{run.label} printed the S3 credentials ({len(leaks)} forms)"


def test_export_batch_files_load_from_s3_as_from_local_disk(
    server: RunningSandbox, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    env = plugin_env(**{**s3_server.env(), **DEBUG, "TMPDIR": str(temp)})
    root = f"s3://{s3_bucket}/ignite"

    tap, target, warehouse = pipeline(tmp_path / "s3", tap_settings(server, root), env)

    assert tap.returncode == 0, tap.stderr[-3000:]
    assert target.returncode == 0, target.stderr[-3000:]
    # The files went through the bucket (three export files, each a BATCH message).
    files = s3_server.filesystem().find(f"{s3_bucket}/ignite/{PREFIX}")
    assert len(files) == 3, files
    assert all("tap-ignite--spend-" in name for name in files), files
    assert "0 records, 3 batch manifests" in target.stderr
    # Every row Ignite serves, typed, every amount to the last digit.
    types = column_types(warehouse, "ignite.spend")
    assert types["amount"] == "DECIMAL(38,9)"
    assert types["invoice_date"] == "DATE"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    loaded = {row[0]: as_exact(row) for row in query(warehouse, SPEND)}
    api = api_spend(server)
    assert len(loaded) == SPEND_ROWS
    assert loaded == {key: as_exact(row) for key, row in api.items()}
    assert loaded["SP-0000003"][1] == Decimal("12345678901234567.89")
    total = query(warehouse, "select sum(amount) from ignite.spend")[0][0]
    assert total == sum((row[1] for row in api.values() if row[1] is not None), Decimal(0))
    # The same rows as the local-disk BATCH route, column for column.
    local_root = tmp_path / "local-batches"
    local_root.mkdir()
    local_tap, local_target, local_warehouse = pipeline(
        tmp_path / "local", tap_settings(server, local_root.as_uri()), env
    )
    assert local_tap.returncode == 0, local_tap.stderr[-3000:]
    assert local_target.returncode == 0, local_target.stderr[-3000:]
    assert all_rows(warehouse) == all_rows(local_warehouse)
    assert len(all_rows(warehouse)) == SPEND_ROWS
    assert target.states, "the bookmark reaches the target's output"
    # Each file was copied to a temporary folder for DuckDB, and deleted once loaded.
    assert "Copied BATCH file 's3://" in target.stderr
    assert not list(temp.glob("target-duckdb-typed-*"))
    assert_no_credentials(tap, target, local_tap, local_target)


def test_rows_mode_jsonl_batch_files_load_from_s3(
    server: RunningSandbox, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """The SDK's own batcher (rows mode, gzip jsonl) to S3: read a chunk of lines at a time."""
    env = plugin_env(**{**s3_server.env(), **DEBUG})
    config = tap_settings(server, f"s3://{s3_bucket}/rows")
    config["sync_mode"] = "rows"
    config["batch_config"]["encoding"] = {"format": "jsonl", "compression": "gzip"}

    tap, target, warehouse = pipeline(tmp_path / "rows", config, env)

    assert tap.returncode == 0, tap.stderr[-3000:]
    assert target.returncode == 0, target.stderr[-3000:]
    files = s3_server.filesystem().find(f"{s3_bucket}/rows/{PREFIX}")
    assert files, "the tap wrote its BATCH files to the bucket"
    assert all(name.endswith(".json.gz") for name in files), files
    assert "0 records," in target.stderr
    loaded = {row[0]: as_exact(row) for row in query(warehouse, SPEND)}
    assert loaded == {key: as_exact(row) for key, row in api_spend(server).items()}
    assert len(loaded) == SPEND_ROWS
    assert_no_credentials(tap, target)


def test_a_missing_object_or_unreachable_store_ends_with_one_line(
    server: RunningSandbox, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    root = f"s3://{s3_bucket}/ignite"
    config = tap_settings(server, root)
    written = run_tap(
        tmp_path / "tap",
        config,
        catalog=catalog_of(config, ["spend"]),
        env=plugin_env(**{**s3_server.env(), **DEBUG}),
    )
    assert written.returncode == 0, written.stderr[-3000:]
    assert '"type":"BATCH"' in written.stdout.replace(" ", "")

    # A BATCH message naming an object that is not in the bucket.
    missing = written.stdout.replace(f"/{PREFIX}", "/nowhere/")
    gone = run_target_alone(tmp_path / "missing", missing, plugin_env(**s3_server.env()))
    assert gone.returncode == 1
    error = gone.the_error()
    where = f"s3://{s3_bucket}/ignite/nowhere/tap-ignite--spend-"
    assert f"stream 'spend': BATCH file '{where}" in error
    assert "' cannot be read as parquet: No such file or directory" in error
    assert "Traceback" not in gone.stderr

    # Nothing listens at the endpoint: botocore gives up, the target says so in one line.
    closed = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    unreachable = run_target_alone(
        tmp_path / "unreachable", written.stdout, plugin_env(**{**s3_server.env(), **closed})
    )
    assert unreachable.returncode == 1
    error = unreachable.the_error()
    assert f"BATCH file 's3://{s3_bucket}/ignite/{PREFIX}tap-ignite--spend-" in error
    assert "EndpointConnectionError" in error
    assert "Traceback" not in unreachable.stderr
    # Nothing of a failed BATCH run is committed (the table was made from its SCHEMA).
    warehouse = tmp_path / "unreachable" / "warehouse.duckdb"
    assert query(warehouse, "select count(*) from ignite.spend") == [(0,)]
    assert_no_credentials(written)
    assert_no_credentials(gone, unreachable, debug=False)
