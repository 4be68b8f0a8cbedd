"""`use_singer_decimal`: NUMBER and MONETARY_AMOUNT as exact decimal strings, in rows mode,
both export formats and legacy data tables; and what it buys with target-duckdb, a loader
that stores JSON numbers as DOUBLE (target-duckdb-typed keeps every digit either way:
tests/target_duckdb_typed/test_with_tap_ignite.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ignite_sandbox.launcher import RunningSandbox

from tests.tap_ignite.helpers import TAP_EXECUTABLE, catalog_selecting, sync, tap_config

DECIMAL_STRING = {"type": ["string", "null"], "format": "x-singer.decimal"}
SPEND_DECIMALS = ("amount", "amount_local", "quantity")
SPEND_CUBE = "7dddc49f-bdeb-46b6-b5fd-ad9ea9b5ce66"
# The loader meltano.yml used before target-duckdb-typed, pinned as it was (DuckDB 1.1+
# drops the first row of every batch it loads).
TARGET_DUCKDB = ["target-duckdb==0.8.0", "duckdb==1.0.0"]


def spend(server: RunningSandbox, **settings: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema, id -> record) of one spend sync."""
    output = sync(tap_config(server, **settings), streams=["spend"])
    return output.schema("spend")["schema"], {r["id"]: r for r in output.records("spend")}


def test_rows_mode_sends_exact_decimal_strings(sandbox: RunningSandbox) -> None:
    plain_schema, plain = spend(sandbox)
    schema, records = spend(sandbox, use_singer_decimal=True)
    for key in SPEND_DECIMALS:
        assert plain_schema["properties"][key] == {"type": ["number", "null"]}
        assert schema["properties"][key] == DECIMAL_STRING
    # Every other property keeps its type.
    others = set(schema["properties"]) - set(SPEND_DECIMALS)
    assert {k: schema["properties"][k] for k in others} == {
        k: plain_schema["properties"][k] for k in others
    }
    assert records.keys() == plain.keys()
    for spend_id, record in records.items():
        for key in SPEND_DECIMALS:
            value, number = record[key], plain[spend_id][key]
            assert value == (None if number is None else str(number))
    assert records["SP-0000003"]["amount"] == "12345678901234567.89"
    assert records["SP-0000005"]["amount"] == "9007199254740993.01"
    # The suppliers' NUMBER column too (a DECIMAL(10,0) the sandbox writes as 30.0).
    output = sync(tap_config(sandbox, use_singer_decimal=True), streams=["suppliers"])
    terms = {r["payment_terms_days"] for r in output.records("suppliers")}
    assert terms
    assert all(isinstance(t, str) and Decimal(t) == int(Decimal(t)) for t in terms)


@pytest.mark.parametrize("export_format", ["parquet", "json"])
def test_export_mode_sends_the_same_decimal_strings(
    sandbox: RunningSandbox, export_format: str
) -> None:
    _, rows = spend(sandbox, use_singer_decimal=True)
    schema, exported = spend(
        sandbox,
        use_singer_decimal=True,
        sync_mode="export",
        export_format=export_format,
        export_poll_interval=0.05,
    )
    for key in SPEND_DECIMALS:
        assert schema["properties"][key] == DECIMAL_STRING
    assert exported.keys() == rows.keys()
    for spend_id, record in exported.items():
        for key in SPEND_DECIMALS:
            # The same digits, trailing zeros included (DECIMAL(38,2) and (18,3) columns).
            assert record[key] == rows[spend_id][key]


def test_legacy_data_tables_send_decimal_strings(sandbox: RunningSandbox) -> None:
    config = tap_config(sandbox, data_table_ids=[SPEND_CUBE], use_singer_decimal=True)
    output = sync(config, streams=["datatable_spend_cube_legacy"])
    schema = output.schema("datatable_spend_cube_legacy")["schema"]["properties"]
    assert schema["Amount"] == DECIMAL_STRING
    assert schema["Quantity"] == DECIMAL_STRING
    records = {r["ID"]: r for r in output.records("datatable_spend_cube_legacy")}
    assert records["LS-0000097"]["Amount"] == "12345678901234567.89"
    assert all(r["Amount"] is None or isinstance(r["Amount"], str) for r in records.values())


@pytest.fixture(scope="session")
def target_duckdb(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The target-duckdb executable, installed from the package index into a fresh venv."""
    venv = tmp_path_factory.mktemp("target-duckdb") / "venv"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run(["uv", "venv", "-q", "-p", python, str(venv)], check=True, timeout=300)
    subprocess.run(
        ["uv", "pip", "install", "-q", "-p", str(venv / "bin" / "python"), *TARGET_DUCKDB],
        check=True,
        timeout=600,
    )  # fmt: skip
    return str(venv / "bin" / "target-duckdb")


def load_into_duckdb(tmp_path: Path, target: str, tap_settings: dict[str, Any], name: str) -> Path:
    """`tap-ignite | target-duckdb` through a real pipe; returns the database file."""
    database = tmp_path / f"{name}.duckdb"
    files = {
        "tap": tap_settings,
        "catalog": catalog_selecting(tap_settings, ["spend"]),
        "target": {"filepath": str(database), "default_target_schema": "ignite"},
    }
    for key, content in files.items():
        (tmp_path / f"{name}-{key}.json").write_text(json.dumps(content), encoding="utf-8")
    tap = subprocess.Popen(
        [
            TAP_EXECUTABLE,
            "--config",
            str(tmp_path / f"{name}-tap.json"),
            "--catalog",
            str(tmp_path / f"{name}-catalog.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert tap.stdout is not None
    loaded = subprocess.run(
        [target, "--config", str(tmp_path / f"{name}-target.json")],
        stdin=tap.stdout,
        capture_output=True,
        timeout=600,
        check=False,
    )
    tap.stdout.close()
    assert tap.wait(timeout=600) == 0
    assert loaded.returncode == 0, loaded.stderr.decode()[-3000:]
    return database


@pytest.mark.slow  # installs the target from the package index, loads twice
def test_target_duckdb_keeps_every_digit_only_with_decimal_strings(
    sandbox: RunningSandbox, tmp_path: Path, target_duckdb: str
) -> None:
    exact = load_into_duckdb(
        tmp_path, target_duckdb, tap_config(sandbox, use_singer_decimal=True), "exact"
    )
    plain = load_into_duckdb(tmp_path, target_duckdb, tap_config(sandbox), "plain")
    query = "SELECT amount::VARCHAR FROM ignite.spend WHERE id = 'SP-0000003'"
    with duckdb.connect(str(exact), read_only=True) as con:
        assert con.execute(query).fetchall() == [("12345678901234567.89",)]
        (count,) = con.execute("SELECT count(*) FROM ignite.spend").fetchone() or (0,)
        assert count == 3000
    # Without decimal strings target-duckdb stores a DOUBLE, which cannot hold these digits.
    with duckdb.connect(str(plain), read_only=True) as con:
        ((stored,),) = con.execute(query).fetchall()
        assert Decimal(stored) != Decimal("12345678901234567.89")
