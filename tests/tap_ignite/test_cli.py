"""What a user sees from the `tap-ignite` executable: settings errors, and the README's table."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.tap_ignite.helpers import TAP_EXECUTABLE, run_cli, tap_config

README = Path(__file__).parents[2] / "tap-ignite" / "README.md"
ABOUT_BLOCK = re.compile(r"<!-- about:start.*?-->\n(.*?)<!-- about:end -->", flags=re.DOTALL)

SETTINGS_ERRORS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "unknown column",
        {"filters": {"spend": {"no_such_column": {"eq": "x"}}}},
        ["filters.spend.no_such_column", "table 'spend' has no column 'no_such_column'"],
    ),
    (
        "operator the column does not support",
        {"filters": {"spend": {"currency": {"gte": "EUR"}}}},
        ["operator 'gte'", "column 'currency'", "table 'spend'", "allowed operators: eq, in"],
    ),
    (
        "scalar operator on an array column",
        {"filters": {"suppliers": {"tags": {"eq": "it"}}}},
        [
            "operator 'eq'",
            "column 'tags'",
            "table 'suppliers'",
            "allowed operators: contains_any, contains_all, is_empty, is_not_empty",
        ],
    ),
    (
        "unknown table",
        {"filters": {"invoices": {"id": {"eq": "x"}}}},
        ["filters: unknown table 'invoices'", "spend"],
    ),
    (
        "badly shaped value",
        {"filters": {"spend": {"amount": {"between": [1]}}}},
        ["filters.spend.amount.between", "two-item array"],
    ),
    (
        "value of the wrong type",
        {"filters": {"spend": {"amount": {"gte": "a lot"}}}},
        ["filters.spend.amount.gte", "MONETARY_AMOUNT", "expects a number", "'a lot'"],
    ),
    (
        "timestamp in another format",
        {"filters": {"suppliers": {"updated_at": {"gte": "15.01.2026"}}}},
        ["filters.suppliers.updated_at.gte", "RFC 3339", "'15.01.2026'"],
    ),
    ("page_size below range", {"page_size": 0}, ["page_size", "minimum of 1"]),
    ("page_size above range", {"page_size": 100_001}, ["page_size", "maximum of 100000"]),
    (
        "replication key that is not a column",
        {"replication_keys": {"spend": "modified"}},
        ["replication_keys", "table 'spend' has no column 'modified'"],
    ),
    ("unparseable start_date", {"start_date": "last tuesday"}, ["start_date", "last tuesday"]),
]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [pytest.param(o, e, id=name) for name, o, e in SETTINGS_ERRORS],
)
def test_bad_settings_fail_with_one_clear_line(
    sandbox: RunningSandbox, tmp_path: Path, overrides: dict[str, Any], expected: list[str]
) -> None:
    run = run_cli(tmp_path, tap_config(sandbox, **overrides))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1, run.stderr
    for fragment in expected:
        assert fragment in run.error_lines[0]
    assert run.stdout == ""  # no data moved


def test_bad_settings_fail_discovery_too(sandbox: RunningSandbox, tmp_path: Path) -> None:
    config = tap_config(sandbox, filters={"spend": {"currency": {"gte": "EUR"}}})
    run = run_cli(tmp_path, config, "--discover")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1, run.stderr
    assert "allowed operators: eq, in" in run.error_lines[0]


def test_missing_token_is_a_settings_error(sandbox: RunningSandbox, tmp_path: Path) -> None:
    run = run_cli(tmp_path, {"api_url": sandbox.url})
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any("api_token" in line for line in run.error_lines)


def test_about_markdown_is_the_readme_settings_section() -> None:
    about = subprocess.run(
        [TAP_EXECUTABLE, "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    match = ABOUT_BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "tap-ignite/README.md has no about:start/about:end block"
    assert match.group(1).strip() == about.strip()
    for setting in (
        "api_token",
        "api_url",
        "page_size",
        "start_date",
        "filters",
        "replication_keys",
        "key_by",
        "request_timeout",
        "max_retries",
    ):
        assert f"| {setting} |" in about


def test_unreachable_api_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"api_token": "whatever", "api_url": f"http://127.0.0.1:{port}", "max_retries": 1}
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1, run.stderr
    (error,) = run.error_lines
    # Where it tried, which setting (and variable) holds that URL, what to check: before the
    # library's own text.
    assert f"Could not reach the Ignite API at http://127.0.0.1:{port}/tables/: " in error
    assert error.index("api_url setting (TAP_IGNITE_API_URL)") < error.index("ConnectionError: ")
    assert "that the server is up" in error
    assert "Retrying /tables/" in run.stderr


def test_an_api_url_with_credentials_is_refused_and_shows_none(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"api_token": "tok", "api_url": f"http://ann:hunter2@127.0.0.1:{port}",
              "max_retries": 0}  # fmt: skip
    run = run_cli(tmp_path, config)
    assert run.returncode == 1
    # Refused at start-up (issue 12), before any request: shown without the credentials.
    assert f"api_url 'http://127.0.0.1:{port}' carries credentials" in run.stderr
    assert "Could not reach" not in run.stderr
    assert "hunter2" not in run.stderr
    assert "ann:" not in run.stderr


@pytest.mark.parametrize("args", [(), ("--discover",)])
def test_a_missing_token_names_the_variable_that_sets_it(tmp_path: Path, args: tuple) -> None:
    run = run_cli(tmp_path, {"api_url": "http://127.0.0.1:9"}, *args)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (error,) = run.error_lines
    assert "api_token is not set: set the TAP_IGNITE_API_TOKEN environment variable" in error
    assert "is a required property" not in run.stderr


@pytest.mark.parametrize("unknown_data_types", [False, True])
def test_the_default_sandbox_makes_the_tap_warn_about_no_data_type(
    tmp_path: Path, sandbox_factory: Any, unknown_data_types: bool
) -> None:
    """The README's sandbox serves documented dataTypes only; the tests' adds GROUP_STRUCTURE."""
    server = sandbox_factory(spend_rows=20, unknown_data_types=unknown_data_types)
    run = run_cli(tmp_path, tap_config(server), "--discover")
    assert run.returncode == 0, run.stderr
    assert ("unknown dataType 'GROUP_STRUCTURE'" in run.stderr) is unknown_data_types
    assert ("WARNING" in run.stderr.upper()) is unknown_data_types
