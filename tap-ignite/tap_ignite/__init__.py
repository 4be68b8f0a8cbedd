"""tap-ignite."""
