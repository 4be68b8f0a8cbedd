"""Dagster code location for the Ignite Meltano project."""
