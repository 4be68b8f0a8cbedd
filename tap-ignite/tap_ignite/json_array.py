"""Read a JSON array of objects item by item, never holding the whole document in memory.

JSON export files are one array of row objects (assumed in ignite-api.md), possibly larger than
memory. Items are decoded one at a time with the standard library's C scanner; fractions are
read as Decimal (exact money), integers as int, like the tap's response decoder.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

CHUNK_BYTES = 1 << 20
# One row larger than this is taken as a broken file rather than read on into memory.
MAX_ITEM_CHARS = 256 << 20

_DECODER = json.JSONDecoder(parse_float=Decimal)
_WHITESPACE = " \t\n\r"
_DELIMITERS = ",]" + _WHITESPACE


class JSONArrayError(ValueError):
    """The file is not a JSON array of values."""


class _Buffer:
    """Decoded text read so far, from `pos` on; refilled chunk by chunk."""

    def __init__(self, stream: IO[bytes], chunk_bytes: int) -> None:
        self.stream = stream
        self.chunk_bytes = chunk_bytes
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.offset = 0  # characters dropped before `text`, for error positions

    def fill(self) -> bool:
        """Drop what was consumed and read one more chunk; False at the end of the file.

        `pos` is 0 afterwards, so a caller decodes again from the start of `text`.
        """
        if self.eof:
            return False
        chunk = self.stream.read(self.chunk_bytes)
        self.eof = not chunk
        self.offset += self.pos
        self.text = self.text[self.pos :] + self.decoder.decode(chunk, final=self.eof)
        self.pos = 0
        if len(self.text) > MAX_ITEM_CHARS:
            msg = f"an item near character {self.offset} is larger than {MAX_ITEM_CHARS} chars"
            raise JSONArrayError(msg)
        return True

    def next_char(self) -> str | None:
        """The next non-whitespace character (not consumed); None at the end of the file."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in _WHITESPACE:
                pos += 1
            self.pos = pos
            if pos < len(text):
                return text[pos]
            if not self.fill():
                return None


def iter_json_array(stream: IO[bytes], chunk_bytes: int = CHUNK_BYTES) -> Iterator[Any]:
    """Each item of the JSON array in `stream`, in order."""
    buf = _Buffer(stream, chunk_bytes)
    if buf.next_char() != "[":
        msg = "expected a JSON array ('[') at the start"
        raise JSONArrayError(msg)
    buf.pos += 1
    first = True
    while True:
        char = buf.next_char()
        if char is None:
            msg = f"the array is not closed (file ends at character {buf.offset + buf.pos})"
            raise JSONArrayError(msg)
        if char == "]":
            buf.pos += 1
            if buf.next_char() is not None:
                msg = f"unexpected data after the array at character {buf.offset + buf.pos}"
                raise JSONArrayError(msg)
            return
        if not first:
            if char != ",":
                msg = f"expected ',' or ']' at character {buf.offset + buf.pos}"
                raise JSONArrayError(msg)
            buf.pos += 1
            if buf.next_char() is None:
                msg = "the array is not closed"
                raise JSONArrayError(msg)
        first = False
        yield _decode_item(buf)


def _decode_item(buf: _Buffer) -> Any:
    while True:
        try:
            item, end = _DECODER.raw_decode(buf.text, buf.pos)
        except json.JSONDecodeError as exc:
            # Most often the item continues in the next chunk; at the end of the file it
            # is really broken.
            if buf.fill():
                continue
            msg = f"invalid JSON near character {buf.offset + exc.pos}: {exc.msg}"
            raise JSONArrayError(msg) from exc
        # A number may go on in the next chunk ("2" of "2.50"): it is complete only once a
        # delimiter follows it. Objects, arrays and strings end with their own delimiter.
        if (
            not isinstance(item, (dict, list, str))
            and (end == len(buf.text) or buf.text[end] not in _DELIMITERS)
            and buf.fill()
        ):
            continue
        buf.pos = end
        return item
