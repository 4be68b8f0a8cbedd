"""target-duckdb-typed settings: the schema users configure (it is the README's table).

Defaults live in the schema and nowhere else. What JSON Schema cannot express is checked
right after the SDK's own validation, before the database file is opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singer_sdk import typing as th

from target_duckdb_typed.sql_types import MAX_DECIMAL_PRECISION

DEFAULT_FILEPATH = "output/warehouse.duckdb"
DEFAULT_SCHEMA = "main"
DEFAULT_DECIMAL_PRECISION = 38
DEFAULT_DECIMAL_SCALE = 9
DEFAULT_BATCH_SIZE_ROWS = 20_000
DEFAULT_MEMORY_LIMIT = "48MB"

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "filepath",
        th.StringType,
        default=DEFAULT_FILEPATH,
        description=(
            "The DuckDB database file (made, with its folder, if missing). Its name without "
            "the extension is the catalog name DuckDB gives it, e.g. `warehouse`."
        ),
    ),
    th.Property(
        "default_target_schema",
        th.StringType,
        default=DEFAULT_SCHEMA,
        description=(
            "Schema every stream's table goes in (in lower case, characters other than "
            "a-z, 0-9 and `_` as `_`). It may not be the file's catalog name: in "
            "`ignite.duckdb`, `ignite.spend` could be catalog `ignite` or schema `ignite`."
        ),
    ),
    th.Property(
        "decimal_precision",
        th.IntegerType(minimum=1, maximum=MAX_DECIMAL_PRECISION),
        default=DEFAULT_DECIMAL_PRECISION,
        description=(
            "Total digits of DECIMAL columns made for `number` properties and "
            "`x-singer.decimal` strings that do not declare their own `precision`."
        ),
    ),
    th.Property(
        "decimal_scale",
        th.IntegerType(minimum=0, maximum=MAX_DECIMAL_PRECISION),
        default=DEFAULT_DECIMAL_SCALE,
        description=(
            "Digits after the point of those DECIMAL columns. A value with more digits "
            "after the point, or more before it than precision minus scale, stops the load "
            "with its stream, key and value: values are never rounded."
        ),
    ),
    th.Property(
        "soft_delete",
        th.BooleanType,
        default=False,
        description=(
            "When an ACTIVATE_VERSION retires the rows of older versions of a stream: mark "
            "them with `_sdc_deleted_at` instead of deleting them."
        ),
    ),
    th.Property(
        "add_record_metadata",
        th.BooleanType,
        default=True,
        description=(
            "Add `_sdc_extracted_at` (the RECORD's time_extracted), `_sdc_batched_at` (when "
            "its batch was committed), `_sdc_table_version` and `_sdc_deleted_at` to every "
            "table. Without it, tables get the last two only once their stream sends a "
            "version."
        ),
    ),
    th.Property(
        "memory_limit",
        th.StringType,
        default=DEFAULT_MEMORY_LIMIT,
        description=(
            "Memory DuckDB may use while loading (its `memory_limit`, e.g. `48MB`, `1GB`); "
            "beyond it DuckDB writes temporary files next to the database. Raise it if a "
            "load stops because DuckDB ran out of memory."
        ),
    ),
    th.Property(
        "batch_size_rows",
        th.IntegerType(minimum=1),
        default=DEFAULT_BATCH_SIZE_ROWS,
        description=(
            "Most rows of one stream committed in one transaction (a run of BATCH messages "
            "is one transaction whatever its size)."
        ),
    ),
).to_dict()


def check(config: Mapping[str, Any]) -> list[str]:
    """What is wrong with the settings beyond their JSON Schema, one line per problem."""
    problems = []
    if not str(config.get("filepath") or "").strip():
        problems.append("filepath is empty: name the DuckDB database file to load")
    precision = int(config.get("decimal_precision") or DEFAULT_DECIMAL_PRECISION)
    scale = int(config.get("decimal_scale") or 0)
    if scale > precision:
        problems.append(
            f"decimal_scale ({scale}) is larger than decimal_precision ({precision}): "
            "a DECIMAL has at most as many digits after the point as it has in all"
        )
    if not str(config.get("default_target_schema") or "").strip():
        problems.append("default_target_schema is empty")
    return problems
