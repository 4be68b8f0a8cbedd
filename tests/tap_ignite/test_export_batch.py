"""Snapshot exports as BATCH messages (the SDK's batch_config): parquet export files handed
over as they are, everything else written by the SDK's own batcher."""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox

from tests.tap_ignite.helpers import Output, sync, tap_config

STARTED = re.compile(r"Started export (\S+) of table 'spend'")


def batch_config(root: Path, encoding: str, compression: str = "none") -> dict[str, Any]:
    return {
        "encoding": {"format": encoding, "compression": compression},
        "storage": {"root": root.as_uri(), "prefix": "test-"},
    }


def manifest_paths(output: Output, stream: str) -> list[Path]:
    batches = [m for m in output.of_type("BATCH") if m["stream"] == stream]
    return [Path(urlsplit(url).path) for m in batches for url in m["manifest"]]


def download_export_files(server: RunningSandbox, export_id: str) -> list[bytes]:
    headers = {"Authorization": f"Bearer {server.token}"}
    body = requests.get(f"{server.url}/exports/{export_id}", headers=headers, timeout=60).json()
    return [requests.get(f["url"], timeout=60).content for f in body["files"]]


@pytest.fixture
def server(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory(export_file_rows=1000)


def test_parquet_export_files_are_handed_over_as_they_are(
    server: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tap_config(
        server,
        sync_mode="export",
        export_poll_interval=0.05,
        batch_config=batch_config(tmp_path, "parquet"),
    )
    with caplog.at_level(logging.INFO):
        output = sync(config, streams=["spend"])
    assert not output.records("spend")
    paths = manifest_paths(output, "spend")
    assert len(paths) == 3
    assert all(p.parent == tmp_path and p.name.startswith("test-tap-ignite--spend-") for p in paths)
    # Byte for byte the files the export produced: not decoded, not re-encoded.
    (export_id,) = [m.group(1) for msg in caplog.messages if (m := STARTED.search(msg))]
    assert [p.read_bytes() for p in paths] == download_export_files(server, export_id)
    handed = [m for m in caplog.messages if "handed over as a BATCH file as it is" in m]
    assert len(handed) == 3
    # Typed parquet, as the export wrote it; every row once; money exact.
    table = pa.concat_tables(pq.read_table(p) for p in paths)
    assert table.num_rows == 3000
    assert pa.types.is_decimal(table.schema.field("amount").type)
    assert pa.types.is_date(table.schema.field("invoice_date").type)
    rows = {r["id"]: r for r in table.select(["id", "amount"]).to_pylist()}
    assert len(rows) == 3000
    assert rows["SP-0000003"]["amount"] == Decimal("12345678901234567.89")
    # ACTIVATE_VERSION first; the export leaves the state once its files are out.
    types = [m["type"] for m in output.messages if m.get("stream") == "spend"]
    assert types[:2] == ["SCHEMA", "ACTIVATE_VERSION"]
    assert "export_in_flight" not in output.final_state["bookmarks"]["spend"]


def test_jsonl_batches_hold_the_same_records_as_rows_mode(
    server: RunningSandbox, tmp_path: Path
) -> None:
    rows = sync(tap_config(server, replication_keys={"contracts": ""}), streams=["contracts"])
    config = tap_config(
        server,
        sync_mode="export",
        export_format="json",
        export_poll_interval=0.05,
        batch_config=batch_config(tmp_path, "jsonl", "gzip"),
    )
    output = sync(config, streams=["contracts"])
    paths = manifest_paths(output, "contracts")
    assert paths
    decoder = msgspec.json.Decoder(float_hook=Decimal)
    records = [
        decoder.decode(line) for p in paths for line in gzip.decompress(p.read_bytes()).splitlines()
    ]
    assert sorted(records, key=lambda r: r["id"]) == sorted(
        rows.records("contracts"), key=lambda r: r["id"]
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"key_by": "label"}, None),  # property names differ from the file's column names
        ({"use_singer_decimal": True}, None),  # money must become strings
        ({"batch_compression": "gzip"}, "it is compressed with SNAPPY, not gzip"),
    ],
)
def test_parquet_files_that_cannot_go_as_they_are_are_re_encoded(
    server: RunningSandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, Any],
    reason: str | None,
) -> None:
    settings = dict(overrides)
    compression = settings.pop("batch_compression", "none")
    config = tap_config(
        server,
        sync_mode="export",
        export_poll_interval=0.05,
        batch_config=batch_config(tmp_path, "parquet", compression),
        **settings,
    )
    with caplog.at_level(logging.INFO):
        output = sync(config, streams=["suppliers"])
    assert not [m for m in caplog.messages if "handed over" in m]
    if reason:
        assert any(reason in m for m in caplog.messages)
    table = pa.concat_tables(pq.read_table(p) for p in manifest_paths(output, "suppliers"))
    assert table.num_rows == 60
    records = table.to_pylist()
    # The SDK's batcher writes the records as the tap emits them: dates as text.
    created = "Created At" if settings.get("key_by") == "label" else "created_at"
    assert all(isinstance(r[created], str) and r[created].endswith("Z") for r in records)
    if settings.get("use_singer_decimal"):
        assert all(isinstance(r["total_spend"], str) for r in records)
