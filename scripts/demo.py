"""The README's main command: Ignite -> DuckDB twice (the second run incremental), then a
warehouse table -> Ignite, all against a local ignite-sandbox, printing what each step did.

Run it through `./dev demo`, which installs everything first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import msgspec
from ignite_sandbox.launcher import RunningSandbox, run_sandbox
from tap_ignite.tap import TapIgnite

ROOT = Path(__file__).resolve().parent.parent
DUCKDB_SCHEMA = "ignite"  # target-duckdb-typed's default_target_schema in meltano.yml
TOUCHED_SUPPLIERS = 25
SUMMARY_REPOSITORY = "Supplier spend summary"
SUMMARY_FIELDS = ["SupplierId", "SupplierName", "Currency", "TotalAmount", "Invoices"]


def say(text: str) -> None:
    print(text, flush=True)


def meltano(args: list[str], env: Mapping[str, str], stdin: Path | None = None) -> None:
    """Run one meltano command; its own log goes to a file, and a failure shows its tail."""
    log_path = Path(env["DEMO_DIR"]) / "meltano.log"
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n$ meltano {' '.join(args)}\n")
        log.flush()
        with stdin.open("rb") if stdin else open(os.devnull, "rb") as stdin_file:
            result = subprocess.run(
                ["meltano", *args],
                cwd=ROOT,
                env=dict(env),
                stdin=stdin_file,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
    if result.returncode != 0:
        tail = log_path.read_text(encoding="utf-8").splitlines()[-40:]
        say("\n".join(tail))
        sys.exit(f"meltano {' '.join(args)} failed with exit code {result.returncode}")


def table_counts(db_path: Path, since: datetime | None = None) -> dict[str, int]:
    """Rows per table in the DuckDB file (only rows loaded at or after `since`, if given)."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ?"
                " order by table_name",
                [DUCKDB_SCHEMA],
            ).fetchall()
        ]
        counts = {}
        for table in tables:
            query = f'select count(*) from {DUCKDB_SCHEMA}."{table}"'  # noqa: S608 - names come from information_schema
            params: list[Any] = []
            if since is not None:
                query += " where _sdc_batched_at >= ?"
                params.append(since)
            row = con.execute(query, params).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def print_counts(title: str, counts: Mapping[str, int]) -> None:
    say(title)
    for table, count in counts.items():
        say(f"  {table:<36} {count:>9,}")


def how_tables_are_read(sandbox: RunningSandbox) -> dict[str, str]:
    """Table -> how tap-ignite reads it, from the catalog it discovers (as Meltano sees it)."""
    tap = TapIgnite(config={"api_url": sandbox.url, "api_token": sandbox.token})
    read_as = {}
    for entry in tap.catalog_dict["streams"]:
        key = entry.get("replication_key")
        incremental = entry.get("replication_method") == "INCREMENTAL" and key
        read_as[entry["tap_stream_id"]] = f"incremental on {key}" if incremental else "in full"
    return read_as


def print_second_run(
    first: Mapping[str, int], second: Mapping[str, int], read_as: Mapping[str, str]
) -> None:
    """What each table moved on the second run, and why: incremental or read in full."""
    say("What the second run moved, per table:")
    say(f"  {'table':<36} {'read':<26} {'1st run':>9} {'2nd run':>9}")
    for table, count in first.items():
        how = read_as.get(table, "?")
        say(f"  {table:<36} {how:<26} {count:>9,} {second.get(table, 0):>9,}")
    say(
        "  Incremental tables move only the rows changed since the last run (plus rows equal to "
        "the bookmark)."
    )
    full = [table for table in first if read_as.get(table) == "in full"]
    if full:
        say(
            f"  {', '.join(full)}: no updated_at, so read in full on every run; the second run "
            "re-reads them by design, not because an incremental load failed."
        )


def print_spend_per_currency(db_path: Path) -> None:
    """The README's query: exact sums of a DECIMAL column, no cast."""
    query = f"select currency, sum(amount) from {DUCKDB_SCHEMA}.spend group by 1 order by 1"  # noqa: S608 - a constant schema name
    say(f"{query}:")
    with duckdb.connect(str(db_path), read_only=True) as con:
        for currency, total in con.execute(query).fetchall():
            say(f"  {currency}  {total}")


def write_summary_singer_file(db_path: Path, path: Path) -> int:
    """A small warehouse table (spend per supplier, from DuckDB) as a Singer file."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            f"""
            select supplier_id, any_value(supplier_name), currency, sum(amount), count(*)
            from {DUCKDB_SCHEMA}.spend
            where supplier_id is not null and amount is not null
            group by supplier_id, currency
            order by supplier_id, currency
            limit 200
            """  # noqa: S608 - a constant schema name, no user input
        ).fetchall()
    schema = {
        "type": "object",
        "properties": {
            "SupplierId": {"type": "string"},
            "SupplierName": {"type": ["string", "null"]},
            "Currency": {"type": ["string", "null"]},
            "TotalAmount": {"type": ["number", "null"]},
            "Invoices": {"type": ["integer", "null"]},
        },
    }
    encoder = msgspec.json.Encoder(decimal_format="number")
    with path.open("wb") as out:
        out.write(
            encoder.encode(
                {
                    "type": "SCHEMA",
                    "stream": "supplier_spend",
                    "schema": schema,
                    "key_properties": ["SupplierId", "Currency"],
                }
            )
            + b"\n"
        )
        for supplier_id, name, currency, total, invoices in rows:
            record = {
                "SupplierId": supplier_id,
                "SupplierName": name,
                "Currency": currency,
                "TotalAmount": Decimal(total),
                "Invoices": invoices,
            }
            out.write(
                encoder.encode({"type": "RECORD", "stream": "supplier_spend", "record": record})
                + b"\n"
            )
    return len(rows)


def run_demo(sandbox: RunningSandbox, demo_dir: Path) -> None:
    db_path = demo_dir / "warehouse.duckdb"
    env = {
        **os.environ,
        "DEMO_DIR": str(demo_dir),
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_DATABASE_URI": f"sqlite:///{demo_dir / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_IGNITE_API_URL": sandbox.url,
        "TAP_IGNITE_API_TOKEN": sandbox.token,
        "TARGET_IGNITE_API_URL": sandbox.url,
        "TARGET_IGNITE_API_TOKEN": sandbox.token,
        "TARGET_DUCKDB_TYPED_FILEPATH": str(db_path),
    }

    say(
        "== meltano install tap-ignite target-duckdb-typed target-ignite "
        "(first time takes a minute) =="
    )
    started = time.monotonic()
    meltano(["install", "tap-ignite", "target-duckdb-typed", "target-ignite"], env)
    say(f"   installed in {time.monotonic() - started:.0f}s")

    say("\n== meltano run tap-ignite target-duckdb-typed (first run: everything) ==")
    started = time.monotonic()
    meltano(["run", "tap-ignite", "target-duckdb-typed"], env)
    say(f"   took {time.monotonic() - started:.1f}s")
    first_counts = table_counts(db_path)
    read_as = how_tables_are_read(sandbox)
    print_counts(f"Rows per table in {db_path.name}:", first_counts)
    print_spend_per_currency(db_path)

    touched = sandbox.admin.touch("suppliers", TOUCHED_SUPPLIERS)
    say(f"\n== changed {len(touched)} suppliers in the sandbox (e.g. {', '.join(touched[:3])}) ==")
    second_run_started = datetime.now(UTC)  # _sdc_batched_at is a TIMESTAMPTZ
    say("== meltano run tap-ignite target-duckdb-typed (second run: incremental) ==")
    started = time.monotonic()
    meltano(["run", "tap-ignite", "target-duckdb-typed"], env)
    say(f"   took {time.monotonic() - started:.1f}s")
    print_second_run(first_counts, table_counts(db_path, since=second_run_started), read_as)

    say("\n== a warehouse table into Ignite: meltano invoke target-ignite ==")
    repository = sandbox.admin.create_repository(SUMMARY_REPOSITORY, SUMMARY_FIELDS)
    singer_file = demo_dir / "supplier_spend.singer"
    sent = write_summary_singer_file(db_path, singer_file)
    env["TARGET_IGNITE_REPOSITORY_ID"] = repository["id"]
    meltano(["invoke", "target-ignite"], env, stdin=singer_file)
    say(f"   sent {sent} rows of supplier_spend (from DuckDB) to repository '{repository['name']}'")
    say("Sandbox import summary:")
    for item in sandbox.admin.imports():
        say(
            f"  {item['importName']:<48} rows={item['rows']:<6} format={item['format']:<7}"
            f" id={item['importId']}"
        )
    stored = sandbox.admin.repository_rows(repository["id"])
    say(f"   repository now holds {len(stored)} rows; first: {stored[0] if stored else None}")
    say(f"\nDone. DuckDB file: {db_path}   Meltano log: {demo_dir / 'meltano.log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spend-rows", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=ROOT / "output" / "demo")
    args = parser.parse_args()

    demo_dir: Path = args.dir.resolve()
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    say(f"== starting ignite-sandbox with {args.spend_rows:,} spend rows ==")
    with run_sandbox(spend_rows=args.spend_rows, seed=args.seed) as sandbox:
        say(f"   {sandbox.url}")
        run_demo(sandbox, demo_dir)
    say("Sandbox stopped.")


if __name__ == "__main__":
    main()
