"""The fast per-record path gives exactly what the SDK's steps give, and steps aside otherwise."""

from __future__ import annotations

import copy
import datetime
import io
import json
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from singer_sdk.helpers._flattening import FlatteningOptions
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.json import serialize_json
from target_ignite import rows
from target_ignite.errors import ImportFailed
from target_ignite.in_flight import ImportInFlight
from target_ignite.records import DateColumns, Flattening, array_text
from target_ignite.sinks import IgniteSink
from target_ignite.target import TargetIgnite

from tests.target_ignite.helpers import DATA, config_for, rows_exact, run_target

FLAT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "amount": {"type": ["number", "null"]},
        "day": {"type": ["string", "null"], "format": "date"},
        "posted": {"type": ["string", "null"], "format": "date-time"},
        "at": {"type": ["string", "null"], "format": "time"},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "other": {},
    },
}
NESTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "supplier": {"type": "object", "properties": {"name": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
OPTIONS = FlatteningOptions(enabled=True, max_level=10)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    st.decimals(allow_nan=False, allow_infinity=False),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)),
    st.sampled_from(['a"b', "back\\slash", "tab\there", "nl\n", "del\x7f", "\x1f", "Ærø", "€"]),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, max_size=5) | st.lists(JSON_VALUES, max_size=4))
def test_array_text_is_the_sdks_text(value):
    assert array_text(value) == serialize_json(value)


def sdk_flattened(schema: dict, record: dict) -> dict | None:
    return SameRecordTransform("s", schema, None, OPTIONS).transform(copy.copy(record))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schema=st.sampled_from([FLAT_SCHEMA, NESTED_SCHEMA]),
    record=st.dictionaries(
        st.sampled_from(["id", "amount", "tags", "supplier", "other", "new", "type"]),
        JSON_VALUES,
    ),
)
def test_flattening_gives_the_sdks_record(schema, record):
    stream_map = SameRecordTransform("s", schema, None, OPTIONS)
    before = copy.deepcopy(record)

    flattened = Flattening(stream_map).apply(record)

    expected = sdk_flattened(schema, record)
    assert expected is not None
    assert flattened == expected
    assert list(flattened) == list(expected)  # the same column order
    assert flattened is not record
    assert record == before


def test_flattening_skips_the_sdk_only_for_plain_records(monkeypatch):
    stream_map = SameRecordTransform("s", FLAT_SCHEMA, None, OPTIONS)
    flattening = Flattening(stream_map)
    calls: list[dict] = []

    def transform(record: dict) -> dict:
        calls.append(record)
        return record

    monkeypatch.setattr(stream_map, "transform", transform)

    assert flattening.apply({"id": "a", "tags": ["x", "y"]}) == {"id": "a", "tags": '["x","y"]'}
    assert calls == []
    flattening.apply({"id": "a", "other": {"nested": 1}})  # an object: the SDK flattens it
    flattening.apply({"id": "a", "unknown": 1})  # a field the schema lacks
    assert len(calls) == 2


def test_flattening_off_copies_the_record():
    stream_map = SameRecordTransform("s", NESTED_SCHEMA, None, FlatteningOptions(enabled=False))
    record = {"id": "a", "supplier": {"name": "b"}, "tags": ["x"]}
    flattened = Flattening(stream_map).apply(record)
    assert flattened == record
    assert flattened is not record


DATE_TEXT = st.one_of(
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")),
    st.times().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2026-03-01", "20260301", "2026-W09-7", "2026-02-30", "2026-3-1",
            "2026-03-01T12:00:00Z", "2026-03-01T12:00:00+00:00", "2026-03-01T12:00:00.000000Z",
            "2026-03-01T12:00:00.5Z", "2026-03-01t12:00:00Z", "2026-03-01T24:00:00Z",
            "12:00:00", "12:00:00Z", "12:00", "not a date", "",
        ]
    ),
)  # fmt: skip


def parsed_then_written(kind: str, text: str) -> str:
    """What the SDK's parse and `iso_text` made of a date value before the fast path."""
    if kind == "date":
        return rows.iso_text(datetime.date.fromisoformat(text))
    if kind == "time":
        return rows.iso_text(datetime.time.fromisoformat(text))
    return rows.iso_text(datetime.datetime.fromisoformat(text))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["day", "posted", "at"]), text=DATE_TEXT)
def test_dates_stay_text_only_when_the_row_would_have_that_text(kind, text):
    columns = DateColumns(FLAT_SCHEMA)
    record = {"id": "a", kind: text}
    if columns.keep_text(record):
        schema_kind = FLAT_SCHEMA["properties"][kind]["format"]
        assert parsed_then_written(schema_kind, text) == text


def test_dates_in_their_written_form_stay_text_and_others_go_to_the_sdk():
    columns = DateColumns(FLAT_SCHEMA)
    assert columns.keep_text(
        {"day": "2026-03-01", "posted": "2026-03-01T12:00:00Z", "at": None, "amount": 1}
    )
    assert columns.keep_text({"posted": "2026-03-02T23:59:59.123456+02:00"})
    assert not columns.keep_text({"posted": "2026-03-01T12:00:00+00:00"})  # written as Z
    assert not columns.keep_text({"day": "2026-02-30"})  # invalid: the SDK's error
    assert not columns.keep_text({"day": 20260301})
    assert not columns.keep_text({"id": "a", "unknown": "x"})  # the SDK warns about it
    # Texts found good are remembered; bad ones never are.
    assert columns.keep_text({"day": "2026-03-01"})
    assert not columns.keep_text({"day": "2026-02-30"})
    assert not columns.keep_text({"posted": "2026-03-01"})  # a date is no date-time text


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.text(max_size=4),
        st.one_of(SCALARS, st.sampled_from(["E-", "1E-7"])),
        max_size=4,
    )
)
def test_json_rows_are_the_same_bytes_as_writing_decimals_one_by_one(row):
    expected = rows._encoder.encode(rows._row_for_json(row))
    assert rows.JsonRows().encode(row) == expected
    assert rows.NdjsonRows().encode(row) == expected + b"\n"


# -- the target's fast path ---------------------------------------------------------------


def schemas_and_records(path: Path) -> str:
    """A `.singer` file's SCHEMA and RECORD lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if json.loads(line)["type"] in {"SCHEMA", "RECORD"})


def encoded_rows(target: TargetIgnite, stream: str, source: str) -> bytes:
    """Feed lines through the target's reader without draining at the end; the bytes its
    sink would import."""
    target.process_lines(io.StringIO(source))
    sink = target.get_sink(stream)
    assert isinstance(sink, IgniteSink)
    batches = [*sink._sealed, *([sink._open] if sink._open else [])]
    return b"|".join(bytes(batch.content) for batch in batches)


@pytest.mark.parametrize("import_format", ["json", "ndjson", "csv"])
@pytest.mark.parametrize(
    "case",
    [
        (DATA / "exact_values.singer", "spend", None),
        (
            DATA / "nested_records.singer",
            "invoices",
            ["id", "supplier__name", "supplier__address__city", "supplier__address__geo__lat",
             "tags", "lines", "extra"],
        ),
    ],
)  # fmt: skip
def test_fast_path_rows_are_the_sdk_paths_rows(
    ignite, new_repository, monkeypatch, import_format, case
):
    source, stream, fields = case
    spend = json.loads(source.read_text(encoding="utf-8").splitlines()[0])
    repository = new_repository(fields or list(spend["schema"]["properties"]))
    config = config_for(ignite, repository_id=repository["id"], import_format=import_format)
    source_lines = schemas_and_records(source)

    fast = encoded_rows(TargetIgnite(config=config), stream, source_lines)
    slow_target = TargetIgnite(config=config)
    monkeypatch.setattr(slow_target, "_plain_route", lambda message: None)
    slow = encoded_rows(slow_target, stream, source_lines)

    assert fast == slow
    assert fast


SCHEMA_MESSAGE = {
    "type": "SCHEMA",
    "stream": "spend",
    "schema": {"type": "object", "properties": {"Id": {"type": "integer"}}},
    "key_properties": ["Id"],
}
RECORD_MESSAGE = {"type": "RECORD", "stream": "spend", "record": {"Id": 1}}


@pytest.mark.parametrize(
    ("settings", "fast"),
    [
        ({}, True),
        ({"flattening_enabled": False}, True),
        ({"add_record_metadata": True}, False),
        ({"stream_maps": {"spend": {"Id2": "Id"}}}, False),
        ({"stream_maps": {"spend": {"__filter__": "Id > 1"}}}, False),
        ({"stream_maps": {"copy": {"__source__": "spend"}}}, False),
    ],
)
def test_fast_path_steps_aside_for_stream_maps_and_record_metadata(
    ignite, new_repository, settings, fast
):
    repository = new_repository(["Id", "Id2"])
    target = TargetIgnite(config=config_for(ignite, repository_id=repository["id"], **settings))
    target.process_lines(io.StringIO(json.dumps(SCHEMA_MESSAGE)))

    assert (target._plain_route(RECORD_MESSAGE) is not None) is fast
    assert target._plain_route({"type": "RECORD", "stream": "spend"}) is None
    assert target._plain_route({"type": "RECORD", "stream": "other", "record": {}}) is None


def test_sdk_path_with_metadata_and_maps_still_loads(ignite, new_repository, tmp_path):
    repository = new_repository(["Id", "Amount", "_sdc_sequence"])
    source = "\n".join(
        json.dumps(message)
        for message in [
            SCHEMA_MESSAGE | {"schema": {"properties": {"Id": {"type": "integer"},
                                                         "Amount": {"type": "number"}}}},
            {"type": "RECORD", "stream": "spend", "record": {"Id": 1, "Amount": 1.10}},
            {"type": "RECORD", "stream": "spend", "record": {"Id": 2, "Amount": 2}},
        ]
    )  # fmt: skip
    config = config_for(
        ignite,
        repository_id=repository["id"],
        add_record_metadata=True,
        unknown_fields="drop",
        stream_maps={"spend": {"__filter__": "Id > 1"}},
    )

    run = run_target(config, source, tmp_path)

    assert run.returncode == 0, run.stderr
    (row,) = rows_exact(ignite, repository["id"])
    assert row["Id"].text == "2"
    assert isinstance(row["_sdc_sequence"].text, str)
    assert Decimal(row["Amount"].text) == 2


# -- one import in flight ---------------------------------------------------------------------


def test_imports_run_one_at_a_time_in_order_and_what_follows_waits():
    imports = ImportInFlight()
    done: list[str] = []
    release = threading.Event()

    def first() -> None:
        release.wait(5)
        done.append("first")

    imports.submit(first)
    imports.after(lambda: done.append("state after first"))
    imports.check()  # still running: nothing happens
    assert done == []
    release.set()
    imports.submit(lambda: done.append("second"))  # waits for the first
    assert done == ["first", "state after first"]
    imports.wait()
    assert done == ["first", "state after first", "second"]
    imports.after(lambda: done.append("now"))  # nothing running: at once
    assert done[-1] == "now"


def test_a_failed_import_raises_in_the_main_thread_and_drops_what_followed():
    imports = ImportInFlight()
    written: list[str] = []

    def fail() -> None:
        msg = "import 'spend batch 3': HTTP 413"
        raise ImportFailed(msg)

    imports.submit(fail)
    imports.after(lambda: written.append("STATE"))
    with pytest.raises(ImportFailed, match="batch 3"):
        imports.wait()
    assert written == []
    assert imports.settle() is None  # reported once


def test_check_raises_a_failure_as_soon_as_it_is_known():
    imports = ImportInFlight()

    def fail() -> None:
        msg = "boom"
        raise ImportFailed(msg)

    imports.submit(fail)
    deadline = time.monotonic() + 5
    with pytest.raises(ImportFailed, match="boom"):  # noqa: PT012 - polls until it is done
        while time.monotonic() < deadline:
            imports.check()
            time.sleep(0.01)
