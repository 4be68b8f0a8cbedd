"""The pipelines the README promises, run for real: `meltano run` with the repository's meltano.yml.

The sandbox's own API is the source of truth: every check compares what landed in the warehouse
(or in the Ignite repository) with what the API serves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pytest
import requests
from ignite_sandbox.launcher import RunningSandbox

from scripts.postgres_demo import invoices, seed_invoices
from tests.e2e.conftest import ROOT, MeltanoProject, pg_connect, point_at

pytestmark = pytest.mark.slow

_decode = msgspec.json.Decoder(float_hook=Decimal).decode
README = (ROOT / "README.md").read_text(encoding="utf-8")


def api_tables(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    response = requests.get(
        f"{sandbox.url}/tables/", headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=60
    )
    response.raise_for_status()
    tables: list[dict[str, Any]] = _decode(response.content)
    return tables


def api_rows(sandbox: RunningSandbox, table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every row of a table through the rows API, with every column (arrays asked for by name)."""
    fields = [column["name"] for column in table["columns"]]
    key = "spend_id" if "spend_id" in fields else "id"
    body: dict[str, Any] = {"fields": fields, "pageSize": 5000}
    rows: dict[str, dict[str, Any]] = {}
    while True:
        response = requests.post(
            f"{sandbox.url}/tables/{table['id']}/rows",
            headers={"Authorization": f"Bearer {sandbox.token}"},
            data=msgspec.json.encode(body),
            timeout=120,
        )
        response.raise_for_status()
        page = _decode(response.content)
        for row in page["data"]:
            rows[row[key]] = row
        token = page.get("nextPageToken")
        if not token:
            return rows
        body["pageToken"] = token


def as_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    return list(json.loads(value)) if isinstance(value, str) else list(value)


def duckdb_rows(path: Path, table: str, key: str) -> dict[str, dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(f'select * from ignite."{table}"')  # noqa: S608 - test-owned names
        names = [d[0] for d in cursor.description]
        return {
            row[names.index(key)]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()
        }


def readme_duckdb_query() -> str:
    """The README's Python snippet that queries the DuckDB file the job loads."""
    section = README.split("## Querying the DuckDB file", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block, "the README shows how to query the DuckDB file"
    return block.group(1)


def test_ignite_to_duckdb_full_then_incremental(
    meltano_project: MeltanoProject, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    sandbox = sandbox_factory(spend_rows=2500)
    point_at(meltano_project, sandbox)
    warehouse = meltano_project.workdir / "output" / "warehouse.duckdb"
    meltano_project.env["TARGET_DUCKDB_TYPED_FILEPATH"] = str(warehouse)

    meltano_project.run("run", "ignite-to-duckdb")

    tables = {table["id"]: table for table in api_tables(sandbox)}
    assert {"spend", "suppliers", "contracts"} <= set(tables)
    expected: dict[str, dict[str, dict[str, Any]]] = {}
    for table_id, table in tables.items():
        key = "spend_id" if table_id.startswith("classification_") else "id"
        expected[table_id] = api_rows(sandbox, table)
        loaded = duckdb_rows(warehouse, table_id, key)
        assert loaded.keys() == expected[table_id].keys(), table_id

    # Typed columns: money as DECIMAL, dates as DATE, timestamps with their zone, lists.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where schema_name = 'ignite' and table_name = 'spend'"
            ).fetchall()
        )
    assert types["amount"] == "DECIMAL(38,9)"
    assert types["invoice_date"] == "DATE"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["tags"] == "VARCHAR[]"
    # Money: every spend amount, including those float64 cannot hold, arrives digit for digit.
    spend = duckdb_rows(warehouse, "spend", "id")
    big = [
        r for r in expected["spend"].values() if r["amount"] is not None and r["amount"] > 10**15
    ]
    assert big, "the sandbox should seed amounts that only survive exact decimals"
    for row_id, row in expected["spend"].items():
        assert spend[row_id]["amount"] == as_decimal(row["amount"]), row_id
        assert spend[row_id]["invoice_date"] == date.fromisoformat(row["invoice_date"])
        assert spend[row_id]["currency"] == row["currency"]
    # Arrays: STRING_ARRAY columns arrive as lists of the same strings.
    suppliers = duckdb_rows(warehouse, "suppliers", "id")
    array_columns = [
        c["name"] for c in tables["suppliers"]["columns"] if c["dataType"] == "STRING_ARRAY"
    ]
    assert array_columns
    for row_id, row in expected["suppliers"].items():
        for column in array_columns:
            assert suppliers[row_id][column] == row[column], (row_id, column)

    # The README's query, run the way the README says (from the project folder): exact sums
    # per currency, without a cast.
    totals: dict[str, Decimal] = {}
    for row in expected["spend"].values():
        if row["amount"] is not None:
            totals[row["currency"]] = totals.get(row["currency"], Decimal(0)) + row["amount"]
    printed = subprocess.run(
        [sys.executable, "-c", readme_duckdb_query()],
        cwd=meltano_project.workdir,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert {
        currency: Decimal(total)
        for currency, total in (line.split() for line in printed.splitlines())
    } == totals

    # Second run: only what changed (plus rows equal to the inclusive bookmark) moves.
    old_max = max(row["updated_at"] for row in expected["suppliers"].values())
    touched = set(sandbox.admin.touch("suppliers", 7))
    second_run_started = datetime.now(UTC)
    meltano_project.run("run", "ignite-to-duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        moved = {
            row[0]
            for row in con.execute(
                "select id from ignite.suppliers where _sdc_batched_at >= ?", [second_run_started]
            ).fetchall()
        }
        assert con.execute("select count(*) from ignite.suppliers").fetchone() == (
            len(expected["suppliers"]),
        )
    assert touched <= moved
    at_bookmark = {i for i, r in expected["suppliers"].items() if r["updated_at"] == old_max}
    assert moved - touched <= at_bookmark
    assert len(moved) < len(expected["suppliers"]) / 2


def test_ignite_to_postgres(
    meltano_project: MeltanoProject,
    sandbox_factory: Callable[..., RunningSandbox],
    pg_database: str,
) -> None:
    sandbox = sandbox_factory(spend_rows=1500)
    point_at(meltano_project, sandbox)
    meltano_project.env["TARGET_POSTGRES_DATABASE"] = pg_database

    meltano_project.run("run", "ignite-to-postgres")

    tables = {table["id"]: table for table in api_tables(sandbox)}
    spend = api_rows(sandbox, tables["spend"])
    suppliers = api_rows(sandbox, tables["suppliers"])
    with pg_connect(pg_database) as con:
        for table_id, table in tables.items():
            query = f'select count(*) from ignite."{table_id}"'  # noqa: S608 - API table ids
            (count,) = con.execute(query).fetchone() or (0,)
            assert count == len(api_rows(sandbox, table)), table_id
        loaded = {
            row[0]: row[1:]
            for row in con.execute("select id, amount, invoice_date, currency from ignite.spend")
        }
        tags = {row[0]: row[1] for row in con.execute("select id, tags from ignite.suppliers")}
    for row_id, row in spend.items():
        amount, invoice_date, currency = loaded[row_id]
        assert as_decimal(amount) == as_decimal(row["amount"]), row_id
        assert (None if invoice_date is None else str(invoice_date)[:10]) == row["invoice_date"]
        assert currency == row["currency"]
    for row_id, row in suppliers.items():
        assert as_list(tags[row_id]) == row["tags"], row_id


def seed_march(database: str) -> list[tuple[Any, ...]]:
    """erp.invoices as `./dev postgres` makes it, with 1200 rows of March."""
    rows = invoices("2026-03", 1200)
    assert seed_invoices(database, rows) == len(rows)
    return rows


def test_postgres_to_ignite_with_delete_query(
    meltano_project: MeltanoProject,
    sandbox_factory: Callable[..., RunningSandbox],
    pg_database: str,
) -> None:
    sandbox = sandbox_factory(spend_rows=200)
    point_at(meltano_project, sandbox)
    march = seed_march(pg_database)

    fields = ["invoice_id", "period", "supplier_name", "amount", "currency", "invoice_date",
              "description"]  # fmt: skip
    repository = sandbox.admin.create_repository("ERP invoices", fields)
    delete_march = sandbox.admin.create_delete_query(
        repository["id"], {"period": {"eq": "2026-03"}}
    )
    meltano_project.env.update(
        {
            "TAP_POSTGRES_DATABASE": pg_database,
            "TARGET_IGNITE_REPOSITORY_ID": repository["id"],
            "TARGET_IGNITE_DELETE_QUERY_ID": delete_march,
            "TARGET_IGNITE_BATCH_SIZE_ROWS": "500",
        }
    )

    meltano_project.run("run", "postgres-to-ignite")
    first = sandbox.admin.repository_rows(repository["id"])
    assert len(first) == len(march)
    by_id = {row["invoice_id"]: row for row in first}
    for invoice_id, period, supplier, amount, currency, invoice_date, description in march:
        row = by_id[invoice_id]
        assert row["period"] == period
        assert row["supplier_name"] == supplier
        assert Decimal(str(row["amount"])) == amount
        assert row["currency"] == currency
        assert str(row["invoice_date"])[:10] == invoice_date
        assert row["description"] == description

    # Loading the same month again (full refresh of the table) replaces it: no duplicates.
    meltano_project.run("run", "--full-refresh", "postgres-to-ignite")
    second = sandbox.admin.repository_rows(repository["id"])
    assert sorted(row["invoice_id"] for row in second) == sorted(row[0] for row in march)
    imports = [i for i in sandbox.admin.imports() if i["dataRepositoryId"] == repository["id"]]
    # 1200 rows in batches of 500: three imports per load, the delete query on the first only.
    assert len(imports) == 6
    assert [bool(i["deleteQueryId"]) for i in imports] == [True, False, False] * 2
