"""The sandbox's OpenAPI document, fuzzed with schemathesis: no 5xx that faults did not ask for.

Bounded: a few examples per operation over every phase (examples, coverage, fuzzing,
stateful), one sandbox of its own with faults off. Path parameters are pinned to real
tables so requests reach the query code instead of stopping at 404. The fault switch itself
(`/_sandbox/faults`) is left out: a fuzzed spec could turn faults on, and then a 5xx would be
one that faults asked for.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ignite_sandbox.launcher import RunningSandbox
from ignite_sandbox.legacy_data import DATA_TABLES

from tests.reliability.helpers import SECRET, remember


def config_text(repository_id: str) -> str:
    """Path and query parameters pinned to things that exist, so requests get past 404."""
    data_table = next(iter(DATA_TABLES))
    return (
        "[parameters]\n"
        'entity = "spend"\n'
        f'repository_id = "{repository_id}"\n'
        f'data_table_id = "{data_table}"\n'
        f'dataTableId = "{data_table}"\n'
    )


def test_fuzzed_requests_never_get_an_unasked_for_5xx(
    secret_sandbox: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    server = secret_sandbox(spend_rows=200, seed=71)
    repository = server.admin.create_repository("Fuzzed", ["Id", "Amount"])
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_text(repository["id"]), encoding="utf-8")
    argv = [
        str(Path(sys.executable).parent / "st"), "--config-file", str(config),
        "run", f"{server.url}/openapi.json",
        "--checks", "not_a_server_error",
        "--max-examples", "8", "--seed", "8", "--workers", "1",
        "--request-timeout", "60", "--suppress-health-check", "all",
        "--exclude-path", "/_sandbox/faults",
        "--header", f"Authorization: Bearer {SECRET}",
    ]  # fmt: skip

    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path
    )
    remember("schemathesis", done.stdout, done.stderr)

    summary = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated, summary
    assert int(generated.group(1)) >= 300  # the run did fuzz, and broadly
    assert generated.group(1) == generated.group(2)
    assert re.search(r"Operations:\s+(\d+) selected", done.stdout)
    # No fault was drawn, so every 5xx would have been a defect; none happened, and the
    # server never hit an unhandled exception either.
    assert not any(server.admin.faults()["injected"].values())
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert "Exception in ASGI application" not in log
