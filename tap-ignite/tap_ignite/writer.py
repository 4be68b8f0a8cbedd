"""Singer message output: the SDK's msgspec encoding, written a megabyte at a time.

The SDK's MsgSpecWriter encodes each message and then writes and flushes stdout: one write
call and one system call per record. Here records are encoded (same encoder, same bytes) into
one growing buffer that goes to stdout when it passes FLUSH_BYTES, when any other message
(SCHEMA, STATE, ...) is written, when a stream calls `flush()` (the end of a table), and at
the latest when the writer is dropped or the process exits. A STATE therefore never reaches
the target before the records it covers, and a killed run loses only records that no emitted
STATE claims.
"""

from __future__ import annotations

import contextlib
import datetime
import sys
import weakref
from collections.abc import Sequence
from typing import Any

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

from tap_ignite.stopping import STOP

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

FLUSH_BYTES = 1 << 20
# Records encoded per call in `write_records`: about a megabyte of lines at a time.
LINES_PER_ENCODE = 2_000


class _RecordLine(msgspec.Struct, omit_defaults=True, gc=False):
    """A RECORD message with the SDK's keys, in `RecordMessage.to_dict()`'s order."""

    type: str
    stream: str
    record: Any
    version: int | None = None
    time_extracted: datetime.datetime | None = None


def _write_out(pending: bytearray) -> None:
    # Whole lines: a SIGTERM waits until the write is done (stopping.py).
    with STOP.shielded(), contextlib.suppress(ValueError, OSError):  # stdout closed at exit
        if pending:
            _write_all(pending)
            pending.clear()
        sys.stdout.flush()


def _write_all(data: bytearray) -> None:
    # A signal that interrupts a write to a full pipe makes it return early, with the count
    # written so far: the rest is written again, not lost.
    with memoryview(data) as view:
        written = 0
        while written < len(view):
            written += sys.stdout.buffer.write(view[written:]) or 0


class IgniteMessageWriter(MsgSpecWriter):
    """MsgSpecWriter that batches RECORD lines and flushes at every other message."""

    def __init__(self) -> None:
        self._pending = bytearray()
        # Whatever is still buffered goes out when the writer is dropped or at exit
        # (e.g. a run whose final STATE equals its first, which the SDK does not repeat).
        weakref.finalize(self, _write_out, self._pending)

    @override
    def write_message(self, message: Message) -> None:
        pending = self._pending
        encoder.encode_into(message.to_dict(), pending, -1)  # -1: append
        pending.extend(b"\n")
        if len(pending) >= FLUSH_BYTES or not isinstance(message, RecordMessage):
            _write_out(pending)

    def write_records(
        self,
        stream: str,
        records: Sequence[Any],
        version: int | None,
        time_extracted: datetime.datetime | None,
    ) -> None:
        """RECORD lines for many records at once: the bytes `write_message` writes for each.

        `time_extracted` must be aware and in UTC, as `RecordMessage` would make it.
        """
        for start in range(0, len(records), LINES_PER_ENCODE):
            lines = [
                _RecordLine("RECORD", stream, record, version, time_extracted)
                for record in records[start : start + LINES_PER_ENCODE]
            ]
            self.write_lines(encoder.encode_lines(lines))

    def write_lines(self, lines: bytes) -> None:
        """Encoded RECORD lines (each ending in a newline), buffered like `write_message`'s."""
        pending = self._pending
        pending.extend(lines)
        if len(pending) >= FLUSH_BYTES:
            _write_out(pending)

    def flush(self) -> None:
        """Write the buffered lines to stdout and flush it."""
        _write_out(self._pending)
