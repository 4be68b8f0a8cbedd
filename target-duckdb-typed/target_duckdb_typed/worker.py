"""The loader's one worker thread, and the STATE messages waiting for it.

Reading the input (the main thread) and loading batches (Arrow's parser and DuckDB, which
release the GIL) overlap: while one batch loads, the next is read, so the tap upstream is
never held up by a load. Jobs run one at a time in the order they were handed over (a new
one waits for the one before), so a table's DDL, batches and version retirements happen in
the order of their messages, and at most one batch per stream is held beside the one
loading.

STATE goes out as soon as every row read before it is committed: each pending STATE keeps
its line number, and once no row before that line is still buffered or loading, the newest
such STATE is written (an older one is never written after a newer one).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Worker:
    """Runs jobs on one thread, in order; errors come back in the main thread."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._running: tuple[int, Future[Any]] | None = None
        self.failed_from: int | None = None  # the first input line of a job that failed

    def submit(self, line: int, job: Callable[[], object]) -> None:
        """Run `job` once the one before it is done (raising that one's error, if any).
        `line` is the first input line the job's rows (or message) came from."""
        self.wait()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="duckdb-load")
        self._running = (line, self._executor.submit(job))

    def run(self, line: int, job: Callable[[], T]) -> T:
        """Run `job` in turn and wait for its result."""
        self.submit(line, job)
        assert self._running is not None
        future: Future[T] = self._running[1]
        self.wait()
        return future.result()

    def wait(self) -> None:
        """Until no job runs; raises the error of the one that ran, if it failed."""
        running, self._running = self._running, None
        if running is not None:
            try:
                running[1].result()
            except BaseException:
                self.failed_from = running[0]
                raise

    def check(self) -> None:
        """Raise a finished job's error now, rather than at the next submit or wait."""
        if self._running is not None and self._running[1].done():
            self.wait()

    @property
    def busy_from(self) -> float:
        """The first input line of the job not yet known to have succeeded (infinity when
        there is none): call `check` first, so that a finished job counts as done."""
        return math.inf if self._running is None else self._running[0]

    def settle(self) -> BaseException | None:
        """Wait for the running job, returning its error instead of raising it."""
        try:
            self.wait()
        except Exception as exc:  # handed back: the caller decides what to say
            return exc
        return None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


class StateGate:
    """STATE values waiting for the rows read before them to be committed."""

    def __init__(self) -> None:
        self._pending: deque[tuple[int, Any]] = deque()

    def arrived(self, line: int, state: Any) -> None:
        """A STATE came at input line `line`."""
        self._pending.append((line, state))

    def safe(self, committed_before: float) -> Any | None:
        """The newest STATE from before line `committed_before` (forgetting older ones):
        every row before that line is committed. None if there is none."""
        newest = None
        while self._pending and self._pending[0][0] < committed_before:
            newest = self._pending.popleft()[1]
        return newest
