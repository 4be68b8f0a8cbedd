"""Bad settings and failing exports for tap-ignite, each through the real CLI.

The contract: one ERROR line that names what is wrong and where, exit code 1, no traceback.
Settings are checked before any row is requested (stdout stays empty). A failure in the middle
of a sync (an export that fails or never finishes) keeps what was already written: the tables
read before it are in the output, with a STATE that covers them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from tests.reliability.helpers import SECRET, Run, api_rows, run_tap, tables


@pytest.fixture(scope="module")
def ignite() -> Iterator[RunningSandbox]:
    with run_sandbox(spend_rows=300, seed=41, token=SECRET) as server:
        yield server


def config(server: RunningSandbox, **extra: Any) -> dict[str, Any]:
    return {"api_url": server.url, "api_token": server.token, **extra}


def assert_one_settings_error(run: Run, *fragments: str) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    error = run.the_error()
    for fragment in fragments:
        assert fragment in error, error
    assert run.stdout == ""  # checked before any data moved
    return error


def test_wrong_token(ignite: RunningSandbox, tmp_path: Path) -> None:
    run = run_tap(tmp_path, {**config(ignite), "api_token": SECRET + "-revoked"})
    assert_one_settings_error(run, "401", "GET /tables/", "check api_token")


@pytest.mark.parametrize(
    ("settings", "fragments", "never_shown"),
    [
        pytest.param(
            {"api_url": "http://datatable.igniteprocurement.com", "api_token": SECRET},
            ["api_url 'http://datatable.igniteprocurement.com'", "is plain http", "https://"],
            [SECRET],
            id="plain http to Ignite",
        ),
        pytest.param(
            {"api_url": "http://datatable.example.com", "api_token": "whatever"},
            ["api_url 'http://datatable.example.com'", "is plain http", "https://"],
            [],
            id="plain http to another host",
        ),
        # Nothing listens on port 9, and 192.0.2.1 is unroutable: had the tap sent a request,
        # the error would be a connection error instead.
        pytest.param(
            {"api_url": "http://127.0.0.1:9", "api_token": "JWT eyJhbGc.e30.sig"},
            ["api_token is a legacy JWT", "generate a new API token"],
            ["eyJhbGc", "127.0.0.1:9"],
            id="legacy JWT, loopback",
        ),
        pytest.param(
            {"api_url": "https://192.0.2.1", "api_token": "JWT eyJhbGciOiJIUzI1NiJ9.e30.sig"},
            ["api_token is a legacy JWT", "generate a new API token"],
            ["eyJhbGciOiJIUzI1NiJ9", "192.0.2.1"],
            id="legacy JWT, https",
        ),
    ],
)
def test_an_insecure_url_or_a_legacy_token_is_refused_before_any_request(
    tmp_path: Path, settings: dict[str, Any], fragments: list[str], never_shown: list[str]
) -> None:
    """The tap's only CLI test of these settings checks; tests/test_http_rules_parity.py
    holds the rules' own cases, the same in tap-ignite and target-ignite."""
    run = run_tap(tmp_path, settings, timeout=60)
    error = assert_one_settings_error(run, *fragments)
    for text in never_shown:
        assert text not in error
    assert "eyJ" not in run.stderr  # the token, in no form


def test_unreachable_api_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = run_tap(
        tmp_path,
        {"api_url": f"http://127.0.0.1:{port}", "api_token": SECRET, "max_retries": 1},
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    error = run.the_error()
    assert "Could not reach the Ignite API" in error
    assert f"port={port}" in error


@pytest.mark.parametrize(
    ("settings", "fragments"),
    [
        pytest.param(
            {"filters": {"spend": {"vendor_name": {"eq": "Acme"}}}},
            ["filters.spend.vendor_name", "table 'spend' has no column 'vendor_name'",
             "columns: id, supplier_id"],
            id="filter on an unknown column",
        ),
        pytest.param(
            {"filters": {"spend": {"currency": {"between": ["EUR", "NOK"]}}}},
            ["filters.spend.currency", "operator 'between'", "column 'currency'",
             "allowed operators: eq, in"],
            id="unsupported operator",
        ),
        pytest.param(
            {"filters": {"spend": {"amount": {"like": 5}}}},
            ["filters.spend.amount", "operator 'like'", "allowed operators: eq, in, gte, lte"],
            id="operator the API does not have",
        ),
        pytest.param({"page_size": 0}, ["page_size", "minimum of 1"], id="page_size 0"),
        pytest.param(
            {"page_size": 100_001}, ["page_size", "maximum of 100000"], id="page_size 100001"
        ),
        pytest.param({"page_size": "ten"}, ["page_size", "'ten'"], id="page_size not a number"),
    ],
)  # fmt: skip
def test_bad_settings(
    settings: dict[str, Any], fragments: list[str], ignite: RunningSandbox, tmp_path: Path
) -> None:
    run = run_tap(tmp_path, config(ignite, **settings))
    assert_one_settings_error(run, *fragments)


@pytest.mark.parametrize(
    ("outcome", "fragments"),
    [
        ("stall", ["did not finish within export_timeout (3 s", "resumes polling it"]),
        ("fail", ["failed:"]),
    ],
)
def test_export_that_fails_or_never_finishes_keeps_the_tables_before_it(
    outcome: str, fragments: list[str], ignite: RunningSandbox, tmp_path: Path
) -> None:
    """suppliers (read last: streams go in name order) as a snapshot export that fails or
    stalls; the four tables read before it arrive complete, and the STATE covers them."""
    truth = {t["id"]: {r.get("id", r.get("spend_id")) for r in api_rows(ignite, t)}
             for t in tables(ignite)}  # fmt: skip
    settings = config(ignite, table_sync_modes={"suppliers": "export"}, export_timeout=3,
                      export_poll_interval=0.5)  # fmt: skip
    ignite.admin.set_export_behaviour(outcome, delay_seconds=0.5)
    try:
        run = run_tap(tmp_path, settings)
    finally:
        ignite.admin.set_export_behaviour("succeed")

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    error = run.the_error()
    assert "Ignite export " in error
    assert "of table 'suppliers'" in error
    for fragment in fragments:
        assert fragment in error, error
    assert run.records("suppliers") == []
    for table in ("classification_business_units", "classification_spend_categories",
                  "contracts", "spend"):  # fmt: skip
        key = "spend_id" if table.startswith("classification") else "id"
        assert {r[key] for r in run.records(table)} == truth[table], table
    state = run.states[-1]["bookmarks"]
    assert state["spend"]["replication_key_value"] == max(
        r["updated_at"] for r in run.records("spend")
    )
    assert "contracts" in state
