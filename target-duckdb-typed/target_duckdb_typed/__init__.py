"""target-duckdb-typed: a Singer target for DuckDB with typed, exact columns."""
