"""Snapshot exports against the sandbox: same records as rows mode, the export lifecycle in both
formats with several files, expiring URLs, failures, timeouts and resuming from state."""

from __future__ import annotations

import datetime
import json
import logging
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage
from tap_ignite.arrow_lines import LineBuilder
from tap_ignite.columns import Column
from tap_ignite.snapshot_files import RecordShaper, record_struct
from tap_ignite.snapshot_stream import STATE_EXPORT, SnapshotTableStream
from tap_ignite.tap import TapIgnite

from tests.tap_ignite.helpers import (
    TAP_EXECUTABLE,
    CapturingWriter,
    Output,
    catalog_selecting,
    run_cli,
    sync,
    tap_config,
)

FILE_ROWS = 700  # spend's 3000 rows export as 5 files
POLL = 0.05
ALL_TABLES = [
    "spend",
    "suppliers",
    "contracts",
    "classification_business_units",
    "classification_spend_categories",
]
PROGRESS = re.compile(
    r"Ignite export (\S+) of table 'spend': (queued|running|succeeded), "
    r"~\d+\.\d MB estimated, \d+\.\d s elapsed"
)


def export_config(server: RunningSandbox, **overrides: Any) -> dict[str, Any]:
    return tap_config(server, **{"sync_mode": "export", "export_poll_interval": POLL, **overrides})


@dataclass
class Decoded:
    """One run's SCHEMA and RECORD messages per stream, decoded once."""

    schemas: dict[str, dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]

    @classmethod
    def of(cls, output: Output) -> Decoded:
        decoded = cls({}, {})
        for message in output.messages:
            if message["type"] == "SCHEMA":
                decoded.schemas[message["stream"]] = message
            elif message["type"] == "RECORD":
                decoded.records.setdefault(message["stream"], []).append(message["record"])
        return decoded

    def keyed(self, stream: str) -> dict[str, dict[str, Any]]:
        """Record key -> record, by the stream's key property."""
        (key,) = self.schemas[stream]["key_properties"]
        records = {str(r[key]): r for r in self.records[stream]}
        assert len(records) == len(self.records[stream]), f"{stream}: duplicate records"
        return records

    def emitted(self, stream: str) -> dict[str, bytes]:
        """Record key -> the record exactly as written (every digit kept), keys sorted."""
        return {
            key: msgspec.json.encode(record, order="sorted")
            for key, record in self.keyed(stream).items()
        }


def same_value(got: Any, want: Any) -> bool:
    """Equal and of the same kind; numbers compare as exact decimals (30 == 30.0)."""
    if isinstance(got, bool) or isinstance(want, bool):
        return type(got) is type(want) and got == want
    if isinstance(got, (int, Decimal)) and isinstance(want, (int, Decimal)):
        return Decimal(got) == Decimal(want)
    return type(got) is type(want) and got == want


def same_records(got: Decoded, want: Decoded, stream: str) -> None:
    got_records, want_records = got.keyed(stream), want.keyed(stream)
    assert got_records.keys() == want_records.keys(), stream
    for key, record in want_records.items():
        other = got_records[key]
        assert other.keys() == record.keys(), (stream, key)
        differing = {k: (other[k], v) for k, v in record.items() if not same_value(other[k], v)}
        assert not differing, (stream, key, differing)


def messages_of(output: Output, kind: str, stream: str) -> list[dict[str, Any]]:
    return [m for m in output.of_type(kind) if m["stream"] == stream]


@pytest.mark.parametrize("key_by", ["name", "label"])
def test_rows_json_export_and_parquet_export_give_identical_records(
    sandbox_factory: Callable[..., RunningSandbox], key_by: str
) -> None:
    server = sandbox_factory(export_file_rows=1000)
    rows = Decoded.of(sync(tap_config(server, key_by=key_by)))
    parquet = Decoded.of(sync(export_config(server, key_by=key_by, export_format="parquet")))
    json_ = Decoded.of(sync(export_config(server, key_by=key_by, export_format="json")))
    for stream in ALL_TABLES:
        expected = rows.emitted(stream)
        assert expected, stream
        # JSON export files hold the rows endpoint's own JSON: identical to the byte.
        assert json_.emitted(stream) == expected, f"{stream}: json export differs"
        # Parquet holds typed values: the same values and kinds. A NUMBER may be written
        # differently: the sandbox's rows render DECIMAL(10,0) as `30.0`, parquet's
        # decimal(10,0) gives `30`; the same exact number.
        same_records(parquet, rows, stream)
        # Same stream: same schema and keys; only the replication differs.
        for output in (parquet, json_):
            assert output.schemas[stream]["schema"] == rows.schemas[stream]["schema"]
            assert (
                output.schemas[stream]["key_properties"] == rows.schemas[stream]["key_properties"]
            )
            assert output.schemas[stream].get("bookmark_properties") in (None, [])
    # Money (and the 3-decimal quantity) keep the API's digits in parquet too.
    spend, want_spend = parquet.keyed("spend"), rows.keyed("spend")
    digits = ("amount", "amount_local", "quantity", "Amount", "Amount (amount_local)", "Quantity")
    for key, record in want_spend.items():
        for column in digits:
            if column in record:
                assert str(spend[key][column]) == str(record[column])
    amount = "Amount" if key_by == "label" else "amount"
    assert str(spend["SP-0000003"][amount]) == "12345678901234567.89"
    assert str(spend["SP-0000005"][amount]) == "9007199254740993.01"
    stamp = spend["SP-0000003"]["Updated At" if key_by == "label" else "updated_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    suppliers = parquet.records["suppliers"]
    tags = "Tags" if key_by == "label" else "tags"
    assert all(isinstance(r[tags], list) for r in suppliers)
    assert any(r[tags] for r in suppliers)
    assert any(r[tags] == [] for r in suppliers)


@pytest.mark.parametrize("export_format", ["parquet", "json"])
def test_export_lifecycle_with_several_files(
    sandbox_factory: Callable[..., RunningSandbox],
    caplog: pytest.LogCaptureFixture,
    export_format: str,
) -> None:
    server = sandbox_factory(export_file_rows=FILE_ROWS)
    server.admin.set_export_behaviour("succeed", delay_seconds=0.5)
    with caplog.at_level(logging.INFO):
        output = sync(export_config(server, export_format=export_format), streams=["spend"])
    messages = caplog.messages
    started = [m for m in messages if m.startswith("Started export")]
    assert len(started) == 1
    assert f"({export_format}, 19 columns)" in started[0]
    # Progress at every poll: queued/running while the export runs, then succeeded.
    progress = [match for m in messages if (match := PROGRESS.search(m))]
    assert len(progress) >= 3
    assert {m.group(2) for m in progress} >= {"running", "succeeded"}
    assert progress[-1].group(2) == "succeeded"
    assert len({m.group(1) for m in progress}) == 1
    downloads = [m for m in messages if m.startswith("Downloaded file")]
    assert len(downloads) == 5
    assert all(f"of 5 of export {progress[0].group(1)}" in m for m in downloads)
    # A full snapshot: every row once, with ACTIVATE_VERSION before the records.
    records = output.records("spend")
    assert len(records) == 3000
    assert len({r["id"] for r in records}) == 3000
    types = [m["type"] for m in output.messages if m.get("stream") == "spend"]
    assert types.index("ACTIVATE_VERSION") < types.index("RECORD")
    (activate,) = messages_of(output, "ACTIVATE_VERSION", "spend")
    versions = {m["version"] for m in messages_of(output, "RECORD", "spend")}
    assert versions == {activate["version"]}
    # The export was in state while in flight, and is gone from it once its rows are out.
    in_flight = [
        s["value"]["bookmarks"]["spend"][STATE_EXPORT]
        for s in output.of_type("STATE")
        if STATE_EXPORT in s["value"]["bookmarks"].get("spend", {})
    ]
    assert in_flight
    assert in_flight[0]["id"] == progress[0].group(1)
    assert in_flight[0]["request"]["format"] == export_format
    assert STATE_EXPORT not in output.final_state["bookmarks"]["spend"]


def test_export_sends_the_selected_fields_and_configured_filters(
    sandbox: RunningSandbox,
) -> None:
    filters = {"spend": {"currency": {"in": ["NOK", "EUR"]}, "amount": {"gte": 1000}}}
    properties = {"spend": ["id", "amount", "currency", "tags", "invoice_date"]}
    # Rows mode without its replication key, which it would add to the selection.
    rows_config = tap_config(sandbox, filters=filters, replication_keys={"spend": ""})
    rows = Decoded.of(sync(rows_config, streams=["spend"], properties=properties))
    export = Decoded.of(
        sync(export_config(sandbox, filters=filters), streams=["spend"], properties=properties)
    )
    records = export.records["spend"]
    assert records
    assert len(records) < 3000
    assert all(set(r) == set(properties["spend"]) for r in records)
    assert all(r["currency"] in {"NOK", "EUR"} and r["amount"] >= 1000 for r in records)
    assert export.emitted("spend") == rows.emitted("spend")


def test_table_sync_modes_choose_the_mode_per_table(sandbox: RunningSandbox) -> None:
    config = tap_config(
        sandbox, table_sync_modes={"suppliers": "export"}, export_poll_interval=POLL
    )
    catalog = {e["tap_stream_id"]: e for e in TapIgnite(config=config).catalog_dict["streams"]}
    suppliers = next(m for m in catalog["suppliers"]["metadata"] if m["breadcrumb"] == [])
    spend = next(m for m in catalog["spend"]["metadata"] if m["breadcrumb"] == [])
    assert suppliers["metadata"]["forced-replication-method"] == "FULL_TABLE"
    assert not suppliers["metadata"].get("valid-replication-keys")
    assert spend["metadata"]["valid-replication-keys"] == ["updated_at"]
    output = sync(config, streams=["spend", "suppliers"])
    assert messages_of(output, "ACTIVATE_VERSION", "suppliers")
    assert not messages_of(output, "ACTIVATE_VERSION", "spend")
    assert output.final_state["bookmarks"]["spend"]["replication_key"] == "updated_at"
    assert "replication_key" not in output.final_state["bookmarks"]["suppliers"]
    assert len(output.records("suppliers")) == 60


def test_a_catalog_replication_key_does_not_make_a_snapshot_incremental(
    sandbox: RunningSandbox,
) -> None:
    # A catalog saved from a rows-mode discovery names updated_at; export mode ignores it.
    rows_catalog = catalog_selecting(tap_config(sandbox), ["contracts"])
    config = export_config(sandbox)
    output = Output()
    TapIgnite(
        config=config, catalog=rows_catalog, message_writer=CapturingWriter(output)
    ).sync_all()
    assert len(output.records("contracts")) == 30
    assert messages_of(output, "ACTIVATE_VERSION", "contracts")
    assert "replication_key_value" not in output.final_state["bookmarks"]["contracts"]


class SlowWriter(CapturingWriter):
    """Holds the first record long enough for the other files' download URLs to expire."""

    def __init__(self, output: Output, pause: float) -> None:
        super().__init__(output)
        self.pause = pause

    def write_message(self, message: Message) -> None:
        super().write_message(message)
        if isinstance(message, RecordMessage):
            self._hold()

    def write_lines(self, lines: bytes) -> None:
        super().write_lines(lines)  # records written a chunk at a time
        self._hold()

    def _hold(self) -> None:
        if self.pause:
            time.sleep(self.pause)
            self.pause = 0


def test_an_expired_download_url_is_refreshed_by_polling_again(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory(export_file_rows=1000, url_ttl=1)
    config = export_config(server)
    output = Output()
    tap = TapIgnite(
        config=config,
        catalog=catalog_selecting(config, ["spend"]),
        message_writer=SlowWriter(output, pause=2.5),
    )
    with caplog.at_level(logging.DEBUG):
        tap.sync_all()
    refreshed = [m for m in caplog.messages if "expired (403); polling it for fresh URLs" in m]
    assert refreshed
    assert all("of export" in m for m in refreshed)
    records = output.records("spend")
    assert len(records) == 3000
    assert len({r["id"] for r in records}) == 3000
    # Signed URLs and the token stay out of the logs, even at DEBUG level.
    assert "signature=" not in caplog.text
    assert server.token not in caplog.text
    assert server.token not in output.text


def test_a_failed_export_stops_with_the_servers_error(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = sandbox_factory()
    server.admin.set_export_behaviour("fail")
    config = export_config(server, export_format="json")
    run = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["suppliers"]))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (line,) = [line for line in run.error_lines if "failed:" in line]
    assert re.search(
        r"Ignite export \S+ of table 'suppliers' failed: export_failed: the export failed", line
    )
    assert server.token not in run.stderr


def test_a_timeout_stops_naming_the_export_and_keeps_it_in_state(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = sandbox_factory()
    server.admin.set_export_behaviour("stall")
    config = export_config(server, export_timeout=1, export_poll_interval=0.2)
    catalog = catalog_selecting(config, ["contracts"])
    run = run_cli(tmp_path, config, catalog=catalog)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    states = [m["value"] for m in run.messages if m["type"] == "STATE"]
    export_id = states[-1]["bookmarks"]["contracts"][STATE_EXPORT]["id"]
    (line,) = [line for line in run.error_lines if "export_timeout" in line]
    assert f"export {export_id} of table 'contracts' did not finish within export_timeout" in line
    assert "last status 'running'" in line


def wait_for_status(server: RunningSandbox, export_id: str, status: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = requests.get(
            f"{server.url}/exports/{export_id}",
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=30,
        ).json()
        if body["status"] == status:
            return
        time.sleep(0.1)
    pytest.fail(f"export {export_id} never reached {status}")


def interrupted_run_state(
    server: RunningSandbox, tmp_path: Path, config: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """Run the CLI until the export is in flight, then kill it; returns (state, export id)."""
    config = {**config, "export_timeout": 0.5, "export_poll_interval": 0.1}
    run = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["spend"]))
    assert run.returncode == 1  # the export takes longer than the run waits
    state = [m["value"] for m in run.messages if m["type"] == "STATE"][-1]
    return state, state["bookmarks"]["spend"][STATE_EXPORT]["id"]


def test_a_killed_run_resumes_the_same_export(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = sandbox_factory(export_file_rows=FILE_ROWS)
    server.admin.set_export_behaviour("succeed", delay_seconds=3)
    config = export_config(server, export_poll_interval=0.1)
    catalog = catalog_selecting(config, ["spend"])
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    argv = [
        TAP_EXECUTABLE,
        "--config",
        str(tmp_path / "config.json"),
        "--catalog",
        str(tmp_path / "catalog.json"),
    ]
    state: dict[str, Any] | None = None
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        for line in process.stdout:
            message = msgspec.json.decode(line)
            if message["type"] == "STATE" and STATE_EXPORT in message["value"]["bookmarks"].get(
                "spend", {}
            ):
                state = message["value"]
                process.kill()  # dies while the export is in flight
                break
        process.wait(timeout=60)
    assert state is not None
    export_id = state["bookmarks"]["spend"][STATE_EXPORT]["id"]
    server.admin.set_export_behaviour("succeed")
    with caplog.at_level(logging.INFO):
        output = sync(config, streams=["spend"], state=state)
    assert not [m for m in caplog.messages if m.startswith("Started export")]
    assert any(f"Resuming export {export_id} of table 'spend'" in m for m in caplog.messages)
    downloads = [m for m in caplog.messages if m.startswith("Downloaded file")]
    assert downloads
    assert all(export_id in m for m in downloads)
    assert len({r["id"] for r in output.records("spend")}) == 3000
    assert STATE_EXPORT not in output.final_state["bookmarks"]["spend"]


def test_a_timed_out_export_is_resumed_by_the_next_run(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = sandbox_factory()
    server.admin.set_export_behaviour("succeed", delay_seconds=2)
    config = export_config(server, export_format="json")
    state, export_id = interrupted_run_state(server, tmp_path, config)
    with caplog.at_level(logging.INFO):
        output = sync(config, streams=["spend"], state=state)
    assert any(f"Resuming export {export_id}" in m for m in caplog.messages)
    assert not [m for m in caplog.messages if m.startswith("Started export")]
    assert len(output.records("spend")) == 3000


def test_a_resumed_export_whose_files_are_gone_is_replaced(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = sandbox_factory()
    server.admin.set_export_behaviour("succeed", delay_seconds=1)
    config = export_config(server)
    state, export_id = interrupted_run_state(server, tmp_path, config)
    wait_for_status(server, export_id, "succeeded")
    server.admin.delete_export_files(export_id)
    server.admin.set_export_behaviour("succeed")
    with caplog.at_level(logging.INFO):
        output = sync(config, streams=["spend"], state=state)
    messages = caplog.messages
    assert any(f"Resuming export {export_id}" in m for m in messages)
    assert any(
        "answered 404: the export's files are gone; starting a new export" in m for m in messages
    )
    (started,) = [m for m in messages if m.startswith("Started export")]
    assert export_id not in started
    assert len({r["id"] for r in output.records("spend")}) == 3000
    assert STATE_EXPORT not in output.final_state["bookmarks"]["spend"]


def test_a_failed_export_in_state_is_not_resumed(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = sandbox_factory()
    server.admin.set_export_behaviour("fail")
    config = export_config(server)
    run = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["spend"]))
    assert run.returncode == 1
    state = [m["value"] for m in run.messages if m["type"] == "STATE"][-1]
    export_id = state["bookmarks"]["spend"][STATE_EXPORT]["id"]
    server.admin.set_export_behaviour("succeed")
    with caplog.at_level(logging.INFO):
        output = sync(config, streams=["spend"], state=state)
    assert any(f"Export {export_id} in state failed (export_failed: " in m for m in caplog.messages)
    assert len([m for m in caplog.messages if m.startswith("Started export")]) == 1
    assert len(output.records("spend")) == 3000


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("unknown id", "unknown to Ignite (404); starting a new export"),
        ("other fields", "asked for other columns, filters or format; starting a new export"),
    ],
)
def test_an_export_in_state_that_cannot_serve_this_run_is_replaced(
    sandbox: RunningSandbox,
    caplog: pytest.LogCaptureFixture,
    change: str,
    expected: str,
) -> None:
    config = export_config(sandbox)
    request = {"fields": ["id", "name"], "filters": {}, "format": "parquet"}
    if change == "unknown id":
        properties = {"suppliers": ["id", "name"]}
    else:
        properties = {"suppliers": ["id", "name", "country"]}
    saved = {"id": "00000000-0000-4000-8000-000000000000", "request": request}
    state = {"bookmarks": {"suppliers": {STATE_EXPORT: saved}}}
    with caplog.at_level(logging.INFO):
        output = sync(config, streams=["suppliers"], properties=properties, state=state)
    assert any(expected in m for m in caplog.messages)
    assert len(output.records("suppliers")) == 60
    assert STATE_EXPORT not in output.final_state["bookmarks"]["suppliers"]


def test_unknown_table_in_table_sync_modes_is_a_settings_error(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    run = run_cli(tmp_path, tap_config(sandbox, table_sync_modes={"invoices": "export"}))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any(
        "table_sync_modes: unknown table 'invoices' (tables: classification_business_units" in line
        for line in run.error_lines
    )


def test_export_calls_and_downloads_are_retried_under_faults(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory(export_file_rows=500)
    server.admin.set_faults("429=0.1,500=0.15,reset=0.1")
    config = export_config(server, max_retries=10)
    with caplog.at_level(logging.DEBUG):
        output = sync(config, streams=["spend"])
    server.admin.set_faults("")
    records = output.records("spend")
    assert len(records) == 3000
    assert len({r["id"] for r in records}) == 3000
    retried = [m for m in caplog.messages if m.startswith("Retrying ")]
    assert retried
    # Each retry names the request it repeats: the export calls and the downloads.
    paths = {m.split()[1] for m in retried}
    assert all(p.startswith(("/tables/spend/exports", "/exports/", "/downloads/")) for p in paths)
    assert any(p.startswith("/downloads/") for p in paths)
    assert "signature=" not in caplog.text
    assert server.token not in caplog.text


def test_an_empty_snapshot_still_activates_a_new_version(sandbox: RunningSandbox) -> None:
    # Nothing matches: the target must still learn that the table is now empty.
    filters = {"spend": {"currency": {"eq": "XXX"}}}
    for export_format in ("parquet", "json"):
        output = sync(
            export_config(sandbox, filters=filters, export_format=export_format),
            streams=["spend"],
        )
        assert output.records("spend") == []
        assert len(messages_of(output, "ACTIVATE_VERSION", "spend")) == 1


def test_a_corrupt_parquet_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "spend-00001.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    shaper = RecordShaper([Column("id", "ID", "STRING", ())], {"id": "id"}, decimal_strings=False)
    with pytest.raises(FatalAPIError, match=r"Export file spend-00001\.parquet is not a readable"):
        list(shaper.parquet_records(path))


# -- records written a chunk at a time ---------------------------------------------------


class _Line(msgspec.Struct):
    """A RECORD line with its record's bytes as written."""

    type: str
    stream: str
    record: msgspec.Raw
    version: int | None = None
    time_extracted: str | None = None


def _record_bytes(output: Output) -> list[tuple[str, bytes]]:
    lines = [line for line in output.lines if line.startswith(b'{"type":"RECORD"')]
    return [(m.stream, bytes(m.record)) for m in map(msgspec.json.Decoder(_Line).decode, lines)]


@pytest.mark.parametrize("export_format", ["parquet", "json"])
def test_snapshot_records_in_chunks_are_the_bytes_of_the_sdks_record_loop(
    sandbox_factory: Callable[..., RunningSandbox],
    monkeypatch: pytest.MonkeyPatch,
    export_format: str,
) -> None:
    """The chunked writer emits what the SDK's per-record loop emits, message by message."""
    server = sandbox_factory(export_file_rows=FILE_ROWS)
    config = export_config(server, export_format=export_format)
    made_in_arrow = []
    arrow_lines = LineBuilder.lines

    def counted(self: LineBuilder, *args: Any) -> bytes | None:
        lines = arrow_lines(self, *args)
        made_in_arrow.append(lines is not None)
        return lines

    monkeypatch.setattr(LineBuilder, "lines", counted)
    chunked = sync(config)
    if export_format == "parquet":  # every batch of the sandbox's tables is made in Arrow
        assert made_in_arrow
        assert all(made_in_arrow)
    else:
        assert made_in_arrow == []
    # Any post_process hook, even one that changes nothing, takes the SDK's record loop.
    monkeypatch.setattr(SnapshotTableStream, "post_process", lambda self, row, context=None: row)
    per_record = sync(config)
    chunked_records = _record_bytes(chunked)
    assert len(chunked_records) > 3000  # every table, spend in 5 files
    assert chunked_records == _record_bytes(per_record)
    # Same messages in the same order: SCHEMA, ACTIVATE_VERSION, RECORDs, STATEs.
    kinds = [(m["type"], m.get("stream")) for m in chunked.messages]
    assert kinds == [(m["type"], m.get("stream")) for m in per_record.messages]
    assert chunked.final_state == per_record.final_state
    for message in chunked.of_type("RECORD"):
        assert isinstance(message["version"], int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|\+00:00)", message["time_extracted"])


@pytest.mark.parametrize(
    ("names", "as_struct"),
    [
        (["id", "Amount (amount)", "Beskrivelse æøå €", "tags", "due"], True),
        # msgspec does not escape renamed struct fields: such keys stay in dicts.
        (["id", "Amount (amount)", 'odd "key"\n', "tags", "back\\slash"], False),
    ],
)
def test_writer_chunk_of_records_is_byte_identical_to_one_message_each(
    names: list[str], *, as_struct: bool
) -> None:
    extracted = datetime.datetime(2026, 11, 23, 12, 30, 1, 123456, tzinfo=datetime.UTC)
    values = [
        ["SP-1", Decimal("12345678901234567.89"), 'é\u2028"', ["a", "b"], None],
        ["SP-2", Decimal("-0.10"), "", [], "2026-01-02"],
    ]
    row_type = record_struct(names)
    assert (row_type is not None) == as_struct
    dicts = [dict(zip(names, row, strict=True)) for row in values]
    rows = [row_type(*row) for row in values] if row_type else dicts
    per_message = Output()
    writer = CapturingWriter(per_message)
    for record in dicts:
        writer.write_message(
            RecordMessage(stream="spend", record=record, version=17, time_extracted=extracted)
        )
    chunked = Output()
    CapturingWriter(chunked).write_records("spend", rows, 17, extracted)
    assert chunked.lines == per_message.lines
    assert len(chunked.lines) == 2
    # Without version and time_extracted, both are left out, as RecordMessage leaves them.
    bare = Output()
    CapturingWriter(bare).write_records("spend", rows[:1], None, None)
    message = RecordMessage(stream="spend", record=dicts[0])
    assert bare.lines == [bytes(CapturingWriter(Output()).format_message(message))]


def test_stream_maps_take_the_sdks_record_loop(sandbox: RunningSandbox) -> None:
    """A stream map still applies to snapshot records (they leave the chunked path)."""
    config = export_config(
        sandbox,
        stream_maps={"suppliers": {"name_upper": "name.upper()", "__else__": None, "id": "id"}},
    )
    records = sync(config, streams=["suppliers"]).records("suppliers")
    plain = sync(export_config(sandbox), streams=["suppliers"]).records("suppliers")
    assert records
    assert all(set(r) == {"id", "name_upper"} for r in records)
    assert {r["id"]: r["name_upper"] for r in records} == {
        r["id"]: r["name"].upper() for r in plain
    }
