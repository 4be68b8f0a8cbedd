"""STATE goes out as soon as every record that came before it is in Ignite.

The SDK writes STATE only when it drains every sink (end of input, or records older than five
minutes), so a load killed half-way had confirmed nothing, and a rerun from its last STATE
imported again every batch the killed run had made. Here each STATE is remembered with how
many records each sink with records still waiting had received when the STATE arrived. A sink
imports its records in the order they came, so once each of those sinks has imported at least
that many, the STATE is safe to pass on; the newest safe one is written at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol


class RecordProgress(Protocol):
    """A sink's counts of records received and records imported (in arrival order)."""

    records_received: int
    records_imported: int


def imported(sink: RecordProgress) -> int:
    """How far a sink's records are imported."""
    return sink.records_imported


Snapshot = tuple[tuple[RecordProgress, int], ...]


class StateGate:
    """STATE values waiting for the records before them to be imported."""

    def __init__(self) -> None:
        self._pending: deque[tuple[Any, Snapshot]] = deque()

    def arrived(self, state: Any, sinks: Iterable[RecordProgress]) -> None:
        """A STATE came in; `sinks` are every sink that may hold records."""
        snapshot: Snapshot = tuple(
            (sink, sink.records_received)
            for sink in sinks
            if sink.records_received > sink.records_imported
        )
        if self._pending and self._pending[-1][1] == snapshot:
            # No record came between the two: the newer STATE replaces the older one.
            self._pending[-1] = (state, snapshot)
        else:
            self._pending.append((state, snapshot))

    @property
    def waiting(self) -> bool:
        """Whether any STATE waits for records to be imported."""
        return bool(self._pending)

    def safe(self, progress: Callable[[RecordProgress], int] = imported) -> Any | None:
        """The newest STATE whose records are all imported (forgetting older ones), if any.

        `progress` may count more than the records imported (those handed over to be
        imported): then it is the newest STATE that is safe once those are imported."""
        newest = None
        while self._pending and all(
            progress(sink) >= received for sink, received in self._pending[0][1]
        ):
            newest = self._pending.popleft()[0]
        return newest
