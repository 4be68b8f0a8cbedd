"""A Dagster code location: one asset per Ignite table (ignite_dagster/definitions.py)."""
