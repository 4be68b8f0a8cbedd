"""Reading Singer messages as bytes, RECORD lines straight into their stream's batch.

The input is read a megabyte at a time. RECORD lines of a stream loaded as it is (no
stream map, no flattening) are not decoded here at all: `take_records` appends a whole run
of them (the lines up to the next line that is not one) to the stream's batch in one go,
and Arrow parses the batch (`record_lines.py`). Every other line is decoded with msgspec
(numbers with a fraction as Decimal, so nothing is rounded) and handled the SDK's way.

Lines are counted: whatever stops the load gets `line N (stream 'x'): ` in front of its
message, and the target may commit what was read before that line (`on_stop`).
"""

from __future__ import annotations

import io
import re
import typing as t
from collections import Counter, defaultdict
from collections.abc import Iterator

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader, decoder
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_duckdb_typed import wire
from target_duckdb_typed.errors import LoadStopped

_STREAM = re.compile(rb'"stream"\s*:\s*"((?:[^"\\]|\\.)*)"')
_NON_FINITE = re.compile(rb"(?<![\"\w])-?(NaN|Infinity)(?![\"\w])")


CHUNK_BYTES = 1 << 20


def _regions(source: t.IO[str] | t.IO[bytes]) -> Iterator[tuple[bytes, int, int]]:
    """The input as bytes, in pieces of whole lines: (piece, start, end), the lines being
    `piece[start:end]` (the last may lack its newline). A text stream is read through its
    byte buffer. Each piece is what one read returned, not a copy of it: a line that
    straddles two reads comes as a piece of its own."""
    binary = getattr(source, "buffer", None)
    reader = binary if isinstance(source, io.TextIOWrapper) and binary is not None else source
    # read1: what the pipe holds now (up to a megabyte), so that a slow tap's lines are
    # handled as they come rather than once a megabyte has gathered.
    read = getattr(reader, "read1", reader.read)
    rest = b""
    while True:
        chunk = read(CHUNK_BYTES)
        if not chunk:
            break
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        start = 0
        if rest:
            first = chunk.find(b"\n") + 1
            if first == 0:  # still no line end: keep gathering
                rest += chunk
                continue
            joined = rest + chunk[:first]
            yield joined, 0, len(joined)
            start = first
        cut = chunk.rfind(b"\n", start) + 1
        if cut > start:
            yield chunk, start, cut
        rest = chunk[max(cut, start) :]
    if rest:
        yield rest, 0, len(rest)


class LineReader(MsgSpecReader):
    """The SDK's msgspec reader, reading bytes, with a shortcut for RECORD lines and line
    numbers in every error it lets through."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0
        # (input piece, where a RECORD line starts, where the piece's lines end, its prefix's
        # length, its line number) -> (where the RECORD lines taken from there end, how
        # many): (start, 0) if none.
        self.take_records: t.Callable[[bytes, int, int, int, int], tuple[int, int]] | None = None
        # Called with the line number and the error before any error goes on up.
        self.on_stop: t.Callable[[int, Exception], None] | None = None

    def deserialize_json(self, line: str | bytes) -> dict:
        """Decode one line; NaN, Infinity and bad JSON are refused with the reason."""
        try:
            message = decoder.decode(line)
        except msgspec.DecodeError as exc:
            reason = f"not valid JSON ({exc})"
            raw = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line
            if _NON_FINITE.search(raw):
                reason += "; NaN and Infinity are not JSON numbers"
            raise InvalidInputLine(reason) from None
        if not isinstance(message, dict):
            msg = f"not a Singer message: a JSON {type(message).__name__}, not an object"
            raise InvalidInputLine(msg)
        return message

    def _process_unknown_message(self, message_dict: dict) -> None:
        msg = f"unknown message type '{message_dict[wire.MESSAGE_TYPE]}'"
        raise InvalidInputLine(msg)

    def process_lines(
        self,
        file_input: t.IO[str] | None,
        callbacks: dict[str, t.Callable[[dict], None]],
    ) -> t.Counter[str]:
        """The SDK's loop over lines, counting them (blank ones too, as an editor does)."""
        stats: dict[str, int] = defaultdict(int)
        take = self.take_records
        prefixes = wire.RECORD_LINE_PREFIXES
        number = 0
        for region, first, size in _regions(file_input or self.default_input):
            pos = first
            while pos < size:
                message: dict | None = None
                line = b""
                try:
                    if take is not None and region.startswith(prefixes, pos):
                        prefix = prefixes[0] if region.startswith(prefixes[0], pos) else prefixes[1]
                        self.line_number = number + 1
                        end, taken = take(region, pos, size, len(prefix), number + 1)
                        if taken:
                            number += taken
                            stats[wire.RECORD] += taken
                            pos = end
                            continue
                    end = region.find(b"\n", pos, size) + 1 or size
                    line, pos = region[pos:end], end
                    number += 1
                    self.line_number = number
                    if not line.strip():
                        continue
                    message = self.deserialize_json(line)
                    self.assert_line_requires(message, requires={wire.MESSAGE_TYPE})
                    callback = callbacks.get(message[wire.MESSAGE_TYPE])
                    if callback is None:
                        self._process_unknown_message(message)
                    else:
                        callback(message)
                except Exception as exc:
                    if not isinstance(exc, LoadStopped):  # ours say where already
                        self._annotate(exc, self.line_number, _stream_of(line, message))
                    if self.on_stop is not None:
                        self.on_stop(self.line_number, exc)
                    raise
                stats[message[wire.MESSAGE_TYPE]] += 1
        return Counter(**stats)

    @staticmethod
    def _annotate(exc: Exception, number: int, stream: str | None) -> None:
        """Put the line and stream in front of the message, keeping the exception's type."""
        where = f"line {number}" + (f" (stream '{stream}')" if stream else "")
        text = str(exc.args[0]) if exc.args else type(exc).__name__
        if text.startswith("line "):
            return
        exc.args = (f"{where}: {text}", *exc.args[1:])


def _stream_of(line: bytes, message: dict | None) -> str | None:
    if isinstance(message, dict) and isinstance(message.get(wire.MESSAGE_STREAM), str):
        return t.cast("str", message[wire.MESSAGE_STREAM])
    match = _STREAM.search(line)
    return match.group(1).decode("utf-8", "replace") if match else None
