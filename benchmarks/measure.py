"""Run one contender as a child process and measure it: wall time, CPU, peak RSS.

CPU comes from `os.wait4`, i.e. the kernel's own accounting of the child (and any
descendants it waited for), so nothing polls and nothing is sampled. Peak RSS comes from GNU
time (`/usr/bin/time -f %M`) wrapped around the command: a child's `ru_maxrss` also counts
the memory of the process that forked it (Linux keeps the forked copy's high-water mark
across exec), so measured straight from this harness, which holds a million ids while it
verifies, every contender would look as big as the harness. GNU time is a small C program,
so the contender is forked from something tiny. The sandbox's CPU time over the same
interval is read from /proc: how busy the server was, the bound every client figure lives
under.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
GNU_TIME = Path("/usr/bin/time")


@dataclass
class Measurement:
    """What one child process cost."""

    wall_s: float
    cpu_s: float  # user + sys of the child
    peak_rss_mb: float
    server_cpu_s: float  # user + sys of the sandbox process during the run
    returncode: int
    stderr_path: Path

    def stderr_tail(self, lines: int = 15) -> str:
        """The last lines the child wrote to stderr (for failure reports)."""
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def process_cpu_seconds(pid: int | None) -> float:
    """user + sys seconds a running process has used so far (all its threads)."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may contain spaces; fields after its ')' are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def run_measured(
    argv: list[str],
    *,
    stderr_path: Path,
    stdin_path: Path | None = None,
    stdout_path: Path | None = None,
    server_pid: int | None = None,
    timeout: float = 3600,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Run `argv` to completion; stdout to a file (or /dev/null), stderr to `stderr_path`."""
    stdin = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
    stdout = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    rss_path = stderr_path.with_suffix(".maxrss")
    if GNU_TIME.exists():
        argv = [str(GNU_TIME), "-f", "%M", "-o", str(rss_path), "--", *argv]
    try:
        with stderr_path.open("wb") as stderr:
            server_before = process_cpu_seconds(server_pid)
            started = time.monotonic()
            process = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, env=env)
            watchdog = threading.Timer(timeout, process.kill)
            watchdog.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                watchdog.cancel()
            wall = time.monotonic() - started
            server_after = process_cpu_seconds(server_pid)
    finally:
        for handle in (stdin, stdout):
            if not isinstance(handle, int):
                handle.close()
    # Popen must not wait for a pid the kernel has already reaped.
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=_gnu_time_maxrss_kib(rss_path, usage.ru_maxrss) / 1024,
        server_cpu_s=server_after - server_before,
        returncode=process.returncode,
        stderr_path=stderr_path,
    )


def _gnu_time_maxrss_kib(path: Path, fallback: int) -> int:
    """GNU time's `%M` (KiB); its last line, after any "Command exited with..." line."""
    try:
        lines = path.read_text().split()
    except OSError:
        return fallback
    return int(lines[-1]) if lines and lines[-1].isdigit() else fallback


def run_pipeline_measured(
    producer: list[str],
    consumer: list[str],
    *,
    stderr_paths: tuple[Path, Path],
    server_pid: int | None = None,
    timeout: float = 3600,
) -> tuple[Measurement, Measurement]:
    """Run `producer | consumer` (a tap piped into a loader, as `meltano run` does) and
    measure each; both carry the pipeline's wall time, from start until both exited."""
    rss_paths = [path.with_suffix(".maxrss") for path in stderr_paths]
    argvs = [producer, consumer]
    if GNU_TIME.exists():
        argvs = [
            [str(GNU_TIME), "-f", "%M", "-o", str(rss), "--", *argv]
            for rss, argv in zip(rss_paths, argvs, strict=True)
        ]
    with stderr_paths[0].open("wb") as first_err, stderr_paths[1].open("wb") as second_err:
        server_before = process_cpu_seconds(server_pid)
        started = time.monotonic()
        first = subprocess.Popen(
            argvs[0], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=first_err
        )
        second = subprocess.Popen(
            argvs[1], stdin=first.stdout, stdout=subprocess.DEVNULL, stderr=second_err
        )
        assert first.stdout is not None
        first.stdout.close()  # the consumer holds the pipe's read end now

        def kill_both() -> None:
            first.kill()
            second.kill()

        watchdog = threading.Timer(timeout, kill_both)
        watchdog.start()
        try:
            waited = [os.wait4(process.pid, 0) for process in (first, second)]
        finally:
            watchdog.cancel()
        wall = time.monotonic() - started
        server_cpu = process_cpu_seconds(server_pid) - server_before
    measurements = []
    for process, (_, status, usage), rss, err in zip(
        (first, second), waited, rss_paths, stderr_paths, strict=True
    ):
        process.returncode = os.waitstatus_to_exitcode(status)
        measurements.append(
            Measurement(
                wall_s=wall,
                cpu_s=usage.ru_utime + usage.ru_stime,
                peak_rss_mb=_gnu_time_maxrss_kib(rss, usage.ru_maxrss) / 1024,
                server_cpu_s=server_cpu,
                returncode=process.returncode,
                stderr_path=err,
            )
        )
    return measurements[0], measurements[1]
