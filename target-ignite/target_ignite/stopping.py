"""SIGTERM and SIGINT: stop within seconds, keep the last STATE true, exit 128 + the signal.

Orchestrators (Airflow, Dagster, Kubernetes, `meltano run` on a timeout) stop a run with
SIGTERM, a terminal with SIGINT. The SDK's own handler drains every sink inside the signal
handler, which deadlocked when the signal came while the main thread waited for the import in
flight (holding the lock the drain needs), and then exits 0. Here:

- the first signal sets `STOP` and raises `Interrupted` in the main thread, wherever it waits
  (stdin, the import in flight), except while a STATE is being written: that finishes first;
- the target then lets the import in flight finish (no retry, no new import: `STOP`), writes
  the STATE it confirms, and exits with 128 + the signal's number (target.py);
- a second signal ends the process at once.

Records read but not imported are not covered by any STATE written, so the last STATE stays
true: a rerun from it repeats them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Raised in the main thread by the first SIGTERM or SIGINT.

    A BaseException, so that no `except Exception` on the way up can swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process a signal ended."""
        return 128 + self.signum


class Stop:
    """Whether a signal asked the process to stop (one per process: signals are)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._signum = 0
        self._shielded = 0
        self._deferred = False
        self._logger = logging.getLogger(__name__)
        self._plan = ""
        self._cleanup: Callable[[Interrupted], None] | None = None

    @property
    def requested(self) -> bool:
        """Whether a signal asked the process to stop."""
        return self._event.is_set()

    def pause(self, seconds: float) -> bool:
        """Sleep `seconds`, or less if a signal asks to stop; whether one did."""
        return self._event.wait(seconds)

    def install(self, logger: logging.Logger, plan: str) -> None:
        """Handle SIGINT and SIGTERM from now on; `plan` says what the first one does."""
        self._logger = logger
        self._plan = plan
        if threading.current_thread() is threading.main_thread():
            for signum in STOPPING_SIGNALS:
                signal.signal(signum, self._handle)

    def on_interrupt(self, cleanup: Callable[[Interrupted], None]) -> None:
        """Call `cleanup` before the process ends after a first signal (see `finish`)."""
        self._cleanup = cleanup

    def finish(self, interrupted: Interrupted) -> None:
        """After the first signal unwound the main thread: clean up, then end the process
        with 128 + the signal's number, without waiting for worker threads."""
        if self._cleanup is not None:
            self._cleanup(interrupted)
        else:
            self._logger.warning("Stopped by %s; exit code %d", interrupted, interrupted.exit_code)
        end_process(interrupted.exit_code)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._event.is_set():
            self._logger.warning("Received %s again: exiting at once", name)
            end_process(128 + signum)
        self._signum = signum
        self._event.set()
        self._logger.warning(
            "Received %s: stopping (%s; exit code %d). A second signal ends the process at once.",
            name,
            self._plan,
            128 + signum,
        )
        if self._shielded:
            self._deferred = True
            return
        raise Interrupted(signum)

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """A first signal waits for the end of this block (in the main thread): half a
        message on stdout would be worse than a moment's delay."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
            if not self._shielded and self._deferred:
                self._deferred = False
                raise Interrupted(self._signum)


STOP = Stop()


def end_process(exit_code: int) -> None:
    """Flush what was printed and exit now, without waiting for worker threads."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(exit_code)
