"""BATCH files through S3-compatible storage: tap-ignite writes them, target-ignite reads them.

Real processes only: the sandbox, moto's S3 server (tests/s3.py), and the plugins' CLIs, which
find the server and the credentials the way they find AWS: the standard AWS environment
variables. Every plugin run here logs at DEBUG level (botocore logs each request's headers
then), and none of its output may carry the credentials in any form.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox
from target_ignite.batch_files import CHUNK_ROWS

from tests.peak_rss import peak_rss_mb, peak_rss_script
from tests.reliability.helpers import (
    Run,
    api_rows,
    catalog_of,
    plugin_env,
    run_tap,
    run_target,
    tables,
)
from tests.s3 import S3Server, credential_leaks
from tests.target_ignite.helpers import Num, loads_exact

PREFIX = "exports/run-1/"
DEBUG = {"LOGLEVEL": "DEBUG", "TAP_IGNITE_LOGLEVEL": "DEBUG", "TARGET_IGNITE_LOGLEVEL": "DEBUG"}


def s3_env(s3_server: S3Server, **extra: str) -> dict[str, str]:
    return plugin_env(**{**s3_server.env(), **DEBUG, **extra})


def snapshot_config(server: RunningSandbox, root: str, **overrides: Any) -> dict[str, Any]:
    """tap-ignite: export snapshots as parquet BATCH files under `root`."""
    config: dict[str, Any] = {
        "api_url": server.url,
        "api_token": server.token,
        "sync_mode": "export",
        "export_poll_interval": 0.05,
        "batch_config": {
            "encoding": {"format": "parquet"},
            "storage": {"root": root, "prefix": PREFIX},
        },
    }
    config.update(overrides)
    return config


def assert_no_credentials(*runs: Run) -> None:
    for run in runs:
        assert "| DEBUG" in run.stderr, f"{run.label} did not log at DEBUG level"
        leaks = credential_leaks(run.stdout + run.stderr)
        assert not leaks, f"{run.label} printed the S3 credentials ({len(leaks)} forms)"


def export_files(server: RunningSandbox, export_id: str) -> list[bytes]:
    """The export's files as Ignite serves them (signed URLs, no token)."""
    headers = {"Authorization": f"Bearer {server.token}"}
    body = requests.get(f"{server.url}/exports/{export_id}", headers=headers, timeout=60).json()
    return [requests.get(f["url"], timeout=60).content for f in body["files"]]


def repository_rows(server: RunningSandbox, repository_id: str) -> dict[str, dict[str, Any]]:
    """A repository's rows by id, every number as its exact text (`Num`)."""
    response = requests.get(
        f"{server.url}/_sandbox/repositories/{repository_id}/rows",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=120,
    )
    response.raise_for_status()
    return {row["id"]: row for row in loads_exact(response.text)["rows"]}


def load_new_repository(
    server: RunningSandbox,
    table: dict[str, Any],
    name: str,
    singer_input: str,
    workdir: Path,
    *,
    env: dict[str, str],
) -> tuple[Run, str]:
    """target-ignite loads `singer_input` into a new repository with the table's columns."""
    fields = [column["name"] for column in table["columns"]]
    repository_id = str(server.admin.create_repository(name, fields)["id"])
    config = {"api_url": server.url, "api_token": server.token, "repository_id": repository_id}
    return run_target(workdir, config, singer_input.encode(), env=env), repository_id


@pytest.fixture
def server(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    # Two spend files, each more than one piece (CHUNK_ROWS) for the target to read.
    return sandbox_factory(spend_rows=2 * CHUNK_ROWS + 4000, export_file_rows=CHUNK_ROWS + 2000)


def test_export_files_go_to_s3_as_they_are_and_target_ignite_loads_them(
    server: RunningSandbox, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    env = s3_env(s3_server)
    root = f"s3://{s3_bucket}/ignite"
    config = snapshot_config(server, root)
    spend = next(table for table in tables(server) if table["id"] == "spend")

    tap = run_tap(tmp_path / "tap", config, catalog=catalog_of(config, ["spend"]), env=env)

    assert tap.returncode == 0, tap.stderr[-3000:]
    batches = [m for m in tap.messages if m["type"] == "BATCH"]
    urls = [url for batch in batches for url in batch["manifest"]]
    assert len(urls) == 2
    assert all(url.startswith(f"{root}/{PREFIX}tap-ignite--spend-") for url in urls), urls
    # Byte for byte the files the export produced: copied, not decoded and re-encoded.
    (export_id,) = {url.rsplit("/", 1)[1].split("--spend-", 1)[1][:36] for url in urls}
    s3 = s3_server.filesystem()
    assert [s3.cat_file(url) for url in urls] == export_files(server, export_id)
    assert "handed over as a BATCH file as it is" in tap.stderr

    # target-ignite reads the files from S3; the rows are those the RECORD path imports.
    loaded, from_s3 = load_new_repository(
        server, spend, "SpendFromS3", tap.stdout, tmp_path / "target-s3", env=env
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    plain = {key: value for key, value in config.items() if key != "batch_config"}
    catalog = catalog_of(plain, ["spend"])
    records = run_tap(tmp_path / "tap-records", plain, catalog=catalog, env=env)
    assert records.returncode == 0, records.stderr[-3000:]
    reference, from_records = load_new_repository(
        server, spend, "SpendFromRecords", records.stdout, tmp_path / "target-records", env=env
    )
    assert reference.returncode == 0, reference.stderr[-3000:]
    rows = repository_rows(server, from_s3)
    assert rows == repository_rows(server, from_records)
    # ... and they are Ignite's rows: every id, every amount to the last digit.
    api = {row["id"]: row for row in api_rows(server, spend)}
    assert rows.keys() == api.keys()
    assert all(rows[i]["amount"] == Num(str(api[i]["amount"])) for i in api if api[i]["amount"])
    assert rows["SP-0000003"]["amount"] == Num("12345678901234567.89")
    # The target's last STATE is the tap's: nothing pending.
    assert json.loads(loaded.stdout.splitlines()[-1]) == tap.states[-1]
    assert_no_credentials(tap, loaded, records, reference)


def test_storage_failures_end_with_one_line_and_no_credentials(
    server: RunningSandbox, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    # Nothing listens on the endpoint: botocore retries, then the tap stops with one line.
    # At the default log level (at DEBUG, botocore logs each failed attempt's traceback).
    config = snapshot_config(server, f"s3://{s3_bucket}/ignite")
    catalog = catalog_of(config, ["contracts"])
    closed = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    # Both ways BATCH files are written: export files handed over, and the SDK's batcher
    # (rows mode, gzip JSONL).
    jsonl = {"encoding": {"format": "jsonl", "compression": "gzip"}}
    rows_mode = {
        **config,
        "sync_mode": "rows",
        "batch_config": {**config["batch_config"], **jsonl},
    }
    for label, settings in (("export", config), ("rows", rows_mode)):
        unreachable = run_tap(
            tmp_path / f"unreachable-{label}",
            settings,
            catalog=catalog,
            env=plugin_env(**{**s3_server.env(), **closed}),
        )
        assert unreachable.returncode == 1, label
        error = unreachable.the_error()
        assert f"BATCH files of stream 'contracts' to s3://{s3_bucket}/ignite" in error, label
        assert "EndpointConnectionError" in error, label
        assert "Traceback" not in unreachable.stderr, label
        assert not credential_leaks(unreachable.stdout + unreachable.stderr), label
    unreachable_debug = run_tap(
        tmp_path / "unreachable-debug", config, catalog=catalog, env=s3_env(s3_server, **closed)
    )
    assert unreachable_debug.returncode == 1

    # A BATCH message naming a file that is not there: the target says which, and stops.
    written = run_tap(tmp_path / "written", config, catalog=catalog, env=s3_env(s3_server))
    assert written.returncode == 0, written.stderr[-3000:]
    missing = written.stdout.replace(f"/{PREFIX}", "/nowhere/")
    contracts = next(table for table in tables(server) if table["id"] == "contracts")
    target, _ = load_new_repository(
        server, contracts, "ContractsMissingFile", missing, tmp_path / "missing",
        env=plugin_env(**s3_server.env()),
    )  # fmt: skip
    assert target.returncode == 1
    error = target.the_error()
    assert f"BATCH file 's3://{s3_bucket}/ignite/nowhere/tap-ignite--contracts-" in error
    assert "' cannot be read as parquet: No such file or directory" in error
    assert "Traceback" not in target.stderr

    # A storage protocol with no fsspec implementation here: a settings error, before any data.
    no_gcs = run_tap(
        tmp_path / "gcs",
        snapshot_config(server, f"gcs://{s3_bucket}/ignite"),
        catalog=catalog,
        env=plugin_env(**s3_server.env()),
    )
    assert no_gcs.returncode == 1
    assert f"batch_config.storage.root 'gcs://{s3_bucket}/ignite' cannot be written" in (
        no_gcs.the_error()
    )
    assert '"type":"SCHEMA"' not in no_gcs.stdout.replace(" ", "")
    assert_no_credentials(unreachable_debug, written)
    for run in (target, no_gcs):
        assert not credential_leaks(run.stdout + run.stderr), run.label


# The tap's peak RSS, reported by the tap itself at exit (tests/peak_rss.py).
RUN_WITH_PEAK_RSS = peak_rss_script("tap-ignite", "tap_ignite.tap:TapIgnite")


def tap_peak_rss_mb(
    tmp_path: Path, config: dict[str, Any], stream: str, env: dict[str, str]
) -> tuple[float, Run]:
    config_path = tmp_path / f"{stream}-config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    catalog_path = tmp_path / f"{stream}-catalog.json"
    catalog_path.write_text(json.dumps(catalog_of(config, [stream])), encoding="utf-8")
    argv = [sys.executable, "-c", RUN_WITH_PEAK_RSS, "--config", str(config_path)]
    completed = subprocess.run(
        [*argv, "--catalog", str(catalog_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    run = Run(stream, completed.returncode, completed.stdout, completed.stderr)
    assert run.returncode == 0, run.stderr[-3000:]
    return peak_rss_mb(run.stderr), run


@pytest.mark.slow
def test_a_large_export_streams_to_s3_in_bounded_memory(
    sandbox_factory: Callable[..., RunningSandbox],
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    """1,000,000 spend rows in one export file of ~48 MB, handed over to S3."""
    rows = 1_000_000
    server = sandbox_factory(spend_rows=rows, export_file_rows=rows)
    env = s3_env(s3_server, LOGLEVEL="INFO", TAP_IGNITE_LOGLEVEL="INFO")
    config = snapshot_config(server, f"s3://{s3_bucket}/large")

    small_peak, _ = tap_peak_rss_mb(tmp_path, config, "contracts", env)
    large_peak, run = tap_peak_rss_mb(tmp_path, config, "spend", env)

    (batch,) = [m for m in run.messages if m["type"] == "BATCH"]
    (url,) = batch["manifest"]
    size_mb = s3_server.filesystem().info(url)["size"] / 1024**2
    assert size_mb > 40, f"the export file is only {size_mb:.0f} MB"
    print(f"FIGURE s3 hand-over: {rows} rows, {size_mb:.0f} MB file, tap peak RSS "
          f"{large_peak:.0f} MB (a 1-file table: {small_peak:.0f} MB)")  # fmt: skip
    assert large_peak < 300, f"peak RSS {large_peak:.0f} MB"
    # Download and upload go a part at a time: the file never sits in memory whole. Held
    # whole (as one upload part), it cost three times its size: +119 MB for a 38 MB file.
    assert large_peak - small_peak < size_mb, (large_peak, small_peak, size_mb)
    assert not credential_leaks(run.stdout + run.stderr)
