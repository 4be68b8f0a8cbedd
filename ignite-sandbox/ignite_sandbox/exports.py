"""Async export jobs (filled in by phase 2)."""

from __future__ import annotations

from typing import Any


class ExportManager:
    """Runs export jobs in background threads."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox

    def shutdown(self) -> None:
        """Stop accepting jobs; running threads are daemons."""
