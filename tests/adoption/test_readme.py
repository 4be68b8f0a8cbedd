"""Every command the README shows works as written, from a new shell, in a fresh clone.

The README's bash blocks whose info string says `test` run here line by line, in order, in a
`git clone` of this repository (plus the working tree's uncommitted changes, so what is tested is
what would be committed); then `./dev demo` runs in the same clone. The other bash blocks say
why they are not run here (NOT_RUN), or are the `adoption` block that test_meltano_project runs.

The commands run as written. The environment only moves the sandbox off port 8765 (where another
run on this machine may have one: IGNITE_SANDBOX_PORT, TAP_IGNITE_API_URL, TARGET_IGNITE_API_URL)
and PostgreSQL to a database of this test's own (TAP_POSTGRES_DATABASE, TARGET_POSTGRES_DATABASE);
test_meltano_yml_points_where_the_readme_sandbox_listens proves the defaults meet.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
import requests
import yaml
from ignite_sandbox.config import SandboxConfig
from ignite_sandbox.launcher import DEFAULT_TOKEN

from scripts.postgres_demo import SEED_ROWS, server_conninfo
from tests.adoption.conftest import (
    ROOT,
    CodeBlock,
    free_port,
    new_shell_env,
    readme_blocks,
    run_logged,
)

# Bash blocks not run here, by their first line, and why.
NOT_RUN = {
    "./dev demo": "the Quickstart: `./dev test` is this suite (CI runs it); `./dev demo` runs in "
    "the fresh clone below, after the marked blocks",
    "export TAP_IGNITE_API_TOKEN=...": "needs Ignite itself and a real token; a prod run "
    "without one is tests/e2e/test_prod.py",
    "./dev run python -m benchmarks.run": "minutes of CPU at a million rows; benchmarks/ "
    "measures, tests do not",
    "export MELTANO_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/meltano_system": (
        "the three jobs at once on a PostgreSQL system database, then again incrementally: "
        "tests/e2e/test_parallel_tables.py"
    ),
    "./dev run dagster dev -m ignite_dagster.definitions -d orchestration/dagster": "a UI "
    "that runs until stopped; the job itself runs in-process in tests/e2e/test_dagster.py",
}
TABLES = {"spend", "suppliers", "contracts", "classification_business_units",
          "classification_spend_categories"}  # fmt: skip
SPEND_ROWS = 2000  # what the README's `./dev sandbox start --spend-rows 2000` seeds


def bash_blocks() -> list[CodeBlock]:
    return [block for block in readme_blocks() if block.language == "bash"]


def test_every_bash_block_is_run_or_says_why_not() -> None:
    blocks = bash_blocks()
    marked = [b for b in blocks if "test" in b.info]
    assert len(marked) >= 2, "the README's Meltano commands are marked `test`"
    assert sum("adoption" in b.info for b in blocks) == 1
    unmarked = {
        b.lines[0].split(" #")[0].strip() for b in blocks if not {"test", "adoption"} & set(b.info)
    }
    assert unmarked == set(NOT_RUN), "a bash block that is not run says why in NOT_RUN"


def test_meltano_yml_points_where_the_readme_sandbox_listens() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    url = f"http://127.0.0.1:{SandboxConfig().port}"
    for kind, name in (("extractors", "tap-ignite"), ("loaders", "target-ignite")):
        (plugin,) = [p for p in project["plugins"][kind] if p["name"] == name]
        assert plugin["config"]["api_url"] == url
        assert plugin["config"]["api_token"] == DEFAULT_TOKEN == SandboxConfig().token


def fresh_clone(destination: Path) -> None:
    """`git clone` of this repository at HEAD, plus the working tree's uncommitted changes."""

    def git(*args: str, cwd: Path = ROOT, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, **kwargs)

    head = git("rev-parse", "HEAD").stdout.decode().strip()
    git("clone", "--quiet", str(ROOT), str(destination))
    git("checkout", "--quiet", "--detach", head, cwd=destination)
    diff = git("diff", "HEAD", "--binary").stdout
    if diff.strip():
        git("apply", "--whitespace=nowarn", cwd=destination, input=diff)
    untracked = git("ls-files", "--others", "--exclude-standard", "-z").stdout.decode()
    for name in filter(None, untracked.split("\0")):
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)


@dataclass
class Clone:
    """A fresh clone, the environment its commands run in, and what they printed."""

    path: Path
    env: dict[str, str]
    sandbox_url: str
    database: str
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, command: str, timeout: float = 900) -> str:
        started = time.monotonic()
        result = run_logged(["bash", "-c", command], cwd=self.path, env=self.env, timeout=timeout)
        self.seconds[command] = time.monotonic() - started
        self.outputs[command] = result.stdout
        assert result.returncode == 0, (
            f"`{command}` exited {result.returncode}:\n" + (result.stdout[-5000:])
        )
        return result.stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clone]:
    path = tmp_path_factory.mktemp("fresh") / "ignite-meltano"
    fresh_clone(path)
    port = free_port()
    database = f"ignite_readme_{uuid.uuid4().hex[:10]}"
    url = f"http://127.0.0.1:{port}"
    env = new_shell_env(
        IGNITE_SANDBOX_PORT=str(port),
        TAP_IGNITE_API_URL=url,
        TARGET_IGNITE_API_URL=url,
        TAP_POSTGRES_DATABASE=database,
        TARGET_POSTGRES_DATABASE=database,
    )
    yield Clone(path, env, url, database)
    subprocess.run(["./dev", "sandbox", "stop"], cwd=path, env=env, capture_output=True,
                   timeout=120, check=False)  # fmt: skip
    with psycopg.connect(server_conninfo("postgres"), autocommit=True) as con:
        con.execute(f'drop database if exists "{database}" with (force)')


def erp_invoice_rows(sandbox_url: str) -> list[dict[str, Any]]:
    """The rows of the sandbox's seeded "ERP invoices" repository that carry an invoice id."""
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    listed = requests.get(f"{sandbox_url}/repositories/", headers=headers, timeout=60).json()
    (repository,) = [r for r in listed if r["name"] == "ERP invoices"]
    rows = requests.get(
        f"{sandbox_url}/_sandbox/repositories/{repository['id']}/rows", headers=headers, timeout=60
    ).json()["rows"]
    return [row for row in rows if row.get("invoice_id")]


def duckdb_spend_rows(output: Path) -> int:
    """Rows of the spend table in the DuckDB file ignite-to-duckdb wrote under output/."""
    (path,) = output.glob("*.duckdb")
    with duckdb.connect(str(path), read_only=True) as con:
        catalog, schema = con.execute(
            "select table_catalog, table_schema from information_schema.tables"
            " where table_name = 'spend'"
        ).fetchone() or ("", "")
        query = f'select count(*) from "{catalog}"."{schema}".spend'  # noqa: S608 - test-owned
        (count,) = con.execute(query).fetchone() or (0,)
    return int(count)


@pytest.mark.slow
def test_readme_commands_run_as_written_in_a_fresh_clone(clone: Clone) -> None:
    assert not (clone.path / ".venv").exists()
    assert (clone.path / "output").is_dir(), "output/ comes with the clone"
    for block in (b for b in bash_blocks() if "test" in b.info):
        for command in block.lines:
            if command.startswith("./dev sandbox stop"):
                # Before the sandbox goes: postgres-to-ignite loaded erp.invoices into it.
                loaded = erp_invoice_rows(clone.sandbox_url)
                assert sorted(r["invoice_id"] for r in loaded) == [
                    f"INV-2026-03-{i:05d}" for i in range(SEED_ROWS)
                ]
            clone.run(command)
    out = clone.outputs
    everything = "\n".join(out.values())
    assert "uv not found" not in everything  # ./dev found uv where pip --user put it
    assert "Traceback" not in everything
    assert "unknown dataType" not in everything  # the default sandbox: no warning of its own
    listed = next(o for c, o in out.items() if "select tap-ignite --list --all" in c)
    for table in TABLES:
        assert re.search(rf"\[(selected|automatic) *\] {table}\.id\b", listed) or (
            f"] {table}.spend_id" in listed
        ), table
    config = next(o for c, o in out.items() if "config list tap-ignite" in c)
    assert f"current value: '{clone.sandbox_url}'" in config
    tests = [o for c, o in out.items() if "config test" in c]
    assert len(tests) == 2
    assert all("Plugin configuration is valid" in o for o in tests)
    assert duckdb_spend_rows(clone.path / "output") == SPEND_ROWS
    with psycopg.connect(server_conninfo(clone.database)) as con:
        assert con.execute("select count(*) from ignite.spend").fetchone() == (SPEND_ROWS,)
        assert con.execute("select count(*) from erp.invoices").fetchone() == (SEED_ROWS,)


SECOND_RUN = re.compile(
    r"^\s+(\w+)\s+(in full|incremental on \w+)\s+([\d,]+)\s+([\d,]+)$", re.MULTILINE
)


@pytest.mark.slow
def test_demo_runs_in_the_fresh_clone(clone: Clone) -> None:
    output = clone.run("./dev demo")
    assert "unknown dataType" not in (clone.path / "output" / "demo" / "meltano.log").read_text()
    second = output.split("What the second run moved, per table:", 1)[1]
    rows = {m[0]: (m[1], int(m[2].replace(",", "")), int(m[3].replace(",", "")))
            for m in SECOND_RUN.findall(second)}  # fmt: skip
    assert set(rows) == TABLES
    assert rows["spend"][1] == 10000
    # 25 suppliers were changed: the incremental run moves those (and rows at the bookmark),
    # far fewer than the whole table.
    how, first, moved = rows["suppliers"]
    assert how == "incremental on updated_at"
    assert 25 <= moved < first
    for table in ("classification_business_units", "classification_spend_categories"):
        how, first, moved = rows[table]
        assert how == "in full"
        assert moved == first
    assert "read in full on every run" in second
    print(f"\nfresh-clone command seconds: { {c: round(t, 1) for c, t in clone.seconds.items()} }")
    assert "Sandbox import summary:" in output
    assert re.search(r"rows=\d+\s+format=json", output)
    assert "Sandbox stopped." in output
