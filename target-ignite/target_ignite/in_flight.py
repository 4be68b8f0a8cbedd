"""The import in flight: at most one import at a time on a worker thread, while the main
thread reads the next records.

Gzip and the HTTP round trip of one import overlap with reading and encoding the rows of the
next, which is most of the target's speed on a large load. Imports still run one after another
in the order the sinks hand them over, so the delete query goes with a repository's first
import and each sink's records are imported in arrival order (what the STATE gate in
safe_state.py counts on).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class ImportInFlight:
    """At most one import at a time on a worker thread, while the main thread reads on.

    Imports run one after another in the order they were handed over (`submit` waits for the
    one before), so the delete query still goes with a repository's first import and each
    sink's records are imported in arrival order (what the STATE gate counts on). Whoever
    needs everything imported (a drain of every sink, before STATE; a new stream) calls
    `wait`, which raises the import's error, if any, in the main thread.
    """

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._future: Future[None] | None = None
        self._then: list[Callable[[], None]] = []  # for when the running import succeeded
        self._lock = threading.Lock()  # the SDK may drain sinks from several threads

    def submit(self, work: Callable[[], None]) -> None:
        """Run `work` once the import before it is done (raising that import's error)."""
        with self._lock:
            self._wait()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="import")
            self._future = self._executor.submit(work)

    def wait(self) -> None:
        """Until no import is running; raises the error of the one that was, if it failed."""
        with self._lock:
            self._wait()

    def after(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the running import succeeded (now, if none is running)."""
        with self._lock:
            if self._future is None:
                callback()
            else:
                self._then.append(callback)

    def _wait(self) -> None:
        # Cleared only once the import is done: a SIGTERM may interrupt the wait (stopping.py),
        # and the target then waits again for the same import and its callbacks.
        future = self._future
        if future is not None:
            try:
                future.result()
            except Exception:
                self._future, self._then = None, []  # a failed import drops what followed it
                raise
            self._future = None
        while self._then:
            self._then.pop(0)()

    def check(self) -> None:
        """Raise a finished import's error now, rather than at the next `submit` or `wait`."""
        future = self._future
        if future is not None and future.done():
            self.wait()

    def settle(self) -> BaseException | None:
        """Wait for the running import, returning its error instead of raising it."""
        try:
            self.wait()
        except Exception as exc:  # handed back to the caller, who decides what to say
            return exc
        return None
