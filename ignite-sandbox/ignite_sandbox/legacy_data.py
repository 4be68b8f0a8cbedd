"""The deprecated data tables: their listing and their seeded rows (keyed by column label).

Two tables: a spend cube big enough to need several 10,000-row iterations and a small
supplier segmentation. Every table has an "ID" column (zero-padded, so string order is
creation order, which paging follows) and a "Last Modified" TIMESTAMP column for bookmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from ignite_sandbox.db import first_row
from ignite_sandbox.seed import BUSINESS_UNITS, CATEGORIES, CURRENCIES, _pick, id_width

ID_LABEL = "ID"
LAST_MODIFIED_LABEL = "Last Modified"


@dataclass(frozen=True)
class LegacyColumn:
    """One column of a data table, as the deprecated listing shows it."""

    label: str
    data_type: str
    global_type: str | None

    def describe(self) -> dict[str, Any]:
        """The column as `GET /datatables/` shows it."""
        return {"label": self.label, "dataType": self.data_type, "globalType": self.global_type}


@dataclass(frozen=True)
class DataTable:
    """One deprecated data table and the DuckDB table holding its rows."""

    id: str
    name: str
    sql_table: str
    columns: tuple[LegacyColumn, ...]

    def describe(self) -> dict[str, Any]:
        """The table as `GET /datatables/` shows it."""
        return {"id": self.id, "name": self.name, "columns": [c.describe() for c in self.columns]}


SPEND_CUBE = DataTable(
    "7dddc49f-bdeb-46b6-b5fd-ad9ea9b5ce66",  # the id in the vendor's help article example
    "Spend Cube (legacy)",
    "legacy_spend_cube",
    (
        LegacyColumn(ID_LABEL, "STRING", "ID"),
        LegacyColumn("Supplier", "STRING", "SUPPLIER"),
        LegacyColumn("Transaction date", "DATE", "TRANSACTION_DATE"),
        LegacyColumn("Amount", "MONETARY_AMOUNT", "AMOUNT"),
        LegacyColumn("Currency", "STRING", "CURRENCY"),
        LegacyColumn("Department", "GROUP_STRUCTURE", "DEPARTMENT"),
        LegacyColumn("Region", "GROUP_STRUCTURE", "REGION"),
        LegacyColumn("Category", "GROUP_STRUCTURE", "CATEGORY"),
        LegacyColumn("Quantity", "NUMBER", None),
        LegacyColumn(LAST_MODIFIED_LABEL, "TIMESTAMP", "LAST_MODIFIED"),
    ),
)

SUPPLIER_SEGMENTS = DataTable(
    "c1a5e0d2-4b7f-4c3e-9d21-5f8a6b0e7d13",
    "Supplier Segments",
    "legacy_supplier_segments",
    (
        LegacyColumn(ID_LABEL, "STRING", "ID"),
        LegacyColumn("Supplier", "STRING", "SUPPLIER"),
        LegacyColumn("Segment", "STRING", None),
        LegacyColumn("Risk Score", "NUMBER", None),
        LegacyColumn("Preferred", "BOOL", None),
        LegacyColumn(LAST_MODIFIED_LABEL, "TIMESTAMP", "LAST_MODIFIED"),
    ),
)

DATA_TABLES: dict[str, DataTable] = {t.id: t for t in (SPEND_CUBE, SUPPLIER_SEGMENTS)}
SEGMENT_ROWS = 120
_SUPPLIER_BY_NUMBER = "(SELECT row_number() OVER (ORDER BY id) AS k, name FROM suppliers)"


def _last_modified(row: str, salt: int) -> str:
    return (
        f"TIMESTAMP '2023-01-01' + to_seconds((h({row}, {salt}) % (900 * 86400))::BIGINT)"
        f' AS "{LAST_MODIFIED_LABEL}"'
    )


def seed_data_tables(con: duckdb.DuckDBPyConnection, rows: int, seed_value: int) -> None:
    """(Re)create both data tables; needs the `h` macro that seed.py defines."""
    del seed_value  # the `h` macro already carries the seed
    n = max(1, rows)
    count = first_row(con, "SELECT count(*) FROM suppliers")
    n_sup = int(count[0]) if count else 1
    departments = [f"{b[0]}/{b[1]}/{b[2]}" for b in BUSINESS_UNITS]
    regions = list(dict.fromkeys(b[1] for b in BUSINESS_UNITS))
    categories = [" > ".join(c) for c in CATEGORIES]
    con.execute(f"""
        CREATE OR REPLACE TABLE {SPEND_CUBE.sql_table} AS
        SELECT
            'LS-' || lpad(i::VARCHAR, {id_width(n, 7)}, '0') AS "ID",
            s.name AS "Supplier",
            DATE '2022-01-01' + (h(i, 102) % 1400)::INTEGER AS "Transaction date",
            CASE WHEN i % 97 = 0 THEN 12345678901234567.89::DECIMAL(38, 2)
                 ELSE (((h(i, 103) % 5000000)::BIGINT - 100000)::DECIMAL(38, 0) * 0.01)
                      ::DECIMAL(38, 2)
            END AS "Amount",
            {_pick(CURRENCIES, 104)} AS "Currency",
            {_pick(departments, 105)} AS "Department",
            CASE WHEN h(i, 106) % 10 = 0 THEN NULL ELSE {_pick(regions, 107)} END AS "Region",
            {_pick(categories, 108)} AS "Category",
            CASE WHEN h(i, 109) % 20 = 0 THEN NULL
                 ELSE ((h(i, 110) % 100000)::DECIMAL(18, 0) * 0.01)::DECIMAL(18, 2)
            END AS "Quantity",
            {_last_modified("i", 111)}
        FROM range(1, {n + 1}) AS r(i)
        JOIN {_SUPPLIER_BY_NUMBER} AS s ON s.k = 1 + h(i, 101) % {n_sup}
        ORDER BY i
    """)
    segments = ["Strategic", "Leverage", "Bottleneck", "Non-critical"]
    con.execute(f"""
        CREATE OR REPLACE TABLE {SUPPLIER_SEGMENTS.sql_table} AS
        SELECT
            'SEG-' || lpad(i::VARCHAR, 4, '0') AS "ID",
            s.name AS "Supplier",
            {_pick(segments, 122)} AS "Segment",
            ((h(i, 123) % 1000)::DECIMAL(10, 0) * 0.1)::DECIMAL(10, 1) AS "Risk Score",
            h(i, 124) % 3 = 0 AS "Preferred",
            {_last_modified("i", 125)}
        FROM range(1, {SEGMENT_ROWS + 1}) AS r(i)
        JOIN {_SUPPLIER_BY_NUMBER} AS s ON s.k = 1 + h(i, 121) % {n_sup}
        ORDER BY i
    """)
