"""The `serve` command: ready line, free port, clean stop, flag errors, determinism, --db."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import requests
from ignite_sandbox.launcher import RunningSandbox, run_sandbox

from tests.ignite_sandbox.helpers import Api

FLAGS = ("--spend-rows", "--faults", "--cursor-ttl", "--url-ttl", "--export-file-rows", "--db",
         "--max-body-bytes", "--token", "--seed", "--port", "--host")  # fmt: skip


def test_ready_line_then_clean_sigterm_stop(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    server = sandbox_factory(spend_rows=50)
    lines = [line for line in server.log_text().splitlines() if line.strip()]
    assert lines == [f"Ignite sandbox listening on {server.url}"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    assert not server.url.endswith(":0")
    response = requests.get(f"{server.url}/tables/", headers=_auth(server), timeout=10)
    assert response.status_code == 200
    assert server.stop() == 0
    assert "Traceback" not in server.log_text()


def test_ctrl_c_stops_cleanly() -> None:
    with run_sandbox(spend_rows=50) as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=20) == 0
        assert "Traceback" not in server.log_text()


def test_console_script_and_module_share_the_cli() -> None:
    script = Path(sys.executable).parent / "ignite-sandbox"
    for argv in (
        [str(script), "serve", "--help"],
        [sys.executable, "-m", "ignite_sandbox", "serve", "--help"],
    ):
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        for flag in FLAGS:
            assert flag in result.stdout


def test_bad_fault_spec_is_one_line_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ignite_sandbox", "serve", "--port", "0", "--faults", "429=2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--faults" in lines[0]
    assert "429=2" in lines[0]


def test_busy_port_is_a_clear_error(sandbox: RunningSandbox) -> None:
    port = sandbox.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "ignite_sandbox", "serve", "--port", port, "--spend-rows", "10"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot listen on" in result.stderr
    assert "Traceback" not in result.stderr


def test_same_seed_same_data_other_seed_other_data(
    sandbox: RunningSandbox, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    first = Api(sandbox)  # 3000 spend rows, seed 7
    second = Api(sandbox_factory(spend_rows=3000, seed=7))
    other = Api(sandbox_factory(spend_rows=3000, seed=8))
    for entity in ("spend", "suppliers", "contracts", "classification_spend_categories"):
        body = {"pageSize": 100000, "filters": {"updated_at": {"lte": "2025-12-31T23:59:59Z"}}}
        assert first.rows(entity, body).content == second.rows(entity, body).content
    assert (
        first.rows("spend", {"pageSize": 400}).content
        != other.rows("spend", {"pageSize": 400}).content
    )
    legacy = "/export/?dataTableId=c1a5e0d2-4b7f-4c3e-9d21-5f8a6b0e7d13"
    assert first.get(legacy).content == second.get(legacy).content


def test_db_file_keeps_imports_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.duckdb"
    with run_sandbox(spend_rows=100, db=db) as server:
        api = Api(server)
        repository = server.admin.create_repository("Kept", ["a"])
        response = api.post(
            "/import/", json={"dataRepositoryId": repository["id"], "data": [{"a": 1}]}
        )
        assert response.status_code == 201
        touched = server.admin.touch("spend", 2)
        body = {"filters": {"id": {"in": touched}}, "fields": ["id", "updated_at"]}
        before = api.rows("spend", body).json()["data"]
    with run_sandbox(spend_rows=100, db=db) as server:
        assert server.admin.repository_rows(repository["id"]) == [{"a": 1}]
        assert Api(server).rows("spend", body).json()["data"] == before


def _auth(server: RunningSandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"}
