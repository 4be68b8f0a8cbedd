"""The export tables as `GET /tables/` lists them: columns, labels, dataTypes, operators.

The seeded DuckDB tables (seed.py) have exactly these columns, in this order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

SCALAR_OPERATORS = ("eq", "in", "gte", "lte", "between")
EQUALITY_OPERATORS = ("eq", "in")
ARRAY_OPERATORS = ("contains_any", "contains_all", "is_empty", "is_not_empty")

STRING = "STRING"
NUMBER = "NUMBER"
MONETARY_AMOUNT = "MONETARY_AMOUNT"
BOOL = "BOOL"
DATE = "DATE"
TIMESTAMP = "TIMESTAMP"
STRING_ARRAY = "STRING_ARRAY"
DOCUMENTED_DATA_TYPES = frozenset(
    (STRING, NUMBER, MONETARY_AMOUNT, BOOL, DATE, TIMESTAMP, STRING_ARRAY)
)
# Not in the documented enum: proves that clients survive a dataType they do not know. Its
# column is listed only when the sandbox runs with --unknown-data-types (the tests do), so the
# default sandbox, which the README and the demo use, does not make its own tap warn.
GROUP_STRUCTURE = "GROUP_STRUCTURE"


@dataclass(frozen=True)
class Column:
    """One column of an export table."""

    name: str
    label: str
    data_type: str
    operators: tuple[str, ...]

    @property
    def is_array(self) -> bool:
        """STRING_ARRAY columns are returned only when named in `fields`."""
        return self.data_type == STRING_ARRAY

    def describe(self) -> dict[str, Any]:
        """The column as `GET /tables/` shows it."""
        return {
            "name": self.name,
            "label": self.label,
            "dataType": self.data_type,
            "supportedOperators": list(self.operators),
        }


@dataclass(frozen=True)
class Table:
    """One export table: its id, display name and columns in `GET /tables/` order."""

    id: str
    name: str
    columns: tuple[Column, ...]
    order_by: str = "id"

    def column(self, name: str) -> Column | None:
        """The column with this name, if any."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def default_fields(self) -> list[Column]:
        """Every scalar column: what an omitted `fields` selects."""
        return [c for c in self.columns if not c.is_array]

    def without_unknown_data_types(self) -> Table:
        """The table without its columns of an undocumented dataType."""
        columns = tuple(c for c in self.columns if c.data_type in DOCUMENTED_DATA_TYPES)
        return Table(self.id, self.name, columns, self.order_by)

    def describe(self) -> dict[str, Any]:
        """The table as `GET /tables/` shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "table": self.id,
            "columns": [c.describe() for c in self.columns],
            "orderBy": [self.order_by],
        }

    def label_keys(self) -> dict[str, str]:
        """Column name -> response key under `keyBy: label` (the documented three rules)."""
        return label_keys([(c.name, c.label) for c in self.columns])


def label_keys(columns: list[tuple[str, str]]) -> dict[str, str]:
    """Unique keys from (name, label) pairs in listing order.

    1. The first column with a label keeps it. 2. Later ones get "<label> (<name>)".
    3. Any remaining collision gets " #2", " #3", ... until unique.
    """
    used: set[str] = set()
    seen: set[str] = set()
    keys: dict[str, str] = {}
    for name, label in columns:
        key = label if label not in seen else f"{label} ({name})"
        seen.add(label)
        if key in used:
            n = 2
            while f"{key} #{n}" in used:
                n += 1
            key = f"{key} #{n}"
        used.add(key)
        keys[name] = key
    return keys


def _col(name: str, label: str, data_type: str, operators: tuple[str, ...] = ()) -> Column:
    if not operators:
        operators = ARRAY_OPERATORS if data_type == STRING_ARRAY else SCALAR_OPERATORS
    return Column(name, label, data_type, operators)


SPEND = Table(
    "spend",
    "Spend",
    (
        _col("id", "ID", STRING),
        _col("supplier_id", "Supplier ID", STRING, EQUALITY_OPERATORS),
        _col("supplier_name", "Supplier", STRING),
        _col("amount", "Amount", MONETARY_AMOUNT),
        _col("amount_local", "Amount", MONETARY_AMOUNT),
        _col("currency", "Currency", STRING, EQUALITY_OPERATORS),
        _col("invoice_date", "Date", DATE),
        _col("posting_date", "Date", DATE),
        _col("due_date", "Date", DATE),
        _col("updated_at", "Updated At", TIMESTAMP),
        _col("business_unit", "Business Unit", STRING),
        _col("category", "Category", STRING),
        _col("quantity", "Quantity", NUMBER),
        _col("is_contracted", "Contracted", BOOL, EQUALITY_OPERATORS),
        _col("is_po", "PO", BOOL, EQUALITY_OPERATORS),
        _col("description", "Description", STRING, ("eq",)),
        _col("cost_center_path", "Cost Center", GROUP_STRUCTURE, EQUALITY_OPERATORS),
        # Its label equals the key rule 2 gives posting_date, so rule 3 (" #2") is exercised.
        _col("document_date", "Date (posting_date)", DATE),
        _col("tags", "Tags", STRING_ARRAY),
    ),
)

SUPPLIERS = Table(
    "suppliers",
    "Suppliers",
    (
        _col("id", "ID", STRING),
        _col("name", "Name", STRING),
        _col("country", "Country", STRING, EQUALITY_OPERATORS),
        _col("tax_id", "Tax ID", STRING, ("eq",)),
        _col("payment_terms_days", "Payment Terms (days)", NUMBER),
        _col("total_spend", "Total Spend", MONETARY_AMOUNT),
        _col("is_preferred", "Preferred", BOOL, EQUALITY_OPERATORS),
        _col("created_at", "Created At", TIMESTAMP),
        _col("updated_at", "Updated At", TIMESTAMP),
        _col("tags", "Tags", STRING_ARRAY),
        _col("countries", "Countries", STRING_ARRAY),
    ),
)

CONTRACTS = Table(
    "contracts",
    "Contracts",
    (
        _col("id", "ID", STRING),
        _col("supplier_id", "Supplier ID", STRING, EQUALITY_OPERATORS),
        _col("title", "Title", STRING, ("eq",)),
        _col("start_date", "Start Date", DATE),
        _col("end_date", "End Date", DATE),
        _col("contract_value", "Contract Value", MONETARY_AMOUNT),
        _col("currency", "Currency", STRING, EQUALITY_OPERATORS),
        _col("auto_renew", "Auto Renew", BOOL, EQUALITY_OPERATORS),
        _col("updated_at", "Updated At", TIMESTAMP),
        _col("categories", "Categories", STRING_ARRAY),
    ),
)

CLASSIFICATION_LEVELS = 10


def _classification(table_id: str, name: str) -> Table:
    columns = [_col("spend_id", "Spend ID", STRING)]
    for n in range(1, CLASSIFICATION_LEVELS + 1):
        columns.append(_col(f"level_{n}_id", f"Level {n} ID", STRING, EQUALITY_OPERATORS))
        columns.append(_col(f"level_{n}_name", f"Level {n}", STRING, EQUALITY_OPERATORS))
    return Table(table_id, name, tuple(columns), order_by="spend_id")


CLASSIFICATION_BUSINESS_UNITS = _classification(
    "classification_business_units", "Classification: Business Units"
)
CLASSIFICATION_SPEND_CATEGORIES = _classification(
    "classification_spend_categories", "Classification: Spend Categories"
)

TABLES: dict[str, Table] = {
    t.id: t
    for t in (
        SPEND,
        SUPPLIERS,
        CONTRACTS,
        CLASSIFICATION_BUSINESS_UNITS,
        CLASSIFICATION_SPEND_CATEGORIES,
    )
}


@functools.cache
def served_tables(*, unknown_data_types: bool) -> dict[str, Table]:
    """The tables `GET /tables/` lists: every column, or only those of a documented dataType."""
    if unknown_data_types:
        return TABLES
    return {table_id: t.without_unknown_data_types() for table_id, t in TABLES.items()}
