"""Start an ignite-sandbox server in a child process and talk to its admin endpoints.

Tests, benchmarks and the README's demo all use this one launcher, so that "a sandbox on a
free port" means the same thing everywhere: the real CLI, a real socket, the ready line parsed.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

READY_LINE = re.compile(r"^Ignite sandbox listening on (http://\S+)$")
DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - the sandbox's documented demo token, not a secret


class SandboxStartError(RuntimeError):
    """The sandbox process exited or stayed silent before printing its ready line."""


@dataclass
class SandboxAdmin:
    """Typed calls to the sandbox's `/_sandbox/` endpoints (same Bearer token as the APIs)."""

    url: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = self.session.request(
            method,
            f"{self.url}{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
        )
        response.raise_for_status()
        # parse_float=Decimal: repository rows must come back digit for digit, never as floats.
        return jsonlib.loads(response.content, parse_float=Decimal) if response.content else None

    def repository_rows(self, repository_id: str) -> list[dict[str, Any]]:
        """Every row now stored in a repository."""
        rows: list[dict[str, Any]] = self._call(
            "GET", f"/_sandbox/repositories/{repository_id}/rows"
        )["rows"]
        return rows

    def imports(self) -> list[dict[str, Any]]:
        """Every import the sandbox accepted, oldest first."""
        result: list[dict[str, Any]] = self._call("GET", "/_sandbox/imports")
        return result

    def create_repository(self, name: str, fields: list[str]) -> dict[str, Any]:
        """Create a data repository (what the web app calls a data source)."""
        result: dict[str, Any] = self._call(
            "POST", "/_sandbox/repositories", {"name": name, "fields": fields}
        )
        return result

    def create_delete_query(self, repository_id: str, filters: dict[str, Any]) -> str:
        """Create a delete query (export filter syntax) on a repository; returns its id."""
        result = self._call(
            "POST",
            "/_sandbox/delete-queries",
            {"dataRepositoryId": repository_id, "filters": filters},
        )
        return str(result["id"])

    def touch(self, entity: str, count: int) -> list[str]:
        """Set `updated_at` to now on `count` rows of a table; returns their ids."""
        result = self._call("POST", f"/_sandbox/tables/{entity}/touch", {"count": count})
        return [str(i) for i in result["ids"]]

    def expire_cursors(self) -> None:
        """Make every outstanding page token answer 410 page_token_expired."""
        self._call("POST", "/_sandbox/cursors/expire")

    def set_faults(self, spec: str) -> None:
        """Replace the fault spec (`429=0.1,500=0.05,...`); an empty string turns faults off."""
        self._call("POST", "/_sandbox/faults", {"spec": spec})

    def faults(self) -> dict[str, Any]:
        """The fault spec in force and how many of each fault were injected so far."""
        result: dict[str, Any] = self._call("GET", "/_sandbox/faults")
        return result

    def set_export_behaviour(self, outcome: str = "succeed", delay_seconds: float = 0.0) -> None:
        """How exports created from now on end: `succeed`, `fail` or `stall` (stay running)."""
        self._call(
            "POST",
            "/_sandbox/exports/behaviour",
            {"outcome": outcome, "delaySeconds": delay_seconds},
        )

    def delete_export_files(self, export_id: str) -> None:
        """Delete an export's files, as Ignite does after 7 days (downloads then answer 404)."""
        self._call("POST", f"/_sandbox/exports/{export_id}/delete-files")

    def touch_datatable(self, data_table_id: str, count: int) -> list[str]:
        """Set "Last Modified" to now on `count` rows of a deprecated data table; their IDs."""
        result = self._call("POST", f"/_sandbox/datatables/{data_table_id}/touch", {"count": count})
        return [str(i) for i in result["ids"]]


@dataclass
class RunningSandbox:
    """A sandbox server process that is up and answering."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def admin(self) -> SandboxAdmin:
        """A client for the `/_sandbox/` admin endpoints."""
        return SandboxAdmin(self.url, self.token)

    def log_text(self) -> str:
        """What the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20) -> int:
        """Stop with SIGTERM (as a user's Ctrl-C would) and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        return self.process.returncode


def sandbox_command(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str = DEFAULT_TOKEN,
    spend_rows: int = 2000,
    seed: int = 7,
    db: str | os.PathLike[str] | None = None,
    faults: str | None = None,
    cursor_ttl: int | None = None,
    url_ttl: int | None = None,
    export_file_rows: int | None = None,
    max_body_bytes: int | None = None,
    legacy_rows: int | None = None,
    unknown_data_types: bool = False,
) -> list[str]:
    """The `ignite-sandbox serve` argv for these options."""
    argv = [
        sys.executable, "-m", "ignite_sandbox", "serve",
        "--host", host, "--port", str(port), "--token", token,
        "--spend-rows", str(spend_rows), "--seed", str(seed),
    ]  # fmt: skip
    optional = {
        "--db": db,
        "--faults": faults,
        "--cursor-ttl": cursor_ttl,
        "--url-ttl": url_ttl,
        "--export-file-rows": export_file_rows,
        "--max-body-bytes": max_body_bytes,
        "--legacy-rows": legacy_rows,
    }
    for flag, value in optional.items():
        if value is not None:
            argv += [flag, str(value)]
    if unknown_data_types:
        argv.append("--unknown-data-types")
    return argv


@contextlib.contextmanager
def run_sandbox(startup_timeout: float = 180, **options: Any) -> Iterator[RunningSandbox]:
    """Run `ignite-sandbox serve` on a free port until the block ends.

    Keyword options are those of `sandbox_command`. The server's output goes to a log file
    (never a pipe that could fill up), which the ready line is read from.
    """
    argv = sandbox_command(**options)
    token = str(options.get("token", DEFAULT_TOKEN))
    log_dir = Path(tempfile.mkdtemp(prefix="ignite-sandbox-"))
    log_path = log_dir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)
    sandbox: RunningSandbox | None = None
    try:
        deadline = time.monotonic() + startup_timeout
        url = None
        while url is None:
            for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
                match = READY_LINE.match(line.strip())
                if match:
                    url = match.group(1)
                    break
            if url is not None:
                break
            if process.poll() is not None:
                msg = f"ignite-sandbox exited with {process.returncode}:\n{log_path.read_text()}"
                raise SandboxStartError(msg)
            if time.monotonic() > deadline:
                msg = f"ignite-sandbox printed no ready line in {startup_timeout}s"
                raise SandboxStartError(msg)
            time.sleep(0.05)
        sandbox = RunningSandbox(url=url, token=token, process=process, log_path=log_path)
        yield sandbox
    finally:
        if sandbox is not None:
            sandbox.stop()
        elif process.poll() is None:
            process.kill()
            process.wait()
