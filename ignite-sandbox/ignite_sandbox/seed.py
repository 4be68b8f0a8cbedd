"""Deterministic procurement data for the five export tables, generated inside DuckDB.

Every value is a function of (row number, seed) through DuckDB's `hash`, so a million spend
rows take seconds (no Python loop per row) and the same `--seed` always gives the same data.
"""

from __future__ import annotations

import hashlib

import duckdb

from ignite_sandbox.catalog import CLASSIFICATION_LEVELS
from ignite_sandbox.db import first_row

# Rows 3 and 5 carry amounts that float64 cannot hold, so only exact decimal handling keeps them.
EXACT_AMOUNTS = {3: "12345678901234567.89", 5: "9007199254740993.01"}

SUPPLIER_PREFIXES = [
    "Nordic", "Ærøskøbing", "Bergen", "Oslo", "Malmö", "Zürich",
    "Göteborg", "Trondheim", "Århus", "Helsinki", "København", "Łódź",
]  # fmt: skip
SUPPLIER_CORES = [
    "Bæredygtig Kaffe", "Office Supply", "Logistics", "Consulting", "IT Services", "Facility",
    "Print & Media", "Catering", "Energy", "Cleaning", "Software", "Freight",
]  # fmt: skip
SUPPLIER_SUFFIXES = ["AS", "AB", "ApS", "Oy", "GmbH", "Ltd", "Inc.", "Sp. z o.o."]
COUNTRIES = ["NO", "SE", "DK", "FI", "DE", "GB", "US", "PL"]
CURRENCIES = ["NOK", "EUR", "SEK", "DKK", "USD", "GBP"]
# Local-currency rate per currency, in basis points of a NOK (integer arithmetic keeps it exact).
RATES_BP = [10000, 115000, 9800, 15400, 105000, 133000]
SUPPLIER_TAGS = [
    "strategic", "preferred", "it", "logistics", "local", "diverse", "sustainable", "critical",
]  # fmt: skip

# Business units: a three-level tree (group / country / unit); spend.business_unit is the leaf.
BUSINESS_UNITS = [
    ("Ignite Group", "Norway", "Oslo HQ"),
    ("Ignite Group", "Norway", "Bergen Plant"),
    ("Ignite Group", "Norway", "Trondheim R&D"),
    ("Ignite Group", "Sweden", "Stockholm Sales"),
    ("Ignite Group", "Sweden", "Malmö Logistics"),
    ("Ignite Group", "Denmark", "Ærøskøbing Office"),
    ("Ignite Group", "Finland", "Helsinki Support"),
    ("Ignite Group", "Germany", "Hamburg Warehouse"),
]
# Spend categories: a four-level tree; spend.category is the leaf.
CATEGORIES = [
    ("Indirect", "IT", "Software", "SaaS Subscriptions"),
    ("Indirect", "IT", "Hardware", "Laptops & Peripherals"),
    ("Indirect", "IT", "Services", "IT Consulting"),
    ("Indirect", "Facilities", "Maintenance", "Cleaning Services"),
    ("Indirect", "Facilities", "Utilities", "Electricity"),
    ("Indirect", "Office", "Supplies", "Office Supplies"),
    ("Indirect", "Office", "Food & Beverage", "Coffee & Catering"),
    ("Indirect", "Professional Services", "Advisory", "Management Consulting"),
    ("Indirect", "Professional Services", "Legal", "Legal Services"),
    ("Direct", "Raw Materials", "Metals", "Steel"),
    ("Direct", "Packaging", "Corrugated", "Cardboard Boxes"),
    ("Direct", "Logistics", "Freight", "Road Freight"),
]
# Free text with everything a CSV or JSON writer can get wrong.
DESCRIPTIONS = [
    "Ærøskøbing Bæredygtig Kaffe",
    'Office chairs, "ergonomic"; 12 pcs',
    "Line one\nLine two",
    'Consulting \u2013 Q3 "Phase 2", travel; expenses',
    "Crème brûlée catering; Zürich",
    "Kontorrekvisita; blyanter, papir",
    "請求書 — 東京オフィス",
    "Freight Oslo→Malmö, pallets: 4",
    "It's a 'quoted' note\twith a tab",
    "Cleaning services, March",
    "Laptop refresh 2025 (batch #2)",
    "Électricité; facture mensuelle",
]
CONTRACT_KINDS = ["framework agreement", "service contract", "purchase agreement", "SLA"]


def _sql_list(values: list[str]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"([{quoted}]::VARCHAR[])"


def _pick(values: list[str], salt: int, row: str = "i") -> str:
    """SQL choosing one of `values` for each row."""
    return f"{_sql_list(values)}[1 + (h({row}, {salt}) % {len(values)})::INTEGER]"


def _id(prefix: str, width: int, expr: str) -> str:
    return f"'{prefix}' || lpad(({expr})::VARCHAR, {width}, '0')"


def id_width(count: int, minimum: int) -> int:
    """Zero-padding wide enough that string order equals numeric order."""
    return max(minimum, len(str(count)))


def seed_export_tables(con: duckdb.DuckDBPyConnection, spend_rows: int, seed: int) -> None:
    """(Re)create spend, suppliers, contracts and both classification tables."""
    n_spend = max(1, spend_rows)
    n_sup = max(1, n_spend // 50)
    n_con = max(1, n_sup // 2)
    sup_w = id_width(n_sup, 6)
    # One well-mixed hash per (row, salt): DuckDB's multi-argument hash combines the
    # arguments' hashes in a way that leaves low bits correlated across salts.
    mix = int.from_bytes(hashlib.blake2b(str(seed).encode(), digest_size=8).digest()) >> 2
    con.execute(
        f"CREATE OR REPLACE MACRO h(i, k) AS hash(xor((i::BIGINT << 10) + k, {mix}::BIGINT))"
    )
    _seed_suppliers(con, n_sup, sup_w)
    _seed_contracts(con, n_con, n_sup, sup_w)
    _seed_spend(con, n_spend, n_sup, sup_w)
    _seed_classifications(con)
    con.execute("DROP TABLE IF EXISTS _spend_base")


def _seed_suppliers(con: duckdb.DuckDBPyConnection, n: int, width: int) -> None:
    con.execute(f"""
        CREATE OR REPLACE TABLE suppliers AS
        SELECT
            {_id("SUP-", width, "i")} AS id,
            {_pick(SUPPLIER_PREFIXES, 1)} || ' ' || {_pick(SUPPLIER_CORES, 2)} || ' '
                || {_pick(SUPPLIER_SUFFIXES, 3)} AS name,
            {_pick(COUNTRIES, 4)} AS country,
            CASE WHEN h(i, 5) % 5 = 0 THEN NULL
                 ELSE {_pick(COUNTRIES, 4)} || lpad((h(i, 6) % 1000000000)::VARCHAR, 9, '0')
            END AS tax_id,
            -- DECIMAL(18, 0): DuckDB writes a narrower DECIMAL(p, 0) to JSON as 30.0, not 30.
            ([10, 14, 30, 45, 60, 90][1 + (h(i, 7) % 6)::INTEGER])::DECIMAL(18, 0)
                AS payment_terms_days,
            ((h(i, 8) % 5000000000)::DECIMAL(38, 0) * 0.01)::DECIMAL(38, 2) AS total_spend,
            h(i, 9) % 4 = 0 AS is_preferred,
            TIMESTAMP '2019-01-01' + to_seconds((h(i, 10) % (4 * 365 * 86400))::BIGINT)
                AS created_at,
            TIMESTAMP '2023-01-01' + to_seconds((h(i, 11) % (2 * 365 * 86400))::BIGINT)
                AS updated_at,
            CASE WHEN h(i, 12) % 4 = 0 THEN []::VARCHAR[] ELSE list_filter(
                {_sql_list(SUPPLIER_TAGS)}, lambda x, j: ((h(i, 13) >> (j - 1)) & 1) = 1)
            END AS tags,
            CASE WHEN h(i, 14) % 5 = 0 THEN []::VARCHAR[] ELSE list_filter(
                {_sql_list(COUNTRIES)}, lambda x, j: ((h(i, 15) >> (j - 1)) % 4) = 0)
            END AS countries
        FROM range(1, {n + 1}) AS r(i)
        ORDER BY i
    """)


def _seed_contracts(con: duckdb.DuckDBPyConnection, n: int, n_sup: int, sup_w: int) -> None:
    leaves = [c[3] for c in CATEGORIES]
    con.execute(f"""
        CREATE OR REPLACE TABLE contracts AS
        SELECT
            {_id("CON-", id_width(n, 6), "i")} AS id,
            {_id("SUP-", sup_w, f"1 + h(i, 21) % {n_sup}")} AS supplier_id,
            {_pick(leaves, 22)} || ' ' || {_pick(CONTRACT_KINDS, 23)} || ' '
                || (2020 + h(i, 24) % 6)::VARCHAR AS title,
            DATE '2020-01-01' + (h(i, 25) % 2000)::INTEGER AS start_date,
            CASE WHEN h(i, 26) % 5 = 0 THEN NULL
                 ELSE DATE '2020-01-01' + (h(i, 25) % 2000)::INTEGER + 365
                      + (h(i, 27) % 1095)::INTEGER
            END AS end_date,
            ((100000 + h(i, 28) % 10000000000)::DECIMAL(38, 0) * 0.01)::DECIMAL(38, 2)
                AS contract_value,
            {_pick(CURRENCIES, 29)} AS currency,
            h(i, 30) % 2 = 0 AS auto_renew,
            TIMESTAMP '2023-01-01' + to_seconds((h(i, 31) % (2 * 365 * 86400))::BIGINT)
                AS updated_at,
            CASE WHEN h(i, 32) % 4 = 0 THEN []::VARCHAR[] ELSE list_filter(
                {_sql_list(leaves)}, lambda x, j: ((h(i, 33) >> (j - 1)) % 5) = 0)
            END AS categories
        FROM range(1, {n + 1}) AS r(i)
        ORDER BY i
    """)


def _seed_spend(con: duckdb.DuckDBPyConnection, n: int, n_sup: int, sup_w: int) -> None:
    exact = " ".join(f"WHEN i = {i} THEN {v}::DECIMAL(38, 2)" for i, v in EXACT_AMOUNTS.items())
    # cents: mostly everyday invoices, 2% credit notes, 1% far above 10^12 (17-19 digits).
    con.execute(f"""
        CREATE OR REPLACE TABLE _spend_base AS
        SELECT
            i,
            1 + (h(i, 41) % {n_sup}) AS sup,
            (h(i, 42) % {len(CURRENCIES)})::INTEGER + 1 AS cur,
            (h(i, 43) % {len(BUSINESS_UNITS)})::INTEGER + 1 AS bu,
            (h(i, 44) % {len(CATEGORIES)})::INTEGER + 1 AS cat,
            CASE
                WHEN h(i, 45) % 100 = 0
                    THEN 100000000000000000::HUGEINT + (h(i, 46) % 900000000000000000)
                WHEN h(i, 45) % 50 = 1 THEN -((h(i, 46) % 500000) + 100)::HUGEINT
                ELSE ((h(i, 46) % 2000000) + 100)::HUGEINT
            END AS cents,
            DATE '2023-01-01' + (h(i, 47) % 1200)::INTEGER AS invoice_date
        FROM range(1, {n + 1}) AS r(i)
    """)
    spend_w = id_width(n, 7)
    bu_leaves = [b[2] for b in BUSINESS_UNITS]
    cat_leaves = [c[3] for c in CATEGORIES]
    cost_centers = [f"{b[0]}/{b[1]}/{b[2]}" for b in BUSINESS_UNITS]
    con.execute(f"""
        CREATE OR REPLACE TABLE spend AS
        SELECT
            {_id("SP-", spend_w, "b.i")} AS id,
            s.id AS supplier_id,
            s.name AS supplier_name,
            CASE {exact} ELSE (b.cents::DECIMAL(38, 0) * 0.01)::DECIMAL(38, 2) END AS amount,
            CASE WHEN h(b.i, 48) % 50 = 0 THEN NULL
                 ELSE ((b.cents * {_sql_int_list(RATES_BP)}[b.cur] // 10000)::DECIMAL(38, 0)
                       * 0.01)::DECIMAL(38, 2)
            END AS amount_local,
            {_sql_list(CURRENCIES)}[b.cur] AS currency,
            b.invoice_date,
            b.invoice_date + (h(b.i, 49) % 10)::INTEGER AS posting_date,
            CASE WHEN h(b.i, 50) % 30 = 0 THEN NULL ELSE b.invoice_date + 30 END AS due_date,
            TIMESTAMP '2024-01-01' + to_seconds((h(b.i, 51) % (2 * 365 * 86400))::BIGINT)
                AS updated_at,
            {_sql_list(bu_leaves)}[b.bu] AS business_unit,
            {_sql_list(cat_leaves)}[b.cat] AS category,
            CASE WHEN h(b.i, 52) % 20 = 0 THEN NULL
                 ELSE ((h(b.i, 53) % 5000000)::DECIMAL(18, 0) * 0.001)::DECIMAL(18, 3)
            END AS quantity,
            h(b.i, 54) % 3 = 0 AS is_contracted,
            h(b.i, 55) % 4 <> 0 AS is_po,
            CASE WHEN h(b.i, 56) % 33 = 0 THEN NULL
                 ELSE {_pick(DESCRIPTIONS, 57, "b.i")} || ' #' || b.i::VARCHAR
            END AS description,
            CASE WHEN h(b.i, 58) % 25 = 0 THEN NULL
                 ELSE {_sql_list(cost_centers)}[b.bu] || '/CC-' || (100 + h(b.i, 59) % 40)::VARCHAR
            END AS cost_center_path,
            b.invoice_date - (h(b.i, 60) % 5)::INTEGER AS document_date,
            CASE WHEN h(b.i, 61) % 3 = 0 THEN []::VARCHAR[] ELSE list_filter(
                ['capex', 'opex', 'recurring', 'one-off', 'urgent'],
                lambda x, j: ((h(b.i, 62) >> (j - 1)) & 1) = 1)
            END AS tags
        FROM _spend_base AS b
        JOIN suppliers AS s ON s.id = {_id("SUP-", sup_w, "b.sup")}
        ORDER BY b.i
    """)


def _sql_int_list(values: list[int]) -> str:
    return "([" + ", ".join(str(v) for v in values) + "]::BIGINT[])"


def _tree_columns(tree: list[tuple[str, ...]], prefix: str, index: str) -> str:
    """level_N_id / level_N_name for N = 1..10 from a tree row chosen by `index`."""
    parts = []
    for level in range(1, CLASSIFICATION_LEVELS + 1):
        if level <= len(tree[0]):
            names = [row[level - 1] for row in tree]
            # An id per distinct path prefix, stable for the tree's order.
            prefixes = [" / ".join(row[:level]) for row in tree]
            distinct = list(dict.fromkeys(prefixes))
            ids = [f"{prefix}-{level}-{distinct.index(p) + 1:02d}" for p in prefixes]
            parts.append(f"{_sql_list(ids)}[{index}] AS level_{level}_id")
            parts.append(f"{_sql_list(names)}[{index}] AS level_{level}_name")
        else:
            parts.append(f"NULL::VARCHAR AS level_{level}_id")
            parts.append(f"NULL::VARCHAR AS level_{level}_name")
    return ",\n            ".join(parts)


def _seed_classifications(con: duckdb.DuckDBPyConnection) -> None:
    spend_w = first_row(con, "SELECT max(length(id)) - 3 FROM spend")
    width = int(spend_w[0]) if spend_w and spend_w[0] else 7
    for table, tree, prefix, index in (
        ("classification_business_units", BUSINESS_UNITS, "BU", "b.bu"),
        ("classification_spend_categories", CATEGORIES, "SC", "b.cat"),
    ):
        con.execute(f"""
            CREATE OR REPLACE TABLE {table} AS
            SELECT
                {_id("SP-", width, "b.i")} AS spend_id,
                {_tree_columns(list(tree), prefix, index)}
            FROM _spend_base AS b
            ORDER BY b.i
        """)
