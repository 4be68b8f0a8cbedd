"""Batches: row and byte caps, the delete query once per load, STATE after imports only."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
import requests
from ignite_sandbox.launcher import run_sandbox
from target_ignite.target import TargetIgnite

from tests.target_ignite.helpers import (
    DATA,
    Num,
    config_for,
    imports_of,
    rows_exact,
    run_target,
    singer_records,
)

PERIOD_FIELDS = ["Id", "Period", "SupplierName", "Amount"]


def _seed(server, repository_id, rows):
    """Rows already in Ignite before the load (as an earlier import put them there)."""
    response = requests.post(
        f"{server.url}/import/",
        json={"dataRepositoryId": repository_id, "importName": "earlier load", "data": rows},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    response.raise_for_status()


def test_delete_query_is_sent_once_over_several_batches(ignite, new_repository, tmp_path):
    repository = new_repository(PERIOD_FIELDS)
    old_march = [
        {"Id": i, "Period": "2026-03", "SupplierName": "Old", "Amount": 1} for i in range(5)
    ]
    february = [
        {"Id": i, "Period": "2026-02", "SupplierName": "Feb", "Amount": 2} for i in range(3)
    ]
    _seed(ignite, repository["id"], old_march + february)
    march = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-03"}})
    source = DATA / "delete_query_march_25_rows.singer"

    run = run_target(
        config_for(
            ignite, repository_id=repository["id"], delete_query_id=march, batch_size_rows=10
        ),
        source,
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    _earlier, *load = imports_of(ignite, repository["id"])
    assert [i["rows"] for i in load] == [10, 10, 5]
    # Only the first import of the load carries the delete query: it deleted the 5 old March
    # rows; the load's own second and third batches were not deleted by a second send.
    assert [i["deleteQueryId"] for i in load] == [march, None, None]
    assert [i["deletedRows"] for i in load] == [5, 0, 0]
    rows = rows_exact(ignite, repository["id"])
    assert [r["SupplierName"] for r in rows[:3]] == ["Feb"] * 3
    assert rows[3:] == singer_records(source)
    # Each STATE goes out once the records before it are imported (target_ignite/safe_state).
    assert run.states == [{"spend": 5}, {"spend": 10}, {"spend": 15}, {"spend": 20}, {"spend": 25}]
    assert f"delete query {march} was sent once" in run.stderr
    ids = ", ".join(i["importId"] for i in load)
    assert f"3 imports, 25 rows, {sum(i['bytes'] for i in load)} bytes" in run.stderr
    assert f"import ids: {ids}" in run.stderr


def test_stream_delete_query_and_repository_by_name(ignite, new_repository, tmp_path):
    repository = new_repository(PERIOD_FIELDS)
    _seed(
        ignite,
        repository["id"],
        [{"Id": 0, "Period": "2026-03", "SupplierName": "Old", "Amount": 1}],
    )
    march = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-03"}})

    run = run_target(
        config_for(
            ignite,
            stream_repositories={"spend": repository["name"]},
            stream_delete_queries={"spend": march},
        ),
        DATA / "delete_query_march_25_rows.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    _, load = imports_of(ignite, repository["id"])
    assert (load["rows"], load["deleteQueryId"], load["deletedRows"]) == (25, march, 1)
    assert len(rows_exact(ignite, repository["id"])) == 25


def test_stream_with_delete_query_and_no_records_sends_nothing(ignite, new_repository, tmp_path):
    repository = new_repository(PERIOD_FIELDS)
    _seed(
        ignite,
        repository["id"],
        [{"Id": 0, "Period": "2026-03", "SupplierName": "Old", "Amount": 1}],
    )
    march = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-03"}})

    run = run_target(
        config_for(ignite, repository_id=repository["id"], delete_query_id=march),
        DATA / "delete_query_stream_without_records.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    assert len(imports_of(ignite, repository["id"])) == 1  # the seed only
    assert len(rows_exact(ignite, repository["id"])) == 1
    assert f"delete query {march} was NOT sent: stream(s) spend had no records" in run.stderr
    assert run.states == [{"spend": 0}]


@pytest.fixture(scope="module")
def capped_server():
    """A sandbox that answers 413 above 2048 bytes."""
    with run_sandbox(spend_rows=10, max_body_bytes=CAP) as server:
        yield server


CAP = 2048


def test_batches_close_at_the_byte_cap_and_never_pass_it(capped_server, tmp_path):
    repository = capped_server.admin.create_repository("Capped", PERIOD_FIELDS)
    source = DATA / "sixty_rows_for_byte_caps.singer"

    run = run_target(
        config_for(capped_server, repository_id=repository["id"], batch_max_bytes=CAP),
        source,
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    imports = imports_of(capped_server, repository["id"])
    assert len(imports) >= 4
    assert all(i["bytes"] <= CAP for i in imports)
    # Closed because the next row would not fit, not any earlier: what is left is less than
    # a row (~120 bytes) plus the room kept for a delete query id (83 bytes).
    assert all(i["bytes"] > CAP - 120 - 83 for i in imports[:-1])
    assert sum(i["rows"] for i in imports) == 60
    assert rows_exact(capped_server, repository["id"]) == singer_records(source)


# Every row of the file is 106-108 bytes as an ndjson line, 62-64 as a CSV line.
@pytest.mark.parametrize("case", [("ndjson", 106, 108), ("csv", 62, 64)])
def test_file_batches_are_capped_on_their_uncompressed_bytes(case, capped_server, tmp_path):
    import_format, shortest_line, longest_line = case
    repository = capped_server.admin.create_repository(f"Capped {import_format}", PERIOD_FIELDS)
    source = DATA / "sixty_rows_for_byte_caps.singer"

    run = run_target(
        config_for(
            capped_server,
            repository_id=repository["id"],
            batch_max_bytes=CAP,
            import_format=import_format,
        ),
        source,
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    imports = imports_of(capped_server, repository["id"])
    assert len(imports) == -(-60 * (shortest_line + longest_line) // 2 // CAP)  # ceil
    # Each file holds no more rows than the cap has room for, uncompressed, and is closed
    # only when one more row would not fit.
    assert all(i["rows"] * shortest_line <= CAP for i in imports)
    assert all((i["rows"] + 1) * longest_line + 40 > CAP for i in imports[:-1])
    assert sum(i["rows"] for i in imports) == 60
    assert len(rows_exact(capped_server, repository["id"])) == 60


def test_rows_cap_and_byte_cap_whichever_comes_first(ignite, new_repository, tmp_path):
    repository = new_repository(PERIOD_FIELDS)

    run = run_target(
        config_for(
            ignite, repository_id=repository["id"], batch_size_rows=7, batch_max_bytes=100_000
        ),
        DATA / "sixty_rows_for_byte_caps.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    assert [i["rows"] for i in imports_of(ignite, repository["id"])] == [7] * 8 + [4]


def test_payload_too_large_stops_with_the_server_message_and_import_name(capped_server, tmp_path):
    server = capped_server
    repository = server.admin.create_repository("Small", PERIOD_FIELDS)

    run = run_target(
        config_for(server, repository_id=repository["id"], batch_max_bytes=8192),
        DATA / "sixty_rows_for_byte_caps.singer",
        tmp_path,
    )

    assert run.returncode == 1
    (error,) = run.error_lines
    assert "import 'spend " in error
    assert "batch 1'" in error
    assert "HTTP 413 payload_too_large: request body is larger than 2048 bytes" in error
    assert "Traceback" not in run.stderr
    assert imports_of(server, repository["id"]) == []
    assert run.states == []
    # The summary still says what is in Ignite now: nothing from this load.
    assert f"Repository 'Small' ({repository['id']}): 0 imports, 0 rows" in run.stderr


def _state_line(n: int) -> str:
    return f'{{"type":"STATE","value":{{"spend":{n}}}}}\n'


def test_state_is_emitted_only_after_every_record_before_it_is_imported(sandbox_factory):
    """Drain after every message (max record age 0): state goes out as imports succeed, and
    stops at the last one whose records all made it when an import fails."""
    server = sandbox_factory(spend_rows=10, max_body_bytes=1024)
    repository = server.admin.create_repository("Stateful", PERIOD_FIELDS)
    schema = (DATA / "delete_query_march_25_rows.singer").read_text().splitlines()[0] + "\n"
    lines = [schema]
    for i in range(1, 7):
        supplier = "x" * (1500 if i == 5 else 5)  # record 5 makes its import too large
        lines.append(
            f'{{"type":"RECORD","stream":"spend","record":{{"Id":{i},"Period":"2026-07",'
            f'"SupplierName":"{supplier}","Amount":{i}.5}}}}\n'
        )
        lines.append(_state_line(i))
    target = TargetIgnite(config=config_for(server, repository_id=repository["id"]))
    target._MAX_RECORD_AGE_IN_MINUTES = 0  # every message drains every sink

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.raises(Exception, match="HTTP 413"):
        target.listen(io.StringIO("".join(lines)))

    states = [int(m) for m in re.findall(r'\{"spend": (\d+)\}', stdout.getvalue())]
    imported = [int(r["Id"].text) for r in rows_exact(server, repository["id"])]
    assert imported == [1, 2, 3, 4]
    # STATE n goes out as soon as record n is imported; the import of record 5 failed, so
    # STATE 5 never went out.
    assert states == [1, 2, 3, 4]
    assert rows_exact(server, repository["id"])[0]["Amount"] == Num("1.5")


def test_streams_sharing_a_repository_send_its_delete_query_once(ignite, new_repository, tmp_path):
    """Two streams, one repository, a schema change (a new sink) half-way: still one delete."""
    repository = new_repository([*PERIOD_FIELDS, "Currency"])
    _seed(
        ignite,
        repository["id"],
        [
            {"Id": 0, "Period": "2026-03", "SupplierName": "Old", "Amount": 1},
            {"Id": -1, "Period": "2026-02", "SupplierName": "Feb", "Amount": 2},
        ],
    )
    march = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-03"}})
    streams = ("spend_norway", "spend_sweden")

    run = run_target(
        config_for(
            ignite,
            stream_repositories=dict.fromkeys(streams, repository["id"]),
            stream_delete_queries=dict.fromkeys(streams, march),
            batch_size_rows=3,
        ),
        DATA / "two_streams_one_repository_schema_change.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    _, *load = imports_of(ignite, repository["id"])
    assert sum(i["rows"] for i in load) == 17
    assert [i["deleteQueryId"] for i in load] == [march] + [None] * (len(load) - 1)
    assert load[0]["deletedRows"] == 1
    names = {r["SupplierName"] for r in rows_exact(ignite, repository["id"])}
    assert names == {"Feb"} | {f"NO {i}" for i in range(1, 11)} | {f"SE {i}" for i in range(1, 8)}
    # Batch numbers go on across the stream's second sink: names stay unique.
    assert len({i["importName"] for i in load}) == len(load)
    assert run.states == [{"norway": 10, "sweden": 7}]


def test_streams_of_one_repository_must_agree_on_its_delete_query(ignite, new_repository, tmp_path):
    repository = new_repository([*PERIOD_FIELDS, "Currency"])
    march = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-03"}})
    april = ignite.admin.create_delete_query(repository["id"], {"Period": {"eq": "2026-04"}})

    run = run_target(
        config_for(
            ignite,
            repository_id=repository["id"],
            stream_delete_queries={"spend_norway": march, "spend_sweden": april},
        ),
        DATA / "two_streams_one_repository_schema_change.singer",
        tmp_path,
    )

    assert run.returncode == 1
    (error,) = run.error_lines
    where = f"stream 'spend_sweden' -> repository '{repository['name']}'"
    assert f"line 2 (stream 'spend_sweden'): {where}" in error
    assert f"delete query {april} differs from {march}" in error
    assert imports_of(ignite, repository["id"]) == []


def test_activate_version_says_what_the_delete_query_does(ignite, new_repository, tmp_path):
    repository = new_repository(["id", "name"])
    query = ignite.admin.create_delete_query(repository["id"], {"name": {"eq": "Old"}})

    run = run_target(
        config_for(ignite, repository_id=repository["id"], delete_query_id=query),
        DATA / "activate_version_says_what_happens_to_removed_rows.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    # Once per stream, though the tap sent two; no SDK warning about _sdc_ columns.
    said = [line for line in run.stderr.splitlines() if "ACTIVATE_VERSION" in line]
    assert len(said) == 1
    assert "| INFO" in said[0]
    assert f"delete query {query} replaces the rows of repository" in said[0]
    assert "_sdc_deleted_at" not in run.stderr
    assert len(rows_exact(ignite, repository["id"])) == 2
