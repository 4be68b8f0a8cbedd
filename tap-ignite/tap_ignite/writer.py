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
import sys
import weakref

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

FLUSH_BYTES = 1 << 20


def _write_out(pending: bytearray) -> None:
    with contextlib.suppress(ValueError, OSError):  # stdout already closed at exit
        if pending:
            sys.stdout.buffer.write(pending)
            pending.clear()
        sys.stdout.flush()


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

    def flush(self) -> None:
        """Write the buffered lines to stdout and flush it."""
        _write_out(self._pending)
