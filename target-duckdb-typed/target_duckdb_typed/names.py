"""Table and schema names, and quoting for the SQL the loader writes.

Tables are named after their stream so that a user can write them without quotes: the
stream name in lower case, every character other than a-z, 0-9 and `_` replaced by `_`
(`erp-invoices` -> `erp_invoices`, `Spend` -> `spend`). Columns keep their property names
exactly (quoted in SQL; DuckDB matches them case-insensitively, so `select amount` works).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT_PLAIN = re.compile(r"[^a-z0-9_]")


def conform(name: str) -> str:
    """A stream or schema name as a table or schema name."""
    return _NOT_PLAIN.sub("_", name.lower()) or "_"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class TableName:
    """Where a stream lands: catalog (the database file's name), schema and table."""

    catalog: str
    schema: str
    table: str

    @property
    def sql(self) -> str:
        """Fully qualified, so it never depends on the search path."""
        return f"{ident(self.catalog)}.{ident(self.schema)}.{ident(self.table)}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"
