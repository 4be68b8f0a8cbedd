"""ignite-sandbox."""
