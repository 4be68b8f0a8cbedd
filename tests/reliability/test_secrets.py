"""The API token never appears in what the plugins print, at any log level, on any path.

Every run here uses the folder's distinctive token and logs at DEBUG; between them they go
through every path where a token could slip into text: the happy path, 429/5xx/reset/lost
retries, a request timeout, an unreachable host (errors raised by requests/urllib3), a 401, a
4xx whose server message is relayed, a failed export, and Meltano's own debug logs. The
folder's conftest then greps everything captured (the grep is also asserted here, so this
file fails on its own if the token leaks).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.reliability.helpers import (
    CAPTURED,
    SECRET,
    SPEND_FIELDS,
    Run,
    api_rows,
    plugin_env,
    remember,
    run_tap,
    run_target,
    spend_input,
    tables,
)

ROOT = Path(__file__).resolve().parents[2]
DEBUG = plugin_env(LOGLEVEL="DEBUG", TAP_IGNITE_LOGLEVEL="DEBUG", TARGET_IGNITE_LOGLEVEL="DEBUG")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def assert_no_token(runs: list[Run]) -> None:
    everything = "".join(run.stdout + run.stderr for run in runs)
    assert "| DEBUG" in everything  # the runs did log at debug level
    assert SECRET not in everything
    # Not even a good part of it (a token cut short by a length limit is still a leak).
    assert SECRET[:16] not in everything


# Every kind of fault, and stalls (2.5 s) against a 1 s request timeout.
FAULTS = "429=0.05,500=0.05,reset=0.05,lost=0.05,slow=0.05"


def test_tap_never_prints_the_token(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = secret_sandbox(spend_rows=300, seed=949)  # 949: each kind once, spread out
    rows = {"api_url": server.url, "api_token": SECRET, "page_size": 100, "max_retries": 12}
    runs = []

    server.admin.set_faults(FAULTS)
    runs.append(run_tap(tmp_path / "faults", {**rows, "request_timeout": 1}, env=DEBUG))
    assert runs[-1].returncode == 0, runs[-1].stderr[-2000:]
    injected = server.admin.faults()["injected"]
    assert all(injected.values()), injected
    assert "Timeout" in runs[-1].stderr
    server.admin.set_faults("")

    server.admin.set_export_behaviour("fail")
    snapshot = {**rows, "table_sync_modes": {"contracts": "export"}, "export_poll_interval": 0.2}
    runs.append(run_tap(tmp_path / "export-fails", snapshot, env=DEBUG))
    server.admin.set_export_behaviour("succeed")
    assert runs[-1].returncode == 1
    runs.append(run_tap(tmp_path / "401", {**rows, "api_token": SECRET + "x"}, env=DEBUG))
    assert runs[-1].returncode == 1
    bad_value = {**rows, "filters": {"spend": {"invoice_date": {"gte": "2025-02-30"}}}}
    runs.append(run_tap(tmp_path / "400", bad_value, env=DEBUG))  # the API's 400, relayed
    assert runs[-1].returncode == 1
    unreachable = {**rows, "api_url": f"http://127.0.0.1:{free_port()}", "max_retries": 1}
    runs.append(run_tap(tmp_path / "unreachable", unreachable, env=DEBUG))
    assert runs[-1].returncode == 1

    assert_no_token(runs)


def test_target_never_prints_the_token(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = secret_sandbox(spend_rows=10, seed=336)  # 336: each kind once, spread out
    repository = server.admin.create_repository("Secrets", SPEND_FIELDS)
    other = server.admin.create_repository("Other", SPEND_FIELDS)
    foreign = server.admin.create_delete_query(other["id"], {"Period": {"eq": "2026-03"}})
    config = {"api_url": server.url, "api_token": SECRET, "repository_id": repository["id"],
              "batch_size_rows": 25, "max_retries": 12, "request_timeout": 1}  # fmt: skip
    data = spend_input(range(1, 201), state_every=50)
    runs = []

    for import_format in ("json", "csv"):
        server.admin.set_faults(FAULTS)
        runs.append(run_target(tmp_path / import_format, {**config, "import_format":
                               import_format}, data, env=DEBUG))  # fmt: skip
        assert runs[-1].returncode == 0, runs[-1].stderr[-2000:]
        injected = server.admin.faults()["injected"]
        assert all(injected.values()), injected
    server.admin.set_faults("")

    runs.append(run_target(tmp_path / "401", {**config, "api_token": SECRET + "x"}, data,
                           env=DEBUG))  # fmt: skip
    assert runs[-1].returncode == 1
    runs.append(run_target(tmp_path / "400", {**config, "delete_query_id": foreign}, data,
                           env=DEBUG))  # fmt: skip
    assert runs[-1].returncode == 1
    assert "belongs to repository" in runs[-1].stderr
    unreachable = {**config, "api_url": f"http://127.0.0.1:{free_port()}", "max_retries": 1}
    runs.append(run_target(tmp_path / "unreachable", unreachable, data, env=DEBUG))
    assert runs[-1].returncode == 1

    assert "retry 1 of" in "".join(run.stderr for run in runs)
    assert "no answer within 1s" in "".join(run.stderr for run in runs)
    assert_no_token(runs)


@pytest.mark.slow
def test_meltano_run_at_debug_level_never_shows_the_token(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    """`meltano run --log-level=debug tap-ignite target-ignite` with the token in the
    environment, as a user sets it: Meltano's log (its stdout and stderr, where it relays the
    plugins' lines) and the files it wrote are grepped."""
    server = secret_sandbox(spend_rows=60, seed=53)
    rows = sum(len(api_rows(server, table)) for table in tables(server))
    server.admin.set_faults("429=0.1,500=0.05,reset=0.05")
    repository = server.admin.create_repository("MeltanoSecrets", [])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_ENVIRONMENT="sandbox",
        MELTANO_DATABASE_URI=f"sqlite:///{tmp_path}/meltano.db",
        TAP_IGNITE_API_URL=server.url,
        TAP_IGNITE_API_TOKEN=SECRET,
        TAP_IGNITE_MAX_RETRIES="12",
        TARGET_IGNITE_API_URL=server.url,
        TARGET_IGNITE_API_TOKEN=SECRET,
        TARGET_IGNITE_REPOSITORY_ID=repository["id"],
    )
    started = time.time()

    def meltano(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "meltano"), *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        remember(f"meltano {' '.join(args)}", done.stdout, done.stderr)
        return done

    installed = meltano("install", "tap-ignite", "target-ignite")
    assert installed.returncode == 0, installed.stderr[-3000:]
    result = meltano("--log-level=debug", "run", "tap-ignite", "target-ignite")

    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "[debug" in output  # Meltano itself logged at debug level
    # The plugins did too: the SDK logs its config validation at DEBUG.
    assert re.search(r"tap-ignite\s+Validating config using jsonschema", output)
    assert re.search(r"target-ignite\s+Validating config using jsonschema", output)
    assert "Retrying" in output
    assert len(server.admin.repository_rows(repository["id"])) == rows
    # Whatever Meltano wrote under .meltano during the run (logs, catalogs, logging configs),
    # except the plugins' config files, which hold the token by design.
    written = [
        path
        for path in (ROOT / ".meltano").rglob("*")
        if path.is_file()
        and "venv" not in path.parts
        and not path.name.endswith("config.json")
        and path.stat().st_mtime >= started
    ]
    assert written
    for path in written:
        remember(f"meltano log {path.name}", path.read_text(encoding="utf-8", errors="replace"))
    texts = [text for label, text in CAPTURED if label.startswith("meltano")]
    assert texts
    assert not [label for label, text in CAPTURED if SECRET in text]
