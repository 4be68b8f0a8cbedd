"""`./dev sandbox`: an ignite-sandbox for the README's commands.

    ./dev sandbox [serve options]        in the foreground until Ctrl-C
    ./dev sandbox start [serve options]  in the background; returns once it answers
    ./dev sandbox stop                   stops the one `start` started

The background server's pid and log live in output/ (output/sandbox.pid, output/sandbox.log).
It listens where meltano.yml looks, http://127.0.0.1:8765 with token `sandbox-token`, unless
`--port` or IGNITE_SANDBOX_PORT say otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ignite_sandbox.launcher import READY_LINE

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"
PID_FILE = OUTPUT / "sandbox.pid"
LOG_FILE = OUTPUT / "sandbox.log"
STARTUP_TIMEOUT = 300  # seconds: seeding a million spend rows takes under a minute
SERVE = [sys.executable, "-m", "ignite_sandbox", "serve"]


def say(text: str) -> None:
    print(text, flush=True)


def running_pid() -> int | None:
    """The pid of the background sandbox, if it is still running."""
    try:
        pid = int(PID_FILE.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def ready_url() -> str | None:
    for line in LOG_FILE.read_text(encoding="utf-8", errors="replace").splitlines():
        match = READY_LINE.match(line.strip())
        if match:
            return match.group(1)
    return None


def start(options: list[str]) -> int:
    pid = running_pid()
    if pid is not None:
        say(f"ignite-sandbox is already running (pid {pid}): {ready_url()}")
        return 0
    OUTPUT.mkdir(exist_ok=True)
    with LOG_FILE.open("wb") as log:
        # A session of its own: the server outlives this command and the shell's Ctrl-C.
        process = subprocess.Popen(
            [*SERVE, *options], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    PID_FILE.write_text(f"{process.pid}\n", encoding="utf-8")
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while (url := ready_url()) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.terminate()
            PID_FILE.unlink(missing_ok=True)
            say(LOG_FILE.read_text(encoding="utf-8", errors="replace").strip())
            say("ignite-sandbox did not start (the lines above say why)")
            return 1
        time.sleep(0.1)
    say(f"ignite-sandbox is running in the background (pid {process.pid}): {url}")
    say(f"  log: {LOG_FILE.relative_to(ROOT)}   stop it with: ./dev sandbox stop")
    return 0


def stop() -> int:
    pid = running_pid()
    if pid is None:
        PID_FILE.unlink(missing_ok=True)
        say("no background ignite-sandbox is running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while running_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if running_pid() is not None:
        os.kill(pid, signal.SIGKILL)
    PID_FILE.unlink(missing_ok=True)
    say(f"ignite-sandbox stopped (pid {pid})")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["start"]:
        return start(argv[1:])
    if argv[:1] == ["stop"]:
        return stop()
    # The sandbox's own CLI in the foreground, in place of this process: Ctrl-C reaches it alone.
    os.execv(SERVE[0], [*SERVE, *argv])  # noqa: S606
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
