"""Reading Singer messages fast and exactly, and saying at which line the input went wrong.

The SDK's msgspec reader decodes every JSON number with a fraction or exponent as a Decimal,
so money keeps its digits. This subclass counts lines: whatever stops the load while a line
is handled (not JSON, a RECORD before its SCHEMA, a record that breaks its schema, NaN...)
gets `line N (stream 'x'): ` in front of its message, and the target may import what was
accepted before that line (`on_stop`) before the error goes on up.
"""

from __future__ import annotations

import io
import re
import typing as t
from collections import Counter, defaultdict

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader, decoder
from singer_sdk.exceptions import (
    InvalidJSONSchema,
    InvalidRecord,
    MappingError,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.singerlib.exceptions import InvalidInputLine, SingerReadError

from target_ignite.errors import ImportFailed, LoadStopped

# Problems with the input itself: whatever came before the bad line is good to import.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    SingerReadError,
    RecordsWithoutSchemaException,
    MissingKeyPropertiesError,
    InvalidRecord,
    InvalidJSONSchema,
    MappingError,
    ValueError,  # the SDK's message for a timestamp it cannot parse; msgspec's decode errors
)

_STREAM = re.compile(r'"stream"\s*:\s*"((?:[^"\\]|\\.)*)"')
_NON_FINITE = re.compile(r"(?<![\"\w])-?(NaN|Infinity)(?![\"\w])")


def _stream_of(line: str, message: dict | None) -> str | None:
    if isinstance(message, dict) and isinstance(message.get("stream"), str):
        return t.cast("str", message["stream"])
    match = _STREAM.search(line)
    return match.group(1) if match else None


def _check_batch_message(message: dict) -> None:
    """The SDK reads a BATCH message's keys without looking: a missing one is a KeyError."""
    encoding = message.get("encoding")
    manifest = message.get("manifest")
    if (
        not isinstance(message.get("stream"), str)
        or not isinstance(encoding, dict)
        or not isinstance(encoding.get("format"), str)
        or not isinstance(manifest, list)
        or not all(isinstance(url, str) for url in manifest)
    ):
        msg = (
            "a BATCH message needs a 'stream', an 'encoding' object with a 'format', and a "
            "'manifest' list of file URLs"
        )
        raise InvalidInputLine(msg)


def _input_error(exc: Exception) -> Exception:
    """The error to report: a nesting too deep to read is the input's fault, like bad JSON.

    msgspec, the SDK's flattening and JSON Schema validation all recurse into nested values;
    whichever of them meets the recursion limit first, the stack has unwound by now, so the
    records before this line can still be imported.
    """
    if isinstance(exc, RecursionError):
        return InvalidInputLine(f"objects or arrays nested too deeply to read ({exc})")
    return exc


def is_input_error(exc: BaseException) -> bool:
    """Whether a failure is the input's (or the settings') rather than the API's."""
    if isinstance(exc, ImportFailed):
        return False
    return isinstance(exc, (*INPUT_ERRORS, LoadStopped))


class NumberedReader(MsgSpecReader):
    """The SDK's msgspec reader, with line numbers in every error it lets through."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0
        # Called with the line number and the error before any error goes on up.
        self.on_stop: t.Callable[[int, Exception], None] | None = None

    def deserialize_json(self, line: str) -> dict:
        """Decode one line; NaN, Infinity and bad JSON are refused with the reason."""
        try:
            message = decoder.decode(line)
        except msgspec.DecodeError as exc:
            reason = f"not valid JSON ({exc})"
            if _NON_FINITE.search(line):
                reason += "; NaN and Infinity are not JSON numbers"
            raise InvalidInputLine(reason) from None
        except UnicodeEncodeError as exc:
            # Bytes that are not UTF-8 arrive as lone surrogates (surrogateescape, below).
            bad = exc.object[exc.start : exc.end].encode("utf-8", "surrogateescape")
            msg = f"not valid UTF-8: byte(s) {bad.hex(' ')} at character {exc.start + 1}"
            raise InvalidInputLine(msg) from None
        if not isinstance(message, dict):
            msg = f"not a Singer message: a JSON {type(message).__name__}, not an object"
            raise InvalidInputLine(msg)
        return message

    def process_lines(
        self,
        file_input: t.IO[str] | None,
        callbacks: dict[str, t.Callable[[dict], None]],
    ) -> t.Counter[str]:
        """The SDK's loop, counting lines (blank ones too, as an editor does)."""
        stats: dict[str, int] = defaultdict(int)
        source = file_input or self.default_input
        if isinstance(source, io.TextIOWrapper):
            # A byte that is not UTF-8 must not end the loop before the line is known: keep
            # it as a lone surrogate, which `deserialize_json` reports with its line.
            source.reconfigure(errors="surrogateescape")
        for number, line in enumerate(source, start=1):
            self.line_number = number
            if not line.strip():
                continue
            message: dict | None = None
            try:
                message = self.deserialize_json(line)
                self.assert_line_requires(message, requires={"type"})
                if message["type"] == "BATCH":
                    _check_batch_message(message)
                callback = callbacks.get(message["type"])
                if callback is None:
                    msg = f"unknown message type '{message['type']}'"
                    raise InvalidInputLine(msg)
                callback(message)
            except Exception as exc:
                error = _input_error(exc)
                self._annotate(error, number, _stream_of(line, message))
                if self.on_stop is not None:
                    self.on_stop(number, error)
                if error is exc:
                    raise
                raise error from None
            stats[message["type"]] += 1
        return Counter(**stats)

    @staticmethod
    def _annotate(exc: Exception, number: int, stream: str | None) -> None:
        """Put the line and stream in front of the message, keeping the exception's type."""
        where = f"line {number}" + (f" (stream '{stream}')" if stream else "")
        text = str(exc.args[0]) if exc.args else type(exc).__name__
        if text.startswith("line "):
            return
        if isinstance(exc, InvalidRecord):
            text = f"record breaks its schema: {exc.error_message}"
        exc.args = (f"{where}: {text}", *exc.args[1:])
