"""A plugin run as a child process that a test watches line by line and sends signals to."""

from __future__ import annotations

import fcntl
import subprocess
import termios
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from tests.reliability.helpers import DECODER, plugin_env, remember
from tests.reliability.scripted_server import wait_until


class Lines(threading.Thread):
    """Collects a pipe's lines as they come (so that a signal never loses what was printed)."""

    def __init__(self, pipe: IO[bytes] | None) -> None:
        super().__init__(daemon=True)
        assert pipe is not None
        self.pipe = pipe
        self.lines: list[bytes] = []

    def run(self) -> None:
        for raw in self.pipe:
            self.lines.append(raw)

    def text(self) -> str:
        return b"".join(self.lines).decode("utf-8", "replace")


class Child:
    """`argv` running with `stdin` fed on a thread; stdout read at once unless told not to."""

    def __init__(
        self, label: str, argv: list[str], *, stdin: bytes | None = None, read_stdout: bool = True
    ) -> None:
        self.label = label
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=plugin_env(),
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.out = Lines(self.process.stdout)
        self.err = Lines(self.process.stderr)
        self.err.start()
        if read_stdout:
            self.out.start()
        self.signalled_at: float | None = None
        if stdin is not None:
            threading.Thread(target=self._feed, args=(stdin,), daemon=True).start()

    def _feed(self, data: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            for start in range(0, len(data), 1 << 16):
                stdin.write(data[start : start + (1 << 16)])
            stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the plugin stopped reading: that is what the test asked of it

    def read_stdout(self) -> None:
        """Start reading stdout (for a test that first let the pipe fill up)."""
        self.out.start()

    def stdout_pipe_bytes(self) -> int:
        """Bytes written to stdout that nobody has read yet."""
        assert self.process.stdout is not None
        buffered = bytearray(4)
        fcntl.ioctl(self.process.stdout.fileno(), termios.FIONREAD, buffered)
        return int.from_bytes(buffered, "little")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Until `condition` holds; fails if the process ends first or it takes too long."""

        def met() -> bool:
            if condition():
                return True
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.label} ended (exit {self.process.returncode}) before {what}:\n"
                    + self.err.text()[-3000:]
                )
            return False

        wait_until(met, timeout, what)

    def send(self, signum: int) -> None:
        """Send a signal; the first one starts the clock of `finish`."""
        if self.signalled_at is None:
            self.signalled_at = time.monotonic()
        self.process.send_signal(signum)

    def finish(self, timeout: float = 60) -> float:
        """Wait for the exit (failing after `timeout`); seconds from the first signal to it."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            raise AssertionError(f"{self.label} did not exit within {timeout} s") from None
        ended = time.monotonic()
        self.out.join(timeout=10)
        self.err.join(timeout=10)
        remember(self.label, b"".join(self.out.lines), b"".join(self.err.lines))
        return ended - (self.signalled_at or ended)

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def stderr(self) -> str:
        return self.err.text()

    def stdout_lines(self) -> list[bytes]:
        return list(self.out.lines)

    def messages(self) -> list[dict[str, Any]]:
        """Every stdout line, decoded (fails on a line that is not whole JSON)."""
        return [DECODER.decode(line) for line in self.out.lines if line.strip()]

    def states(self) -> list[Any]:
        """STATE values: the tap's STATE messages, or the bare values a target prints."""
        values = []
        for message in self.messages():
            if message.get("type") == "STATE":
                values.append(message["value"])
            elif "type" not in message:
                values.append(message)
        return values
