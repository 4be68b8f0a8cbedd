"""SIGKILL mid-run, then a rerun from the last STATE the killed run emitted.

A STATE is a promise: everything before it is done. So a rerun from the last STATE of a killed
run may repeat work (at least once) but never skips any. For the tap that means every row is
in the records before its last STATE or in the rerun; for the target, every record is in the
repository, and the only rows there twice are those of the import in flight (applied, but
killed before its STATE went out).
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.reliability.helpers import (
    DECODER,
    SPEND_FIELDS,
    api_rows,
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
    target_argv,
)
from tests.reliability.processes import Lines

TARGET_RECORDS = 30_000
TARGET_BATCH_ROWS = 2_000
# STATE every 1,500 records: not aligned with batches, as a tap's STATE seldom is.
STATE_EVERY = 1_500
KILL_AFTER_IMPORTS = 4


def test_tap_killed_mid_sync_resumes_from_its_last_state_without_losing_a_row(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = secret_sandbox(spend_rows=3000, seed=21)
    truth = {t["id"]: {str(r[key_of(t)]) for r in api_rows(server, t)} for t in tables(server)}
    config = {"api_url": server.url, "api_token": server.token, "page_size": 500}

    process = subprocess.Popen(
        tap_argv(tmp_path / "killed", config),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=plugin_env(),
    )
    assert process.stdout is not None
    errors = Lines(process.stderr)
    errors.start()
    before_state: dict[str, set[str]] = {stream: set() for stream in truth}
    unacknowledged: list[tuple[str, str]] = []
    last_state: dict[str, Any] | None = None
    per_stream: Counter[str] = Counter()
    for raw in process.stdout:
        remember("tap-ignite (killed)", raw)
        message = DECODER.decode(raw)
        if message["type"] == "RECORD":
            stream = message["stream"]
            unacknowledged.append((stream, str(message["record"][key_of_stream(stream)])))
            per_stream[stream] += 1
            # Streams go in name order: classifications and contracts are done by now.
            if per_stream["spend"] == 1200:
                process.send_signal(signal.SIGKILL)
                break
        elif message["type"] == "STATE":
            last_state = message["value"]
            for stream, key in unacknowledged:
                before_state[stream].add(key)
            unacknowledged.clear()
    process.wait(timeout=60)
    errors.join(timeout=10)
    remember("tap-ignite (killed, stderr)", b"".join(errors.lines))
    assert process.returncode == -signal.SIGKILL
    assert last_state is not None
    contracts_bookmark = last_state["bookmarks"]["contracts"]["replication_key_value"]
    assert "suppliers" not in last_state["bookmarks"]

    rerun = run_tap(tmp_path / "rerun", config, state=last_state)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    for stream, keys in truth.items():
        resumed = {str(r[key_of_stream(stream)]) for r in rerun.records(stream)}
        missing = keys - before_state[stream] - resumed
        assert not missing, f"{stream}: {len(missing)} rows lost, e.g. {sorted(missing)[:3]}"
    # A finished incremental table is not read again in full: only rows on its bookmark.
    assert {r["updated_at"] for r in rerun.records("contracts")} == {contracts_bookmark}
    # Full-table tables (no updated_at) and the table in flight are read again in full.
    assert len(rerun.records("classification_business_units")) == 3000
    assert len(rerun.records("spend")) == 3000
    figure("tap SIGKILL", killed_after_records=sum(per_stream.values()),
           confirmed={s: len(k) for s, k in before_state.items()},
           rerun={s: len(rerun.records(s)) for s in truth})  # fmt: skip


def key_of_stream(stream: str) -> str:
    return "spend_id" if stream.startswith("classification_") else "id"


def _kill_target_mid_load(
    server: RunningSandbox, repository_id: str, argv: list[str], singer_input: bytes
) -> tuple[list[Any], int]:
    """Feed the target, SIGKILL it once KILL_AFTER_IMPORTS imports have landed; returns the
    STATE values it printed and how many imports the repository had at the kill."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=plugin_env(),
    )
    assert process.stdin is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    out.start()
    err.start()

    def feed() -> None:
        try:
            assert process.stdin is not None
            process.stdin.write(singer_input)
            process.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # killed while we were still writing, as intended

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    deadline = time.monotonic() + 300
    landed = 0
    while landed < KILL_AFTER_IMPORTS:
        assert process.poll() is None, b"".join(err.lines).decode()[-3000:]
        assert time.monotonic() < deadline, "the target made too few imports"
        time.sleep(0.02)
        landed = sum(1 for i in server.admin.imports() if i["dataRepositoryId"] == repository_id)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    out.join(timeout=10)
    err.join(timeout=10)
    feeder.join(timeout=10)
    remember("target-ignite (killed)", b"".join(out.lines), b"".join(err.lines))
    assert process.returncode == -signal.SIGKILL
    states = [json.loads(raw) for raw in out.lines if raw.strip()]
    return states, landed


@pytest.mark.parametrize("import_format", ["json", "csv"])
def test_target_killed_mid_load_rerun_from_its_last_state_keeps_every_record(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path, import_format: str
) -> None:
    server = secret_sandbox(spend_rows=10, seed=22)
    repository = server.admin.create_repository(f"Killed-{import_format}", SPEND_FIELDS)
    config = {"api_url": server.url, "api_token": server.token,
              "repository_id": repository["id"], "batch_size_rows": TARGET_BATCH_ROWS,
              "import_format": import_format}  # fmt: skip
    everything = range(1, TARGET_RECORDS + 1)

    states, landed = _kill_target_mid_load(
        server,
        repository["id"],
        target_argv(tmp_path / "killed", config),
        spend_input(everything, state_every=STATE_EVERY),
    )
    first_run = repository_ids(server, repository["id"])
    assert landed >= KILL_AFTER_IMPORTS
    assert len(first_run) < TARGET_RECORDS  # killed mid-load, not after it
    # The source resumes after the last STATE the target confirmed (none: from the start).
    position = states[-1]["position"] if states else 0

    rerun = run_target(
        tmp_path / "rerun",
        config,
        spend_input(range(position + 1, TARGET_RECORDS + 1), state_every=STATE_EVERY),
    )

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    counts = Counter(repository_ids(server, repository["id"]))
    assert set(counts) == set(everything), "a record is missing"
    duplicated = {i for i, n in counts.items() if n > 1}
    assert max(counts.values()) <= 2
    # Duplicates are exactly the first run's rows after the confirmed position...
    assert duplicated == {i for i in first_run if i > position}
    # ...and they all come from the one import in flight when the target was killed.
    assert len(duplicated) <= TARGET_BATCH_ROWS
    figure(f"target SIGKILL ({import_format})", imports_at_kill=landed,
           rows_at_kill=len(first_run), confirmed_position=position,
           duplicated_rows=len(duplicated), records=TARGET_RECORDS)  # fmt: skip


def test_pipeline_with_the_target_killed_rerun_from_its_last_state_loses_no_row(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """tap-ignite | target-ignite, as Meltano runs it; the target is SIGKILLed mid-load and
    the tap dies of the broken pipe. The pipeline rerun from the target's last STATE puts
    every row of every table in its repository. What comes twice: rows of tables the killed
    run had not confirmed, and, of confirmed incremental tables, only the rows sitting on
    their bookmark (the tap's bound is inclusive)."""
    server = secret_sandbox(spend_rows=3000, seed=23)
    truth = {t["id"]: (key_of(t), api_rows(server, t)) for t in tables(server)}
    repositories = {name: server.admin.create_repository(f"Pipe-{name}", [])["id"]
                    for name in truth}  # fmt: skip
    tap_config = {"api_url": server.url, "api_token": server.token, "page_size": 1000}
    target_config = {"api_url": server.url, "api_token": server.token,
                     "stream_repositories": repositories, "batch_size_rows": 1000}  # fmt: skip

    tap = subprocess.Popen(
        tap_argv(tmp_path / "tap1", tap_config),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=plugin_env(),
    )
    target = subprocess.Popen(
        target_argv(tmp_path / "target1", target_config),
        stdin=tap.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=plugin_env(),
    )
    assert tap.stdout is not None
    tap.stdout.close()  # the target holds the pipe now: its death breaks the tap's writes
    out, err = Lines(target.stdout), Lines(target.stderr)
    out.start()
    err.start()
    deadline = time.monotonic() + 300
    # Two tables of 3000 rows are three imports each: kill in the middle of the third table.
    while len(server.admin.imports()) < 7:
        assert target.poll() is None, b"".join(err.lines).decode()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    target.send_signal(signal.SIGKILL)
    target.wait(timeout=60)
    tap.wait(timeout=120)
    out.join(timeout=10)
    err.join(timeout=10)
    remember("target-ignite (killed)", b"".join(out.lines), b"".join(err.lines))
    states = [json.loads(raw) for raw in out.lines if raw.strip()]
    assert states, "the target confirmed nothing, though whole tables had been imported"
    last_state = states[-1]
    first_run = {name: Counter(str(r[truth[name][0]]) for r in
                               server.admin.repository_rows(repo)) for name, repo in
                 repositories.items()}  # fmt: skip

    tap_run = subprocess.Popen(
        tap_argv(tmp_path / "tap2", tap_config, state=last_state),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=plugin_env(),
    )
    rerun = subprocess.run(
        target_argv(tmp_path / "target2", target_config),
        stdin=tap_run.stdout,
        capture_output=True,
        env=plugin_env(),
        timeout=600,
        check=False,
    )
    tap_run.wait(timeout=60)
    remember("target-ignite (rerun)", rerun.stdout, rerun.stderr)

    assert rerun.returncode == 0, rerun.stderr.decode()[-3000:]
    assert tap_run.returncode == 0
    duplicates: dict[str, int] = {}
    for name, (key, rows) in truth.items():
        stored = Counter(str(r[key]) for r in server.admin.repository_rows(repositories[name]))
        assert set(stored) == {str(row[key]) for row in rows}, f"{name}: a row is missing"
        twice = {k for k, n in stored.items() if n > 1}
        assert max(stored.values()) <= 2, name
        bookmark = last_state["bookmarks"].get(name, {}).get("replication_key_value")
        if bookmark is not None:
            # A table the killed run confirmed: only its rows on the bookmark came again.
            on_bookmark = {str(r[key]) for r in rows if r.get("updated_at") == bookmark}
            assert twice <= on_bookmark, name
        else:
            assert twice <= set(first_run[name]), name
        duplicates[name] = len(twice)
    figure("pipeline SIGKILL", confirmed=sorted(last_state["bookmarks"]),
           rows={n: len(r) for n, (_, r) in truth.items()}, duplicated_rows=duplicates)  # fmt: skip
