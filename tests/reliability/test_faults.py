"""The issue's fault mix against the real CLIs: every row arrives, exactly once where promised.

Faults come from the sandbox (`--faults`, `/_sandbox/faults`): 429 with Retry-After, 500/503,
a connection reset before the request is processed, and a 2.5 s stall before it is processed.
The truth is read from the sandbox's own API with faults off, before they are switched on.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ignite_sandbox.launcher import RunningSandbox

from tests.reliability.helpers import (
    DECODER,
    SPEND_FIELDS,
    api_rows,
    catalog_of,
    figure,
    key_of,
    plugin_env,
    remember,
    repository_ids,
    run_tap,
    run_target,
    spend_input,
    tables,
    tap_argv,
)

FAULTS = "429=0.1,500=0.05,reset=0.03,slow=0.02"
TARGET_RECORDS = 200_000
TARGET_BATCH_ROWS = 5_000


def test_tap_reads_every_row_of_every_table_under_faults(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = secret_sandbox(spend_rows=2000, seed=29)
    truth = {table["id"]: (key_of(table), api_rows(server, table)) for table in tables(server)}
    server.admin.set_faults(FAULTS)

    # Small pages: ~65 requests, so every kind of fault is drawn (seed 29: at least twice).
    run = run_tap(
        tmp_path, {"api_url": server.url, "api_token": server.token, "page_size": 100,
                   "max_retries": 12},
    )  # fmt: skip

    injected = server.admin.faults()["injected"]
    assert run.returncode == 0, run.stderr[-3000:]
    for kind in ("429", "500", "reset", "slow"):
        assert injected[kind] > 0, f"no '{kind}' fault was drawn: {injected}"
    for table_id, (key, rows) in truth.items():
        records = run.records(table_id)
        # Every id exactly once, and every value as the API serves it (numbers as Decimal).
        assert sorted(r[key] for r in records) == sorted(row[key] for row in rows), table_id
        assert {r[key]: r for r in records} == {row[key]: row for row in rows}, table_id
    assert sum(len(rows) for _, rows in truth.values()) == 6060
    retries = [line for line in run.stderr.splitlines() if "Retrying" in line]
    assert len(retries) >= injected["429"] + injected["500"] + injected["reset"]
    figure("tap faults", spec=FAULTS, injected=injected, retries=len(retries),
           records={t: len(rows) for t, (_, rows) in truth.items()})  # fmt: skip


def test_tap_reads_every_row_when_answers_are_lost(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """`lost`: the server did the work and dropped the connection. Reads are idempotent, so a
    retry of the same page (its token is bound to the body, not used up) is all it takes."""
    server = secret_sandbox(spend_rows=2000, seed=13)
    (spend,) = [table for table in tables(server) if table["id"] == "spend"]
    expected = sorted(row["id"] for row in api_rows(server, spend))
    config = {"api_url": server.url, "api_token": server.token, "page_size": 100,
              "max_retries": 12}  # fmt: skip
    catalog = catalog_of(config, ["spend"])
    server.admin.set_faults("lost=0.05")

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert server.admin.faults()["injected"]["lost"] > 0
    assert sorted(r["id"] for r in run.records("spend")) == expected
    figure("tap lost", injected=server.admin.faults()["injected"], records=len(expected))


def test_cursor_expired_mid_sync_loses_no_row(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """Every page token is expired after the first pages; the tap restarts the table and
    every row still arrives (rows before the expiry arrive twice: at least once)."""
    server = secret_sandbox(spend_rows=2000, seed=13)
    (spend,) = [table for table in tables(server) if table["id"] == "spend"]
    expected = sorted(row["id"] for row in api_rows(server, spend))
    config = {"api_url": server.url, "api_token": server.token, "page_size": 100}
    argv = tap_argv(tmp_path, config, catalog=catalog_of(config, ["spend"]))

    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=plugin_env()
    )
    assert process.stdout is not None
    assert process.stderr is not None
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.extend(process.stderr or []), daemon=True)
    drain.start()
    ids: list[str] = []
    expired_after = None
    for raw in process.stdout:
        remember("tap-ignite (stdout)", raw)
        message = DECODER.decode(raw)
        if message["type"] == "RECORD":
            ids.append(message["record"]["id"])
            if len(ids) == 250 and expired_after is None:  # two and a half pages in
                server.admin.expire_cursors()
                # The tap waits for this reader (its stdout pipe is full), but the page it
                # prefetched may have been answered just after the expiry, with a fresh
                # token: expire again once that answer is surely in.
                time.sleep(0.5)
                server.admin.expire_cursors()
                expired_after = len(ids)
    process.wait(timeout=300)
    drain.join(timeout=60)
    err = b"".join(stderr).decode("utf-8", "replace")
    remember("tap-ignite (stderr)", err)

    assert process.returncode == 0, err[-3000:]
    assert expired_after == 250
    assert "page token expired" in err
    assert set(ids) == set(expected)
    # The restart re-reads the table from its first page: the last pass is complete and ordered.
    assert ids[-len(expected) :] == expected
    assert len(ids) > len(expected)  # rows sent before the expiry were sent again
    figure("cursor expiry", rows=len(expected), records_sent=len(ids), expired_after=250)


def test_target_loads_200k_records_exactly_once_under_faults(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = secret_sandbox(spend_rows=10, seed=29)
    repository = server.admin.create_repository("Faulty200k", SPEND_FIELDS)
    singer_input = spend_input(range(1, TARGET_RECORDS + 1), state_every=10_000)
    server.admin.set_faults(FAULTS)

    run = run_target(
        tmp_path,
        {"api_url": server.url, "api_token": server.token, "repository_id": repository["id"],
         "batch_size_rows": TARGET_BATCH_ROWS, "max_retries": 12},
        singer_input,
        timeout=900,
    )  # fmt: skip

    injected = server.admin.faults()["injected"]
    assert run.returncode == 0, run.stderr[-3000:]
    for kind in ("429", "500", "reset", "slow"):
        assert injected[kind] > 0, f"no '{kind}' fault was drawn: {injected}"
    ids = repository_ids(server, repository["id"])
    # Every row once, in order: no batch lost, none doubled by a retry.
    assert len(ids) == TARGET_RECORDS
    assert ids == list(range(1, TARGET_RECORDS + 1))
    imports = [i for i in server.admin.imports() if i["dataRepositoryId"] == repository["id"]]
    assert [i["rows"] for i in imports] == [TARGET_BATCH_ROWS] * (TARGET_RECORDS // 5_000)
    assert len(Counter(i["importName"] for i in imports)) == len(imports)
    assert run.states[-1] == {"position": TARGET_RECORDS}
    # Exact money survived: a spot check against the input's own digits.
    rows = server.admin.repository_rows(repository["id"])
    assert str(rows[12344]["Amount"]) == "12345123456789.45"
    assert set(rows[0]) == set(SPEND_FIELDS)
    figure("target faults", spec=FAULTS, injected=injected, imports=len(imports),
           records=len(ids))  # fmt: skip
