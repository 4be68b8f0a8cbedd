"""target-ignite."""
