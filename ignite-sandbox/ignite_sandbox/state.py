"""The per-process objects every route shares, reachable from a request."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from ignite_sandbox.catalog import Table, served_tables
from ignite_sandbox.config import SandboxConfig
from ignite_sandbox.cursors import PageTokens
from ignite_sandbox.faults import FaultPlan
from ignite_sandbox.store import Store

if TYPE_CHECKING:
    from ignite_sandbox.exports import ExportManager


@dataclass
class Sandbox:
    """One running sandbox: settings, database, page tokens, faults, export jobs."""

    config: SandboxConfig
    store: Store
    tokens: PageTokens
    faults: FaultPlan
    exports: ExportManager = None  # type: ignore[assignment]  # set right after creation
    _touches: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def tables(self) -> dict[str, Table]:
        """The export tables this sandbox serves (see --unknown-data-types)."""
        return served_tables(unknown_data_types=self.config.unknown_data_types)

    def next_touch_salt(self) -> int:
        """A new salt per touch call, so successive touches pick different rows."""
        return next(self._touches)


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving this request."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox
