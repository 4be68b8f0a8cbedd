"""State, catalogs and settings the plugins did not write, each through the real CLI.

Files an orchestrator or a user hands over (--config, --state, --catalog) may be empty,
truncated or of another shape; a state may come from another version, another table or a
hand edit. The contract: one ERROR line that names the file (or setting) and the problem, exit
code 1, no traceback, and nothing read or imported; or, for an export kept in state that is not
this table's, a warning and a new export, never another table's rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox, run_sandbox
from tap_ignite.snapshot_stream import SnapshotTableStream
from tap_ignite.tap import TapIgnite

from tests.reliability.helpers import (
    SECRET,
    SPEND_FIELDS,
    TAP,
    Run,
    api_rows,
    catalog_of,
    figure,
    record_line,
    repository_ids,
    run,
    run_tap,
    run_target,
    schema_line,
    spend_record,
    state_line,
    tables,
)

SUPPLIER_SEGMENTS = "c1a5e0d2-4b7f-4c3e-9d21-5f8a6b0e7d13"  # a seeded legacy data table


@pytest.fixture(scope="module")
def ignite() -> Iterator[RunningSandbox]:
    with run_sandbox(spend_rows=200, seed=43, token=SECRET, legacy_rows=50) as server:
        yield server


def tap_config(server: RunningSandbox, **extra: Any) -> dict[str, Any]:
    return {"api_url": server.url, "api_token": server.token, **extra}


def message_of(error_line: str) -> str:
    """The logged message, without the timestamp, level and logger columns."""
    return error_line.rsplit("| ", 1)[-1]


def assert_stopped_before_any_data(run: Run, *fragments: str) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    error = message_of(run.the_error())
    for fragment in fragments:
        assert fragment in error, error
    assert run.stdout == ""  # nothing read, nothing written
    return error


# -- files that are not what they should be --------------------------------------------------

BAD_FILES = {
    "not JSON": ('{"bookmarks": {', "is not JSON (Expecting"),
    "a list": ("[1, 2]", "holds a JSON list, not an object"),
    "empty": ("", "is empty"),
}


@pytest.mark.parametrize("option", ["--config", "--state", "--catalog"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_file_for_the_tap_is_one_line_naming_it(
    option: str, case: str, ignite: RunningSandbox, tmp_path: Path
) -> None:
    content, problem = BAD_FILES[case]
    bad = tmp_path / f"bad{option.strip('-')}.json"
    bad.write_text(content, encoding="utf-8")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(ignite)), encoding="utf-8")
    argv = [TAP, "--config", str(bad if option == "--config" else config)]
    if option != "--config":
        argv += [option, str(bad)]

    result = run("tap-ignite", argv, timeout=120)

    error = assert_stopped_before_any_data(result, f"{option} file '{bad}' {problem}")
    figure("tap bad file", option=option, case=case, error=error.replace(str(tmp_path), "…"))


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        ({"bookmarks": []}, "'bookmarks' is a JSON list, not an object of streams"),
        ({"bookmarks": {"spend": "2026-01-01"}},
         "the bookmark of stream 'spend' is a JSON string, not an object"),
    ],
)  # fmt: skip
def test_a_state_of_another_shape_is_one_line(
    state: dict[str, Any], fragment: str, ignite: RunningSandbox, tmp_path: Path
) -> None:
    result = run_tap(tmp_path, tap_config(ignite), state=state)
    assert_stopped_before_any_data(result, "--state file '", fragment)


def test_a_catalog_that_is_not_a_singer_catalog_is_one_line(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    no_streams = run_tap(tmp_path / "a", tap_config(ignite), catalog={"tables": []})
    assert_stopped_before_any_data(no_streams, "has no 'streams' list")
    no_id = run_tap(tmp_path / "b", tap_config(ignite), catalog={"streams": [{"stream": "x"}]})
    assert_stopped_before_any_data(no_id, "is not a Singer catalog: missing 'tap_stream_id'")


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_config_file_for_the_target_is_one_line(case: str, tmp_path: Path) -> None:
    content, problem = BAD_FILES[case]
    bad = tmp_path / "target-config.json"
    bad.write_text(content, encoding="utf-8")
    target = str(Path(TAP).parent / "target-ignite")

    result = run("target-ignite", [target, "--config", str(bad)], stdin=b"", timeout=120)

    error = assert_stopped_before_any_data(result, f"--config file '{bad}' {problem}")
    figure("target bad file", case=case, error=error.replace(str(tmp_path), "…"))


# -- bookmarks that are not values of their column -------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ("suppliers", "yesterday", "TIMESTAMP", "updated_at"),
        ("suppliers", 20260115, "TIMESTAMP", "updated_at"),
        ("contracts", {"gte": "2026-01-01"}, "TIMESTAMP", "updated_at"),
        ("datatable_supplier_segments", "last week", "TIMESTAMP", "Last Modified"),
    ],
)
def test_a_bookmark_that_is_not_a_value_of_its_column_stops_before_any_table_is_read(
    case: tuple[str, Any, str, str], ignite: RunningSandbox, tmp_path: Path
) -> None:
    stream, value, data_type, key = case
    config = tap_config(ignite, data_table_ids=[SUPPLIER_SEGMENTS])
    state = {"bookmarks": {stream: {"replication_key": key, "replication_key_value": value}}}

    result = run_tap(tmp_path, config, state=state)

    error = assert_stopped_before_any_data(
        result,
        f"state: the bookmark of stream '{stream}' is {value!r}, which is not a {data_type} "
        f"value for its replication key '{key}'",
    )
    figure("tap bad bookmark", stream=stream, value=value, error=error)


def test_a_bad_bookmark_of_a_stream_not_selected_does_not_stop_the_run(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    config = tap_config(ignite)
    state = {"bookmarks": {"suppliers": {"replication_key": "updated_at",
                                         "replication_key_value": "yesterday"}}}  # fmt: skip
    result = run_tap(tmp_path, config, state=state, catalog=catalog_of(config, ["contracts"]))
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(result.records("contracts")) == 2  # 200 spend rows: 4 suppliers, 2 contracts


# -- an export in state that is not this table's export ---------------------------------------


def _export(server: RunningSandbox, entity: str, body: dict[str, Any]) -> str:
    """Start an export through the API and wait until it succeeded; its id."""
    headers = {"Authorization": f"Bearer {server.token}"}
    created = requests.post(
        f"{server.url}/tables/{entity}/exports", json=body, headers=headers, timeout=60
    )
    created.raise_for_status()
    export_id = str(created.json()["id"])
    for _ in range(600):
        status = requests.get(f"{server.url}/exports/{export_id}", headers=headers, timeout=60)
        if status.json()["status"] == "succeeded":
            return export_id
        time.sleep(0.1)
    pytest.fail(f"export {export_id} did not succeed")


@pytest.mark.parametrize(
    "case",
    ["another table's, as Ignite says", "another table's, as state says", "another format",
     "other columns", "not an export"],
)  # fmt: skip
def test_an_export_in_state_is_resumed_only_for_the_same_table_and_request(
    case: str, ignite: RunningSandbox, tmp_path: Path
) -> None:
    config = tap_config(ignite, table_sync_modes={"suppliers": "export"})
    catalog = catalog_of(config, ["suppliers"])
    stream = TapIgnite(config=config, catalog=catalog).streams["suppliers"]
    assert isinstance(stream, SnapshotTableStream)
    request = stream.export_request()
    assert request["format"] == "parquet"
    spend = {"fields": ["id", "amount"], "format": "parquet"}
    if case == "another table's, as Ignite says":  # a state kept before "entity" was
        saved: Any = {"id": _export(ignite, "spend", spend), "request": request}
        expected = f"Export {saved['id']} in state is of table 'spend' (as Ignite describes it)"
    elif case == "another table's, as state says":
        saved = {"id": _export(ignite, "spend", spend), "entity": "spend", "request": request}
        expected = f"Export {saved['id']} in state is of table 'spend', not 'suppliers'"
    elif case == "another format":  # the state's request matches; Ignite's export is json
        saved = {"id": _export(ignite, "suppliers", {**request, "format": "json"}),
                 "entity": "suppliers", "request": request}  # fmt: skip
        expected = f"Export {saved['id']} in state for table 'suppliers' is in json, not parquet"
    elif case == "other columns":
        other = {**request, "fields": ["id"]}
        saved = {"id": _export(ignite, "suppliers", other), "entity": "suppliers",
                 "request": other}  # fmt: skip
        expected = f"Export {saved['id']} in state for table 'suppliers' (fields) asked for other"
    else:
        saved = "95e90b56-5cd0-4d9a-a07b-52f5205731ac"
        expected = "Table 'suppliers': 'export_in_flight' in state is not an export"
    state = {"bookmarks": {"suppliers": {"export_in_flight": saved}}}

    result = run_tap(tmp_path, config, state=state, catalog=catalog)

    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert any(expected in w and w.endswith("; starting a new export") for w in warnings), warnings
    truth = {row["id"] for row in api_rows(ignite, table_of(ignite, "suppliers"))}
    records = result.records("suppliers")
    assert {r["id"] for r in records} == truth  # this table's rows, every one, no other's
    assert len(records) == len(truth)
    assert set(records[0]) == set(request["fields"])
    assert "export_in_flight" not in result.states[-1]["bookmarks"]["suppliers"]
    figure("tap foreign export", case=case, warning=message_of(next(w for w in warnings
                                                                   if expected in w)))  # fmt: skip


def table_of(server: RunningSandbox, table_id: str) -> dict[str, Any]:
    return next(t for t in tables(server) if t["id"] == table_id)


# -- target settings checked before data moves -------------------------------------------------

_count = iter(range(1, 10_000))


def new_repository(server: RunningSandbox, name: str | None = None) -> dict[str, Any]:
    return server.admin.create_repository(name or f"Foreign{next(_count)}", SPEND_FIELDS)


def five_records_then(bad: bytes) -> bytes:
    """SCHEMA; records 1, 2, 3; STATE 3; records 4, 5; `bad` at line 8; record 7."""
    lines = [schema_line()]
    for i in range(1, 6):
        lines.append(record_line(spend_record(i)))
        if i == 3:
            lines.append(state_line({"position": 3}))
    return b"".join([*lines, bad, record_line(spend_record(7))])


@pytest.mark.parametrize(
    ("template", "fragments"),
    [
        ("{stream} {strem} batch {batch}", ["has unknown placeholder(s) {strem}"]),
        ("{stream.upper} {batch}", ["has unknown placeholder(s) {stream.upper}"]),
        ("{stream} {batch:q}", ["cannot be filled in: Unknown format code 'q'"]),
        ("{stream!z} {batch}", ["cannot be filled in: Unknown conversion specifier z"]),
        ("{stream} batch {batch:>300}",
         ["import names of every stream into repository 'Foreign", "would be up to 307 "
          "characters", "Ignite takes at most 255"]),
        ("{repository} {stream} {batch}",
         ["import names of stream 'spend' into repository 'RRRR", "would be up to 256 "
          "characters"]),
    ],
)  # fmt: skip
def test_an_import_name_template_that_cannot_work_is_a_settings_error(
    template: str, fragments: list[str], ignite: RunningSandbox, tmp_path: Path
) -> None:
    repository = new_repository(ignite)
    long_name = new_repository(ignite, "R" * 242)
    settings = {"api_url": ignite.url, "api_token": ignite.token,
                "repository_id": repository["id"], "import_name_template": template,
                "stream_repositories": {"spend": long_name["id"]}}  # fmt: skip
    if "{repository}" not in template:
        del settings["stream_repositories"]
    before = len(ignite.admin.imports())

    result = run_target(tmp_path, settings, five_records_then(record_line(spend_record(6))))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error = message_of(result.the_error())
    assert "import_name_template" in error
    for fragment in fragments:
        assert fragment in error, error
    assert len(ignite.admin.imports()) == before
    assert result.states == []
    figure("target bad template", template=template, error=error[:300])


def test_a_stream_whose_import_names_would_be_too_long_stops_at_its_schema(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    """Stream names come with the input: checked at the stream's SCHEMA, before its rows; the
    records of the streams before it are imported and their STATE written."""
    repository = new_repository(ignite)
    long_stream = "s" * 230  # 230 + " <load_started> batch <batch>" > 255
    settings = {"api_url": ignite.url, "api_token": ignite.token,
                "repository_id": repository["id"]}  # fmt: skip

    result = run_target(tmp_path, settings, five_records_then(schema_line(stream=long_stream)))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error = message_of(result.the_error())
    assert error.startswith(f"line 8 (stream '{long_stream}'): import_name_template: ")
    assert "would be up to 265 characters" in error
    assert repository_ids(ignite, repository["id"]) == [1, 2, 3, 4, 5]
    assert result.states == [{"position": 3}]


def test_a_repository_reference_that_is_one_repository_s_id_and_another_s_name_is_ambiguous(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    first = new_repository(ignite)
    second = new_repository(ignite, first["id"])  # named as the first one's id
    settings = {"api_url": ignite.url, "api_token": ignite.token,
                "repository_id": first["id"]}  # fmt: skip

    result = run_target(tmp_path, settings, five_records_then(record_line(spend_record(6))))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error = message_of(result.the_error())
    assert f"repository_id: '{first['id']}' is ambiguous" in error
    assert f"the id of repository '{first['name']}'" in error
    assert f"the name of '{second['name']}' ({second['id']})" in error
    assert repository_ids(ignite, first["id"]) == []
    assert repository_ids(ignite, second["id"]) == []
    assert result.states == []
    figure("target ambiguous repository", error=error)
