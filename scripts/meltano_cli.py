"""`./dev meltano ARGS`: Meltano's own CLI from this project's environment, with one fix.

Meltano 4.4.1's `meltano config test <loader>` feeds the loader its test messages, waits for it
to exit, then calls `terminate()` on the finished process; asyncio raises ProcessLookupError
for a process that is gone, so the test of every loader (target-jsonl's as well as
target-ignite's) ends in a traceback after the loader has succeeded. Terminating a process that
has already exited has nothing left to do: here that call returns instead of raising. Nothing
else about Meltano changes.
"""

from __future__ import annotations

import asyncio.subprocess
import contextlib

_terminate = asyncio.subprocess.Process.terminate


def _terminate_unless_exited(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        _terminate(process)


def main() -> None:
    asyncio.subprocess.Process.terminate = _terminate_unless_exited  # type: ignore[method-assign, assignment]
    from meltano.cli import main as meltano_main  # noqa: PLC0415 - after the fix is in place

    meltano_main()


if __name__ == "__main__":
    main()
