"""`./dev postgres`: what the ignite-to-postgres and postgres-to-ignite jobs need in PostgreSQL.

Creates (each only if missing) the database the jobs use, its `erp` schema and the table
`erp.invoices` with seed rows, the warehouse table that postgres-to-ignite loads into Ignite.
Safe to run again: nothing is dropped, rows already there stay.

The server is the local one meltano.yml names (127.0.0.1:5432, user postgres); the libpq
variables PGHOST, PGPORT, PGUSER and PGPASSWORD override it. The database is `ignite_demo`,
or TAP_POSTGRES_DATABASE, the variable that makes Meltano's tap-postgres read another one.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

DEFAULT_DATABASE = "ignite_demo"
SEED_PERIOD = "2026-03"
SEED_ROWS = 120

ERP_INVOICES = """
create schema if not exists erp;
create table if not exists erp.invoices (
    invoice_id text primary key,
    period text not null,
    supplier_name text,
    amount numeric(20, 2),
    currency text,
    invoice_date date,
    description text
);
"""
INSERT_INVOICE = """
insert into erp.invoices values (%s, %s, %s, %s, %s, %s, %s) on conflict (invoice_id) do nothing
"""


def invoices(period: str, count: int, start: int = 0) -> list[tuple[Any, ...]]:
    """ERP invoice rows: quotes, commas, newlines, non-ASCII, and amounts beyond float64."""
    return [
        (
            f"INV-{period}-{i:05d}",
            period,
            f'Leverandør {i % 17} "Nord"; AS',
            Decimal(f"{(i * 7919) % 10**7}.{i % 100:02d}") + (10**15 if i % 50 == 0 else 0),
            "NOK" if i % 3 else "EUR",
            f"{period}-{(i % 28) + 1:02d}",
            f"line {i}, with comma\nand newline",
        )
        for i in range(start, start + count)
    ]


def server_conninfo(database: str) -> str:
    """Connection settings: the local server unless the PG* variables say otherwise."""
    return psycopg.conninfo.make_conninfo(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", "postgres"),
        dbname=database,
    )


def create_database(database: str) -> bool:
    """Create the database unless it exists; True if it was created."""
    with psycopg.connect(server_conninfo("postgres"), autocommit=True) as con:
        exists = con.execute("select 1 from pg_database where datname = %s", [database]).fetchone()
        if exists:
            return False
        con.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        return True


def seed_invoices(database: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Create erp.invoices if missing and add these rows; returns how many it holds now."""
    with psycopg.connect(server_conninfo(database)) as con:
        con.execute(ERP_INVOICES)
        con.cursor().executemany(INSERT_INVOICE, rows)
        (count,) = con.execute("select count(*) from erp.invoices").fetchone() or (0,)
    return int(count)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default=os.environ.get("TAP_POSTGRES_DATABASE", DEFAULT_DATABASE)
    )
    args = parser.parse_args(argv)
    try:
        created = create_database(args.database)
        count = seed_invoices(args.database, invoices(SEED_PERIOD, SEED_ROWS))
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise SystemExit(
            f"Could not set up PostgreSQL database '{args.database}' at "
            f"{os.environ.get('PGHOST', '127.0.0.1')}:{os.environ.get('PGPORT', '5432')}: "
            f"{first_line} (is the server running? PGHOST, PGPORT and PGUSER choose another)"
        ) from None
    print(
        f"PostgreSQL database '{args.database}' {'created' if created else 'already there'}; "
        f"erp.invoices holds {count} rows (ignite-to-postgres writes schema 'ignite' there)",
        flush=True,
    )


if __name__ == "__main__":
    main()
