"""`dry_run`: every check a real load makes, every import built as it would be sent, none sent.

Each test runs the real CLI against the sandbox, then the same input as a real load, and holds
the dry run to what the real load then did: the same imports (names, rows, bytes, SHA-256 of
the very body or file), the delete query on the same import, the same stop at the same line
with the same error. Between the target and the sandbox sits a recording proxy, so "only
repositories were read" is checked on the wire, not taken from the target's word.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import typing as t

import pytest
import requests

from tests.reliability.scripted_server import Forward, scripted_server
from tests.target_ignite.helpers import (
    DATA,
    TARGET_EXECUTABLE,
    config_for,
    imports_of,
    rows_exact,
    run_target,
)

if t.TYPE_CHECKING:
    from pathlib import Path

    from ignite_sandbox.launcher import RunningSandbox

PERIOD_FIELDS = ["Id", "Period", "SupplierName", "Amount"]
# Import names without the load's start time, so a dry run and a real load build the same
# bodies (and the same SHA-256s).
SAME_NAMES = "{stream} batch {batch}"


def _seed(server: RunningSandbox, repository_id: str, rows: list[dict[str, t.Any]]) -> None:
    """Rows already in Ignite before the load (as an earlier import put them there)."""
    response = requests.post(
        f"{server.url}/import/",
        json={"dataRepositoryId": repository_id, "importName": "earlier load", "data": rows},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    response.raise_for_status()


def _planned(plan: dict[str, t.Any], repository_id: str) -> list[tuple[t.Any, ...]]:
    (part,) = [r for r in plan["repositories"] if r["id"] == repository_id]
    return [
        (i["import_name"], i["rows"], i["bytes"], i["format"], i["sha256"], i["delete_query_id"])
        for i in part["imports"]
    ]


def _received(receipts_path: Path) -> list[tuple[t.Any, ...]]:
    lines = receipts_path.read_text(encoding="utf-8").splitlines()
    return [
        (r["import_name"], r["rows"], r["bytes"], r["format"], r["sha256"], r["delete_query_id"])
        for r in map(json.loads, lines)
    ]


@pytest.mark.parametrize("import_format", ["json", "csv"])
def test_dry_run_sends_nothing_and_plans_exactly_what_the_real_load_then_does(
    ignite: RunningSandbox,
    new_repository: t.Callable[..., dict[str, t.Any]],
    tmp_path: Path,
    import_format: str,
) -> None:
    repository = new_repository([*PERIOD_FIELDS, "Country"])
    old_march = [
        {"Id": i, "Period": "2026-03", "SupplierName": "Old", "Amount": 1} for i in range(5)
    ]
    _seed(ignite, repository["id"], old_march)
    march = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-03"}})
    before_rows = rows_exact(ignite, repository["id"])
    before_imports = imports_of(ignite, repository["id"])
    source = DATA / "delete_query_march_25_rows.singer"
    settings = {
        "repository_id": repository["id"],
        "delete_query_id": march,
        "batch_size_rows": 10,
        "import_format": import_format,
        "import_name_template": SAME_NAMES,
    }
    plan_path = tmp_path / "plans" / "plan.json"

    with scripted_server(lambda request: Forward(ignite.url)) as proxy:
        dry = run_target(
            {
                **config_for(ignite, **settings),
                "api_url": proxy.url,
                "dry_run": True,
                "dry_run_plan_path": str(plan_path),
            },
            source,
            tmp_path,
        )
        seen = [(r.method, r.path) for r in proxy.requests]

    assert dry.returncode == 0, dry.stderr[-3000:]
    # Ignite was only asked for its repositories: no import, no delete query, nothing else.
    assert seen == [("GET", "/repositories/")]
    assert imports_of(ignite, repository["id"]) == before_imports
    assert rows_exact(ignite, repository["id"]) == before_rows
    assert dry.stdout == ""  # no STATE: Meltano must not advance its bookmarks
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    assert (plan["would_succeed"], plan["exit_code"], plan["stop"]) == (True, 0, None)
    planned = _planned(plan, repository["id"])
    assert [p[1] for p in planned] == [10, 10, 5]
    assert [p[5] for p in planned] == [march, None, None]
    (part,) = plan["repositories"]
    assert part["delete_query_with_import"] == "spend batch 1"
    (columns,) = part["columns"]
    assert columns["sent"] == PERIOD_FIELDS
    assert columns["fields"] == {name: name for name in PERIOD_FIELDS}
    assert columns["fields_not_filled"] == ["Country"]
    # The plan a person reads, on stderr.
    assert f"DRY RUN: nothing was sent to {proxy.url}" in dry.stderr
    assert f"delete query {march}: applied once, with import 1 'spend batch 1'" in dry.stderr
    assert "repository fields no column fills (left empty): Country" in dry.stderr
    assert "total: 3 import(s), 25 rows" in dry.stderr
    assert "Outcome: the real load would succeed (exit code 0)." in dry.stderr

    receipts_path = tmp_path / "receipts.jsonl"
    real = run_target(
        config_for(ignite, **settings, receipts_path=str(receipts_path)), source, tmp_path
    )

    assert real.returncode == 0, real.stderr[-3000:]
    # The real load made the imports the dry run planned, byte for byte, in the same order,
    # with the delete query on the same one.
    assert _received(receipts_path) == planned
    load = imports_of(ignite, repository["id"])[len(before_imports) :]
    assert [(i["importName"], i["rows"], i["payloadSha256"], i["deleteQueryId"]) for i in load] == [
        (p[0], p[1], p[4], p[5]) for p in planned
    ]
    assert [i["deletedRows"] for i in load] == [5, 0, 0]


def _over_the_byte_cap(tmp_path: Path) -> Path:
    """Line 8 is a record bigger than one import may carry (`batch_max_bytes` 1024)."""
    lines = (DATA / "malformed_line_8_breaks_schema.singer").read_text().splitlines()
    record = {"Id": 6, "Period": "2026-06", "SupplierName": "x" * 2000, "Amount": 6.5}
    lines[7] = json.dumps({"type": "RECORD", "stream": "spend", "record": record})
    path = tmp_path / "line_8_over_the_byte_cap.singer"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Input whose line 8 stops a real load: the check that stops it, and what the error says.
STOPS = {
    "schema": (DATA / "malformed_line_8_breaks_schema.singer", "record breaks its schema"),
    "NaN": (DATA / "malformed_line_8_nan_amount.singer", "not valid JSON"),
    "not JSON": (DATA / "malformed_line_8_not_json.singer", "not valid JSON"),
    "byte cap": (None, "more than one import may carry (batch_max_bytes 1024)"),
}


@pytest.mark.parametrize("check", STOPS)
def test_dry_run_stops_at_the_bad_record_where_the_real_load_stops(
    ignite: RunningSandbox,
    new_repository: t.Callable[..., dict[str, t.Any]],
    tmp_path: Path,
    check: str,
) -> None:
    repository = new_repository(PERIOD_FIELDS)
    source, says = STOPS[check]
    source = source or _over_the_byte_cap(tmp_path)
    settings = {
        "repository_id": repository["id"],
        "batch_size_rows": 2,
        "batch_max_bytes": 1024,
        "import_name_template": SAME_NAMES,
    }
    plan_path = tmp_path / "plan.json"

    dry = run_target(
        config_for(ignite, **settings, dry_run=True, dry_run_plan_path=str(plan_path)),
        source,
        tmp_path,
    )

    assert dry.returncode == 1
    assert dry.stdout == ""  # no STATE, not even the one before the bad line
    assert imports_of(ignite, repository["id"]) == []
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    assert plan["would_succeed"] is False
    assert plan["exit_code"] == 1
    assert plan["stop"]["line"] == 8
    (error,) = dry.error_lines
    assert error.endswith(plan["stop"]["error"])
    assert plan["stop"]["error"].startswith("line 8 (stream 'spend'): ")
    assert says in plan["stop"]["error"]
    assert "then STOP at line 8 (exit code 1): line 8 (stream 'spend')" in dry.stderr

    receipts_path = tmp_path / "receipts.jsonl"
    real = run_target(
        config_for(ignite, **settings, receipts_path=str(receipts_path)), source, tmp_path
    )

    # The same line, the same error, the same exit code; the records before it imported in
    # the imports the dry run planned.
    assert real.returncode == 1
    assert real.error_lines[0].split("| ERROR", 1)[1] == error.split("| ERROR", 1)[1]
    planned = _planned(plan, repository["id"])
    assert [p[1] for p in planned] == [2, 2, 1]
    assert _received(receipts_path) == planned
    load = imports_of(ignite, repository["id"])
    assert [(i["importName"], i["payloadSha256"]) for i in load] == [(p[0], p[4]) for p in planned]
    assert real.states == [{"spend": 3}]


SENT_AND_SAID = {
    "warn": (["SupplierName", "Amount", "Colour"], "not repository fields, sent anyway "
             "(unknown_fields: warn): Colour"),
    "drop": (["SupplierName", "Amount"], "not repository fields, dropped "
             "(unknown_fields: drop): Colour"),
}  # fmt: skip


@pytest.mark.parametrize("unknown_fields", SENT_AND_SAID)
def test_dry_run_plan_maps_columns_to_repository_fields(
    ignite: RunningSandbox,
    new_repository: t.Callable[..., dict[str, t.Any]],
    tmp_path: Path,
    unknown_fields: str,
) -> None:
    sent, line = SENT_AND_SAID[unknown_fields]
    repository = new_repository(["SupplierName", "Amount", "Country"])
    plan_path = tmp_path / "plan.json"

    dry = run_target(
        config_for(
            ignite,
            repository_id=repository["id"],
            unknown_fields=unknown_fields,
            dry_run=True,
            dry_run_plan_path=str(plan_path),
        ),
        DATA / "field_colour_not_in_repository.singer",
        tmp_path,
    )

    assert dry.returncode == 0, dry.stderr[-3000:]
    ((columns,),) = [r["columns"] for r in json.loads(plan_path.read_text())["repositories"]]
    assert columns["sent"] == sent
    assert columns["unknown"] == ["Colour"]
    assert columns["fields"] == {name: (name if name != "Colour" else None) for name in sent}
    assert columns["fields_not_filled"] == ["Country"]
    assert line in dry.stderr
    assert imports_of(ignite, repository["id"]) == []


def test_dry_run_with_unknown_fields_error_stops_as_the_real_load_does(
    ignite: RunningSandbox, new_repository: t.Callable[..., dict[str, t.Any]], tmp_path: Path
) -> None:
    repository = new_repository(["SupplierName", "Amount"])
    config = config_for(ignite, repository_id=repository["id"], unknown_fields="error")
    source = DATA / "field_colour_not_in_repository.singer"

    dry = run_target({**config, "dry_run": True}, source, tmp_path)
    real = run_target(config, source, tmp_path)

    assert (dry.returncode, real.returncode) == (1, 1)
    assert [e.split("| ERROR", 1)[1] for e in dry.error_lines] == [
        e.split("| ERROR", 1)[1] for e in real.error_lines
    ]
    assert "unknown_fields is 'error'" in dry.error_lines[0]
    assert "then STOP at line 1 (exit code 1)" in dry.stderr
    assert dry.stdout == ""
    assert imports_of(ignite, repository["id"]) == []


def test_a_dry_run_stopped_by_sigterm_says_so_and_writes_no_state(
    ignite: RunningSandbox, new_repository: t.Callable[..., dict[str, t.Any]], tmp_path: Path
) -> None:
    repository = new_repository(PERIOD_FIELDS)
    config_path = tmp_path / "config.json"
    plan_path = tmp_path / "plan.json"
    config = config_for(
        ignite,
        repository_id=repository["id"],
        batch_size_rows=10,
        dry_run=True,
        dry_run_plan_path=str(plan_path),
    )
    config_path.write_text(json.dumps(config), encoding="utf-8")
    lines = (DATA / "delete_query_march_25_rows.singer").read_text().splitlines()
    process = subprocess.Popen(
        [TARGET_EXECUTABLE, "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stderr is not None
    said: list[bytes] = []
    reader = threading.Thread(target=lambda: said.extend(process.stderr or []), daemon=True)
    reader.start()
    process.stdin.write(("\n".join(lines[:14]) + "\n").encode())  # 12 records, 2 STATEs
    process.stdin.flush()  # and the input stays open: the load is mid-way
    deadline = time.monotonic() + 60
    while not any(b"(dry run, not sent)" in line for line in said):
        assert time.monotonic() < deadline, b"".join(said).decode()[-3000:]
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.stdout is not None
    stdout = process.stdout.read()  # stderr is the reader's alone
    process.wait(timeout=60)
    reader.join(timeout=10)
    stderr = b"".join(said).decode()

    assert process.returncode == 128 + signal.SIGTERM
    assert stdout == b""
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    assert plan["exit_code"] == 128 + signal.SIGTERM
    assert plan["stop"] == {"line": None, "error": "stopped by SIGTERM"}
    assert [i["rows"] for i in plan["repositories"][0]["imports"]] == [10]
    assert "then STOP (exit code 143): stopped by SIGTERM" in stderr
    assert imports_of(ignite, repository["id"]) == []
