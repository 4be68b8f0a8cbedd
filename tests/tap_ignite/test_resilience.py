"""Expired page tokens, rate limits, 5xx, resets, timeouts and fatal 4xx, against the sandbox."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from tap_ignite.tap import TapIgnite

from tests.reliability.scripted_server import (
    SPEND_TABLE,
    Forward,
    Reply,
    Request,
    scripted_server,
)
from tests.tap_ignite.helpers import catalog_selecting, run_cli, sync, tap_config

RETRY_LINE = re.compile(r"Retrying (\S+) in ([0-9.]+) s \(attempt (\d+) of (\d+)\): (.*)")


@contextmanager
def cursors_expired_before(server: RunningSandbox, token_requests: set[int]) -> Iterator[str]:
    """The URL of a proxy in front of the sandbox that expires every page token there (its
    `/_sandbox/cursors/expire`) just before it passes on the n-th request that sends one.

    Deterministic where an expiry from the record side would race the next-page prefetch.
    """
    count = 0
    lock = threading.Lock()

    def script(request: Request) -> Forward:
        nonlocal count
        if b'"pageToken"' in request.body:
            with lock:
                count += 1
                if count in token_requests:
                    server.admin.expire_cursors()
        return Forward(server.url)

    with scripted_server(script) as proxy:
        yield proxy.url


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    return [m for r in caplog.records if (m := RETRY_LINE.search(r.getMessage()))]


def spend_ids(server: RunningSandbox) -> list[str]:
    output = sync(tap_config(server, page_size=1000), streams=["spend"], properties={"spend": []})
    return [r["id"] for r in output.records("spend")]


def test_expired_page_token_restarts_from_the_first_page(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory()
    expected = spend_ids(server)
    # Pages of 200. Expired before page 4 (the 3rd request with a token), and again before
    # page 3 of the restarted pass (the 5th): pages 1-3, then 1-2, are sent twice.
    with (
        cursors_expired_before(server, {3, 5}) as url,
        caplog.at_level(logging.WARNING),
    ):
        output = sync(tap_config(server, api_url=url, page_size=200), streams=["spend"])
    got = [r["id"] for r in output.records("spend")]
    assert got == expected[:600] + expected[:400] + expected
    warnings = [r.getMessage() for r in caplog.records if "page token expired" in r.getMessage()]
    assert len(warnings) == 2
    assert "after 600 rows" in warnings[0]
    assert "restarting from the first page" in warnings[0]
    bookmark = output.final_state["bookmarks"]["spend"]["replication_key_value"]
    assert bookmark == max(r["updated_at"] for r in output.records("spend"))


def test_page_token_that_keeps_expiring_gives_up_after_max_page_token_restarts(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory(spend_rows=500)
    # max_retries bounds the retries of one request, not the restarts of a table's paging.
    with cursors_expired_before(server, set(range(1, 100))) as url:
        config = tap_config(
            server, api_url=url, page_size=100, max_page_token_restarts=2, max_retries=0
        )
        with (
            caplog.at_level(logging.WARNING),
            pytest.raises(FatalAPIError, match="page token expired again"),
        ):
            sync(config, streams=["spend"])
    restarts = [m for m in caplog.messages if "restarting from the first page" in m]
    assert len(restarts) == 2


def test_faults_are_retried_and_no_row_is_lost(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory()
    expected = spend_ids(server)
    server.admin.set_faults("429=0.15,500=0.15,reset=0.1,lost=0.05")
    config = tap_config(server, page_size=300, max_retries=8)
    with caplog.at_level(logging.WARNING):
        output = sync(config, streams=["spend"], properties={"spend": []})
    assert [r["id"] for r in output.records("spend")] == expected
    reasons = " ".join(m.group(5) for m in retry_lines(caplog))
    assert "429" in reasons
    assert re.search(r"\b50[03]\b", reasons)
    assert "ConnectionError" in reasons or "ChunkedEncodingError" in reasons
    # A 429 waits at least as long as its Retry-After (the sandbox sends 1 s).
    waits_429 = [float(m.group(2)) for m in retry_lines(caplog) if " 429 " in m.group(5)]
    assert waits_429
    assert min(waits_429) >= 1.0


def test_timeouts_are_retried(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory(spend_rows=600)
    expected = spend_ids(server)
    server.admin.set_faults("slow=0.3")
    config = tap_config(server, page_size=100, request_timeout=1, max_retries=10)
    with caplog.at_level(logging.WARNING):
        output = sync(config, streams=["spend"], properties={"spend": []})
    assert [r["id"] for r in output.records("spend")] == expected
    assert any("Timeout" in m.group(5) for m in retry_lines(caplog))


def test_retries_stop_after_max_retries(
    sandbox_factory: Callable[..., RunningSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory(spend_rows=300)
    config = tap_config(server, max_retries=2)
    tap = TapIgnite(config=config, catalog=catalog_selecting(config, ["spend"]))
    server.admin.set_faults("500=1")
    with caplog.at_level(logging.WARNING), pytest.raises(RetriableAPIError, match=r"\b50[03]\b"):
        tap.sync_all()
    attempts = [int(m.group(3)) for m in retry_lines(caplog)]
    assert attempts == [2, 3]


def test_gave_up_retrying_is_one_error_line_in_the_cli(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = sandbox_factory(spend_rows=300, faults="500=1")
    run = run_cli(tmp_path, tap_config(server, max_retries=1))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1, run.stderr
    assert re.search(r"\b50[03]\b", run.error_lines[0])
    assert "/tables/" in run.error_lines[0]


def test_client_error_stops_with_the_servers_message(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    # Well-formed, so it passes the tap's checks; the API knows there is no 30 February.
    config = tap_config(sandbox, filters={"spend": {"invoice_date": {"gte": "2025-02-30"}}})
    run = run_cli(tmp_path, config, catalog=catalog_selecting(config, ["spend"]))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.error_lines if "400" in line]
    assert errors, run.stderr
    assert "invoice_date" in errors[0]
    assert "/tables/spend/rows" in errors[0]
    assert not run.records("spend")


def test_bad_token_stops_with_401_and_never_shows_the_token(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    secret = "tok-S3CRET-not-the-right-one"
    run = run_cli(tmp_path, {**tap_config(sandbox), "api_token": secret}, env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any("401" in line and "api_token" in line for line in run.error_lines), run.stderr
    assert secret not in run.stderr
    assert secret not in run.stdout


def test_token_never_appears_in_logs_at_debug_level(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    secret = "tok-S3CRET-4242-very-private"
    server = sandbox_factory(token=secret, spend_rows=900)
    config: dict[str, Any] = tap_config(server, page_size=300, max_retries=10)
    catalog = catalog_selecting(config, ["spend"])
    server.admin.set_faults("429=0.1,500=0.1,reset=0.1")
    run = run_cli(tmp_path, config, catalog=catalog, env={"LOGLEVEL": "DEBUG"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "DEBUG" in run.stderr
    assert "Retrying" in run.stderr  # the retry paths were taken and logged
    assert len(run.records("spend")) == 900
    assert secret not in run.stderr
    assert secret not in run.stdout


def test_expired_download_urls_are_refreshed_up_to_max_url_refreshes() -> None:
    """A file whose signed URL answers 403 every time: the export is polled for fresh URLs
    max_url_refreshes times, then the run stops; max_retries (0 here) plays no part."""
    urls: list[str] = []

    def script(request: Request) -> Reply:
        if request.path.startswith("/tables/spend/exports") or request.path.startswith("/exports/"):
            export = {
                "id": "exp-1",
                "entity": "spend",
                "status": "succeeded",
                "format": "parquet",
                "files": [{"url": f"{urls[0]}/files/1?signature=s", "rows": 1, "bytes": 10}],
            }
            return Reply.json(200, export)
        if request.path.startswith("/files/"):
            return Reply(403, b"expired")
        return Reply.json(200, [SPEND_TABLE])

    with scripted_server(script) as server:
        urls.append(server.url)
        config = {
            "api_url": server.url,
            "api_token": "tok-scripted",
            "sync_mode": "export",
            "max_url_refreshes": 2,
            "max_retries": 0,
        }
        with pytest.raises(FatalAPIError, match="still answers 403 with a fresh URL"):
            sync(config, streams=["spend"])
        assert len(server.seen("GET", "/files/")) == 3  # the first URL, then 2 fresh ones
        assert len(server.seen("GET", "/exports/")) == 2
