"""Singer message output: the SDK's msgspec writer, flushed once per STATE, not per RECORD."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class IgniteMessageWriter(MsgSpecWriter):
    """MsgSpecWriter without a flush (a write syscall) after every record.

    Records are buffered; every other message (SCHEMA, STATE, ...) flushes, so a STATE never
    reaches the target before the records it covers, and a killed run loses only records that
    no emitted STATE claims.
    """

    @override
    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
