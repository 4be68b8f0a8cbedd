"""Snapshot BATCH output loaded by a real SDK-based target: meltanolabs-target-postgres on the
local PostgreSQL, piped from the real `tap-ignite` executable.

target-postgres (as meltano.yml pins it) reads parquet BATCH files with pyarrow, which it does not
pull in; a session fixture installs both into a virtualenv of their own with uv (from the package
index, or uv's cache).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from ignite_sandbox.launcher import RunningSandbox

from tests.tap_ignite.helpers import TAP_EXECUTABLE, catalog_selecting, sync, tap_config

MELTANO_YML = Path(__file__).parents[2] / "meltano.yml"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


def connect(dbname: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=autocommit
    )


@pytest.fixture(scope="session")
def target_postgres(tmp_path_factory: pytest.TempPathFactory) -> str:
    """target-postgres, installed with meltano.yml's own pip_url (and pyarrow) in a new venv."""
    project = yaml.safe_load(MELTANO_YML.read_text(encoding="utf-8"))
    (plugin,) = [p for p in project["plugins"]["loaders"] if p["name"] == "target-postgres"]
    venv = tmp_path_factory.mktemp("target-postgres") / "venv"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run(["uv", "venv", "-q", "-p", python, str(venv)], check=True, timeout=300)
    subprocess.run(
        ["uv", "pip", "install", "-q", "-p", str(venv / "bin" / "python"),
         *plugin["pip_url"].split(), *["pyarrow>=17"]],
        check=True,
        timeout=600,
    )  # fmt: skip
    return str(venv / "bin" / "target-postgres")


@pytest.fixture
def database() -> Iterator[str]:
    name = f"tap_ignite_export_{uuid.uuid4().hex[:12]}"
    with connect("postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connect("postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_pipeline(
    tmp_path: Path, target: str, tap_settings: dict[str, Any], database: str
) -> subprocess.CompletedProcess[bytes]:
    """`tap-ignite | target-postgres`, through a real pipe."""
    tap_file = tmp_path / "tap.json"
    tap_file.write_text(json.dumps(tap_settings), encoding="utf-8")
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(tap_settings, ["spend"])), encoding="utf-8")
    target_file = tmp_path / "target.json"
    target_file.write_text(
        json.dumps(
            {
                "sqlalchemy_url": f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}",
                "default_target_schema": "ignite",
            }
        ),
        encoding="utf-8",
    )
    with (tmp_path / "tap.log").open("ab") as log:
        tap = subprocess.Popen(
            [TAP_EXECUTABLE, "--config", str(tap_file), "--catalog", str(catalog)],
            stdout=subprocess.PIPE,
            stderr=log,
        )
        assert tap.stdout is not None
        loaded = subprocess.run(
            [target, "--config", str(target_file)],
            stdin=tap.stdout,
            capture_output=True,
            timeout=600,
            check=False,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        tap.stdout.close()
        assert tap.wait(timeout=600) == 0, (tmp_path / "tap.log").read_text()
    assert loaded.returncode == 0, loaded.stderr.decode()[-3000:]
    return loaded


def query(database: str, sql: str) -> list[tuple[Any, ...]]:
    with connect(database) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow  # installs the target from the package index, loads twice
def test_batch_snapshots_load_into_target_postgres_and_vanished_rows_are_marked_deleted(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    target_postgres: str,
    database: str,
) -> None:
    server = sandbox_factory(export_file_rows=1000)
    settings = tap_config(
        server,
        sync_mode="export",
        export_poll_interval=0.05,
        batch_config={
            "encoding": {"format": "parquet", "compression": "none"},
            "storage": {"root": (tmp_path / "batches").as_uri()},
        },
    )
    run_pipeline(tmp_path, target_postgres, settings, database)
    assert "handed over as a BATCH file as it is" in (tmp_path / "tap.log").read_text()

    # Every row, with the rows endpoint's exact money, dates and arrays.
    rows = {r["id"]: r for r in sync(tap_config(server), streams=["spend"]).records("spend")}
    loaded = query(
        database,
        "SELECT id, amount::text, amount_local::text, invoice_date::text, to_json(tags)::text, "
        "updated_at FROM ignite.spend",
    )
    assert len(loaded) == len(rows) == 3000
    for spend_id, amount, amount_local, invoice_date, tags, updated_at in loaded:
        row = rows[spend_id]
        assert Decimal(amount) == row["amount"]
        assert amount == str(row["amount"])
        assert (amount_local is None) == (row["amount_local"] is None)
        assert invoice_date == row["invoice_date"]
        assert json.loads(tags) == row["tags"]
        assert updated_at.strftime("%Y-%m-%dT%H:%M:%SZ") == row["updated_at"]
    assert query(database, "SELECT amount::text FROM ignite.spend WHERE id = 'SP-0000003'") == [
        ("12345678901234567.89",)
    ]
    (types,) = query(
        database,
        "SELECT array_agg(data_type::text ORDER BY column_name) FROM information_schema.columns "
        "WHERE table_schema = 'ignite' AND table_name = 'spend' "
        "AND column_name IN ('amount', 'invoice_date')",
    )
    assert types[0] == ["numeric", "date"]  # amount, invoice_date

    # A second snapshot without the non-NOK rows: ACTIVATE_VERSION marks them deleted.
    settings["filters"] = {"spend": {"currency": {"eq": "NOK"}}}
    run_pipeline(tmp_path, target_postgres, settings, database)
    counts = dict(
        query(
            database,
            "SELECT currency = 'NOK', count(*) FILTER (WHERE _sdc_deleted_at IS NULL) "
            "FROM ignite.spend GROUP BY 1",
        )
    )
    nok = sum(1 for r in rows.values() if r["currency"] == "NOK")
    assert counts == {True: nok, False: 0}
    assert query(database, "SELECT count(*) FROM ignite.spend") == [(3000,)]
