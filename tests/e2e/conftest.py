"""End-to-end fixtures: the repository's real meltano.yml, real `meltano install` and `meltano run`.

Each test gets its own Meltano system database (so state never leaks between tests) and its own
output files; the plugin virtualenvs under `.meltano/` are shared and installed once per session.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from ignite_sandbox.launcher import RunningSandbox

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@dataclass
class MeltanoProject:
    """The repository's Meltano project, pointed at one sandbox, with private state and outputs."""

    env: dict[str, str]
    workdir: Path
    logs: list[str] = field(default_factory=list)

    def run(self, *args: str, stdin: Path | None = None, check: bool = True) -> str:
        """Run `meltano ARGS` in the project root and return its combined output."""
        with stdin.open("rb") if stdin else open(os.devnull, "rb") as stdin_file:
            result = subprocess.run(
                ["meltano", *args],
                cwd=ROOT,
                env=self.env,
                stdin=stdin_file,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
        output = result.stdout + result.stderr
        self.logs.append(output)
        if check and result.returncode != 0:
            # Meltano's own traceback (a BrokenPipe when a plugin dies) hides the plugin's error:
            # show the plugins' error lines first, then the tail.
            errors = [
                line
                for line in output.splitlines()
                if ("cmd_type=" in line or "rror" in line) and "│" not in line
            ]
            pytest.fail(
                f"meltano {' '.join(args)} exited {result.returncode}:\n"
                + "\n".join(errors[-40:])
                + f"\n--- tail ---\n{output[-3000:]}"
            )
        return output


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["MELTANO_ENVIRONMENT"] = "sandbox"
    return env


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`meltano install` once per session: every plugin from the package index or ./<plugin>."""
    env = base_env()
    env["MELTANO_DATABASE_URI"] = f"sqlite:///{tmp_path_factory.mktemp('meltano-install')}/m.db"
    result = subprocess.run(
        ["meltano", "install"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def meltano_project(
    meltano_installed: None, tmp_path: Path, sandbox_factory: object
) -> MeltanoProject:
    """A Meltano project whose state and outputs live in this test's tmp_path."""
    env = base_env()
    env["MELTANO_DATABASE_URI"] = f"sqlite:///{tmp_path}/meltano.db"
    env["TARGET_DUCKDB_TYPED_FILEPATH"] = str(tmp_path / "warehouse.duckdb")
    env["TARGET_JSONL_DESTINATION_PATH"] = str(tmp_path / "jsonl")
    (tmp_path / "jsonl").mkdir()
    return MeltanoProject(env=env, workdir=tmp_path)


def point_at(project: MeltanoProject, sandbox: RunningSandbox) -> None:
    """Aim both Ignite plugins at this sandbox, the way a user would: environment variables."""
    project.env.update(
        {
            "TAP_IGNITE_API_URL": sandbox.url,
            "TAP_IGNITE_API_TOKEN": sandbox.token,
            "TARGET_IGNITE_API_URL": sandbox.url,
            "TARGET_IGNITE_API_TOKEN": sandbox.token,
        }
    )


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, uniquely named database on the local PostgreSQL server."""
    name = f"ignite_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as con:
            con.execute(f'drop database if exists "{name}" with (force)')


def pg_connect(database: str) -> psycopg.Connection:
    return psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={database}")
