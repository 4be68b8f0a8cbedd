"""SIGTERM and SIGINT sent to the real CLIs at the moments that used to hang or lie.

Orchestrators stop runs with SIGTERM, terminals with SIGINT. For each plugin and each moment
(a request stalled, a retry waiting, the next page prefetched, input arriving faster than
imports are made, an import in flight, the plugin blocked writing to a slow reader) the test
holds it to: the process ends within seconds (plus, at most, the import in flight), with exit
code 128 + the signal's number, without a traceback; the last STATE it wrote is true (every
record before it is on stdout / in the repository); a second signal ends it at once. Each
prints `FIGURE` lines with the seconds from the signal to the exit.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from tests.reliability.helpers import (
    SECRET,
    SPEND_FIELDS,
    api_rows,
    figure,
    key_of,
    repository_ids,
    run_tap,
    spend_input,
    tables,
    tap_argv,
    target_argv,
)
from tests.reliability.processes import Child
from tests.reliability.scripted_server import (
    SPEND_TABLE,
    Forward,
    Reply,
    Request,
    ScriptedServer,
    Stall,
    export_rows_page,
    page_start,
    scripted_server,
)

# Generous: a hang is what these bounds catch, not a slow machine.
EXIT_BOUND = 30


@pytest.fixture(scope="module")
def ignite() -> Iterator[RunningSandbox]:
    """One sandbox for the module: the tap reads it, each target test has its repository."""
    with run_sandbox(spend_rows=3000, seed=21, token=SECRET) as server:
        yield server


_count = iter(range(1, 10_000))


def assert_stopped_by(child: Child, signum: int, seconds: float) -> None:
    assert child.returncode == 128 + signum, child.stderr()[-3000:]
    stderr = child.stderr()
    assert f"Received {signal.Signals(signum).name}: stopping" in stderr
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "ERROR" not in stderr, stderr[-3000:]
    assert seconds < EXIT_BOUND


# -- tap-ignite -------------------------------------------------------------------------------


def export_api(stall_from_page: int | None = None, *, retry_after: str | None = None) -> Any:
    """A one-table Export API: 3 rows a page; from page `stall_from_page` on, no answer; or
    every rows request a 429 with `retry_after`."""

    def script(request: Request) -> Reply | Stall:
        if request.method == "GET":
            return Reply.json(200, [SPEND_TABLE])
        if retry_after is not None:
            return Reply.json(429, {"error": "rate_limited"}, **{"Retry-After": retry_after})
        if stall_from_page is not None and page_start(request) // 3 + 1 >= stall_from_page:
            return Stall()
        return export_rows_page(request, rows=30, page_size=3)

    return script


def test_tap_stops_while_the_next_page_is_stalled(tmp_path: Path) -> None:
    signum = signal.SIGINT
    with scripted_server(export_api(stall_from_page=2)) as server:
        config = {"api_url": server.url, "api_token": SECRET}
        child = Child("tap-ignite", tap_argv(tmp_path, config))
        # Page 1 read, page 2 asked for (on the prefetch thread) and never answered.
        child.wait_for(lambda: len(server.seen("POST", "/tables/spend/rows")) >= 2, "page 2")
        child.send(signum)
        seconds = child.finish(timeout=EXIT_BOUND)
    assert_stopped_by(child, signum, seconds)
    # Page 1's records were still buffered (writer.py): no STATE would claim them, so they
    # are not written on the way out (nor is any STATE).
    assert [m["type"] for m in child.messages()] == ["SCHEMA"]
    name = signal.Signals(signum).name
    figure(f"tap {name}, next page stalled", seconds_to_exit=round(seconds, 2))


def test_tap_stops_at_once_while_a_retry_waits(tmp_path: Path) -> None:
    # The server asks for 120 s: within max_retry_after, so the tap would wait that long.
    with scripted_server(export_api(retry_after="120")) as server:
        config = {"api_url": server.url, "api_token": SECRET, "max_retry_after": 300}
        child = Child("tap-ignite", tap_argv(tmp_path, config))
        child.wait_for(lambda: "Retrying /tables/spend/rows in 12" in child.stderr(), "a retry")
        child.send(signal.SIGTERM)
        seconds = child.finish(timeout=EXIT_BOUND)
        # The retry it was waiting for never went out.
        assert len(server.seen("POST", "/tables/spend/rows")) == 1
    assert_stopped_by(child, signal.SIGTERM, seconds)
    figure("tap SIGTERM, retry waiting 120 s", seconds_to_exit=round(seconds, 2))


def test_tap_stops_while_discovery_is_stalled(tmp_path: Path) -> None:
    with scripted_server(lambda request: Stall()) as server:
        config = {"api_url": server.url, "api_token": SECRET}
        child = Child("tap-ignite", tap_argv(tmp_path, config))
        child.wait_for(lambda: len(server.seen("GET", "/tables/")) == 1, "GET /tables/")
        child.send(signal.SIGTERM)
        seconds = child.finish(timeout=EXIT_BOUND)
    assert_stopped_by(child, signal.SIGTERM, seconds)
    assert child.stdout_lines() == []
    figure("tap SIGTERM, discovery stalled", seconds_to_exit=round(seconds, 2))


def stream_of_key(stream: str) -> str:
    return "spend_id" if stream.startswith("classification_") else "id"


def test_tap_sigterm_mid_sync_keeps_its_last_state_true(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    truth = {t["id"]: {str(r[key_of(t)]) for r in api_rows(ignite, t)} for t in tables(ignite)}
    # Pages of `spend` take 0.3 s each, so the signal surely comes in the middle of it.
    spend_path = "/tables/spend/rows"
    proxy = proxy_to(ignite, spend_path, lambda request: Forward(ignite.url, delay=0.3))
    try:
        config = {"api_url": proxy.url, "api_token": ignite.token, "page_size": 500}
        child = Child("tap-ignite (SIGTERM)", tap_argv(tmp_path / "stopped", config))
        child.wait_for(lambda: len(proxy.seen("POST", spend_path)) >= 3, "3 pages of spend")
        child.send(signal.SIGTERM)
        seconds = child.finish(timeout=EXIT_BOUND)
    finally:
        proxy.stop()
    assert_stopped_by(child, signal.SIGTERM, seconds)

    # Every line is whole; records before the last STATE are what it claims.
    before_state: dict[str, set[str]] = {stream: set() for stream in truth}
    unconfirmed: list[tuple[str, str]] = []
    last_state: dict[str, Any] | None = None
    for message in child.messages():
        if message["type"] == "RECORD":
            stream = message["stream"]
            unconfirmed.append((stream, str(message["record"][stream_of_key(stream)])))
        elif message["type"] == "STATE":
            last_state = message["value"]
            for stream, key in unconfirmed:
                before_state[stream].add(key)
            unconfirmed.clear()
    assert last_state is not None
    assert "spend" not in last_state["bookmarks"]  # the table in flight is not confirmed
    config["api_url"] = ignite.url
    rerun = run_tap(tmp_path / "rerun", config, state=last_state)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    for stream, keys in truth.items():
        resumed = {str(r[stream_of_key(stream)]) for r in rerun.records(stream)}
        missing = keys - before_state[stream] - resumed
        assert not missing, f"{stream}: {len(missing)} rows lost, e.g. {sorted(missing)[:3]}"
    figure("tap SIGTERM mid-sync", seconds_to_exit=round(seconds, 2),
           records_before_signal=sum(len(k) for k in before_state.values()),
           rerun_records={s: len(rerun.records(s)) for s in truth})  # fmt: skip


def test_tap_blocked_writing_finishes_the_write_then_stops(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    """A SIGTERM while the reader is slow: the message being written goes out whole first."""
    config = {"api_url": ignite.url, "api_token": ignite.token, "page_size": 500}
    child = Child("tap-ignite (slow reader)", tap_argv(tmp_path, config), read_stdout=False)
    child.wait_for(lambda: child.stdout_pipe_bytes() >= 60_000, "a full stdout pipe")
    child.send(signal.SIGTERM)
    time.sleep(1)
    assert child.process.poll() is None, child.stderr()  # still writing: no reader yet
    child.read_stdout()
    seconds = child.finish(timeout=EXIT_BOUND)
    assert_stopped_by(child, signal.SIGTERM, seconds)
    assert child.messages()  # every line decodes: none was cut
    assert child.stdout_lines()[-1].endswith(b"\n")


def test_tap_second_signal_ends_it_at_once(ignite: RunningSandbox, tmp_path: Path) -> None:
    config = {"api_url": ignite.url, "api_token": ignite.token, "page_size": 500}
    child = Child("tap-ignite (stuck reader)", tap_argv(tmp_path, config), read_stdout=False)
    child.wait_for(lambda: child.stdout_pipe_bytes() >= 60_000, "a full stdout pipe")
    child.send(signal.SIGTERM)
    time.sleep(1)
    assert child.process.poll() is None  # waits for a reader that never comes
    second = time.monotonic()
    child.send(signal.SIGTERM)
    child.read_stdout()
    child.finish(timeout=EXIT_BOUND)
    seconds = time.monotonic() - second
    assert child.returncode == 128 + signal.SIGTERM
    assert "Received SIGTERM again: exiting at once" in child.stderr()
    figure("tap second SIGTERM", seconds_to_exit=round(seconds, 2))


# -- target-ignite ----------------------------------------------------------------------------


def proxy_to(ignite: RunningSandbox, path: str, answer: Any) -> ScriptedServer:
    """A server in front of the sandbox: POSTs to `path...` are answered by `answer(request)`,
    every other request is passed on as it is."""

    def script(request: Request) -> Any:
        if request.method == "POST" and request.path.startswith(path):
            return answer(request)
        return Forward(ignite.url)

    return ScriptedServer(script).start()


def start_target(
    tmp_path: Path,
    proxy: ScriptedServer,
    repository: dict[str, Any],
    *,
    records: int = 1_000,
    state_every: int = 100,
    **settings: Any,
) -> Child:
    """target-ignite through `proxy` into `repository`, fed `records` spend records (imports of
    500, a STATE every `state_every`)."""
    config = {"api_url": proxy.url, "api_token": SECRET, "repository_id": repository["id"],
              "batch_size_rows": 500, **settings}  # fmt: skip
    singer_input = spend_input(range(1, records + 1), state_every=state_every)
    return Child("target-ignite", target_argv(tmp_path, config), stdin=singer_input)


def new_repository(ignite: RunningSandbox) -> dict[str, Any]:
    return ignite.admin.create_repository(f"Signals{next(_count)}", SPEND_FIELDS)


def assert_last_state_true(child: Child, ignite: RunningSandbox, repository: dict[str, Any]) -> int:
    """Every record up to the last STATE's position is in the repository, once."""
    ids = repository_ids(ignite, repository["id"])
    states = child.states()
    confirmed = states[-1]["position"] if states else 0
    assert sorted(ids) == ids
    assert len(set(ids)) == len(ids)
    assert set(range(1, confirmed + 1)) <= set(ids)
    return confirmed


def test_target_stops_while_input_arrives_faster_than_imports(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    signum = signal.SIGTERM
    repository = new_repository(ignite)
    slow_imports = proxy_to(ignite, "/import/", lambda request: Forward(ignite.url, delay=1.0))
    proxy = slow_imports
    try:
        child = start_target(tmp_path, proxy, repository, records=20_000, state_every=250)
        child.wait_for(lambda: bool(child.stdout_lines()), "the first STATE")
        child.send(signum)
        seconds = child.finish(timeout=EXIT_BOUND)
        imports_sent = len(proxy.seen("POST", "/import/"))
    finally:
        proxy.stop()
    assert_stopped_by(child, signum, seconds)
    confirmed = assert_last_state_true(child, ignite, repository)
    ids = repository_ids(ignite, repository["id"])
    assert len(ids) < 20_000  # it did stop early
    assert max(ids) - confirmed < 500  # beyond the last STATE: at most the import in flight
    figure(f"target {signal.Signals(signum).name}, input faster than imports",
           seconds_to_exit=round(seconds, 2), imports=imports_sent,
           last_state=confirmed, rows_in_repository=len(ids))  # fmt: skip


def test_target_sigterm_during_an_import_waits_for_it_and_confirms_it(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    repository = new_repository(ignite)
    proxy = proxy_to(ignite, "/import/", lambda request: Forward(ignite.url, delay=3.0))
    try:
        child = start_target(tmp_path, proxy, repository)
        child.wait_for(lambda: len(proxy.seen("POST", "/import/")) == 1, "the first import")
        child.send(signal.SIGTERM)
        seconds = child.finish(timeout=EXIT_BOUND)
        imports_sent = len(proxy.seen("POST", "/import/"))
    finally:
        proxy.stop()
    assert_stopped_by(child, signal.SIGTERM, seconds)
    assert imports_sent == 1  # the second batch was not started
    assert repository_ids(ignite, repository["id"]) == list(range(1, 501))
    assert child.states()[-1] == {"position": 500}  # the import in flight, confirmed
    figure("target SIGTERM, import in flight (3 s)", seconds_to_exit=round(seconds, 2))


def test_target_sigterm_while_an_import_waits_to_be_retried(
    ignite: RunningSandbox, tmp_path: Path
) -> None:
    repository = new_repository(ignite)
    unavailable = Reply.json(503, {"error": "unavailable"}, **{"Retry-After": "120"})
    proxy = proxy_to(ignite, "/import/", lambda request: unavailable)
    try:
        child = start_target(tmp_path, proxy, repository)
        child.wait_for(lambda: "retry 1 of 5 in 120.0s" in child.stderr(), "a retry")
        child.send(signal.SIGTERM)
        seconds = child.finish(timeout=EXIT_BOUND)
        imports_sent = len(proxy.seen("POST", "/import/"))
    finally:
        proxy.stop()
    assert_stopped_by(child, signal.SIGTERM, seconds)
    assert imports_sent == 1
    assert "not retried, the target is stopping" in child.stderr()
    assert child.states() == []  # nothing was imported, so nothing is confirmed
    assert repository_ids(ignite, repository["id"]) == []
    figure("target SIGTERM, retry waiting 120 s", seconds_to_exit=round(seconds, 2))


def test_target_second_signal_ends_it_at_once(ignite: RunningSandbox, tmp_path: Path) -> None:
    repository = new_repository(ignite)
    proxy = proxy_to(ignite, "/import/", lambda request: Stall())  # never answered
    try:
        child = start_target(tmp_path, proxy, repository, request_timeout=600)
        child.wait_for(lambda: len(proxy.seen("POST", "/import/")) == 1, "the first import")
        child.send(signal.SIGTERM)
        child.wait_for(lambda: "Received SIGTERM: stopping" in child.stderr(), "the first stop")
        time.sleep(1)
        assert child.process.poll() is None  # waiting for the import in flight
        second = time.monotonic()
        child.send(signal.SIGTERM)
        child.finish(timeout=EXIT_BOUND)
        seconds = time.monotonic() - second
    finally:
        proxy.stop()
    assert child.returncode == 128 + signal.SIGTERM
    assert "Received SIGTERM again: exiting at once" in child.stderr()
    assert child.states() == []
    figure("target second SIGTERM, import stalled", seconds_to_exit=round(seconds, 2))


def test_target_stops_while_start_up_is_stalled(tmp_path: Path) -> None:
    with scripted_server(lambda request: Stall()) as server:
        config = {"api_url": server.url, "api_token": SECRET, "repository_id": "x"}
        child = Child("target-ignite", target_argv(tmp_path, config), stdin=b"")
        child.wait_for(lambda: len(server.seen("GET", "/repositories/")) == 1, "the start-up")
        child.send(signal.SIGINT)
        seconds = child.finish(timeout=EXIT_BOUND)
    assert_stopped_by(child, signal.SIGINT, seconds)
    figure("target SIGINT, start-up stalled", seconds_to_exit=round(seconds, 2))
