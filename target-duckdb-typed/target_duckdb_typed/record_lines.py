"""RECORD lines into one Arrow table per batch, with no Python object per row.

The lines of a stream are kept as they came (bytes, with their input line numbers) and
parsed in one go by Arrow's JSON reader against the stream's columns: numbers become
DECIMALs straight from their digits (never through a float), and any value of the wrong
JSON kind fails the whole read (Arrow checks a DECIMAL's digits after the point; DuckDB
checks those before it when the batch loads, see `loading.py`). Only JSON columns
(objects, mixed types) are taken from each line's own text, with msgspec. When anything is
wrong, `diagnosis.py` finds the first bad line and says what and where.

Columns of the table: `c0, c1, ...` (the plan's columns, in order), `line` (input line
number), and for RECORD messages `version` and `extracted` (time_extracted).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import msgspec
import pyarrow as pa
import pyarrow.json as pj

from target_duckdb_typed import wire
from target_duckdb_typed.columns import Column
from target_duckdb_typed.diagnosis import diagnose

BLOCK_BYTES = 1 << 20  # what Arrow parses at a time: memory stays near the batch's own size
LINE = "line"
VERSION = "version"
EXTRACTED = "extracted"


def source_name(index: int) -> str:
    """The Arrow/staging column name of the plan's column `index`."""
    return f"c{index}"


@dataclass
class LineBuffer:
    """Lines of one stream waiting to be loaded, each ending in a newline, and their numbers."""

    data: bytearray = field(default_factory=bytearray)
    numbers: array[int] = field(default_factory=lambda: array("q"))

    def __len__(self) -> int:
        return len(self.numbers)

    def add(self, line: bytes, number: int) -> None:
        """Add one line (with or without its newline)."""
        self.data += line
        if not line.endswith(b"\n"):
            self.data += b"\n"
        self.numbers.append(number)

    def add_run(self, lines: bytes, start: int, end: int, first: int, count: int) -> None:
        """Add `count` lines, `lines[start:end]`, numbered from `first`."""
        self.data += memoryview(lines)[start:end]  # one copy, not a slice and then a copy
        if not self.data.endswith(b"\n"):
            self.data += b"\n"
        self.numbers.extend(range(first, first + count))

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Each line with its number."""
        return zip(self.numbers, bytes(self.data).split(b"\n"), strict=False)

    def before(self, line_number: int) -> LineBuffer:
        """The lines that came before input line `line_number`."""
        kept = LineBuffer()
        for number, line in self.lines():
            if number >= line_number:
                break
            kept.add(line, number)
        return kept


@dataclass(frozen=True)
class ReadPlan:
    """How one stream's lines are read: its columns and keys, and whether lines are RECORD
    messages (`wrapped`) or bare records (the lines of a jsonl BATCH file)."""

    stream: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    wrapped: bool = True

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        fields = [pa.field(c.name, c.read) for c in self.columns if c.read is not None]
        if not self.wrapped:
            return pa.schema(fields)
        return pa.schema(
            [
                pa.field(wire.MESSAGE_RECORD, pa.struct(fields)),
                pa.field(wire.MESSAGE_VERSION, pa.int64()),
                pa.field(wire.MESSAGE_TIME_EXTRACTED, pa.string()),
            ]
        )

    @cached_property
    def raw_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.read is None)


class _Message(msgspec.Struct):
    record: dict[str, msgspec.Raw] | None = None


_message = msgspec.json.Decoder(_Message)
_bare = msgspec.json.Decoder(dict[str, msgspec.Raw])
_text = msgspec.json.Decoder(str)


def read_lines(buffer: LineBuffer, plan: ReadPlan, origin: str | None = None) -> pa.Table:
    """The buffer's lines as one Arrow table (see the module docstring); BadInput if any
    line or value cannot be loaded as its column. `origin` names the file the lines are
    from (a jsonl BATCH file), if they are not the input's own."""

    def problem(failure: object) -> Exception:
        return diagnose(
            buffer.lines(),
            stream=plan.stream,
            columns=plan.columns,
            keys=plan.keys,
            wrapped=plan.wrapped,
            failure=failure,
            origin=origin,
        )

    try:
        parsed = _parse(buffer, plan.arrow_schema)
    except pa.ArrowInvalid as exc:
        raise problem(exc) from None
    if parsed.num_rows != len(buffer):  # e.g. two objects on one line
        raise problem("a line does not hold exactly one JSON object")
    record = parsed
    if plan.wrapped:
        records = parsed.column(wire.MESSAGE_RECORD)
        if records.null_count:
            raise problem("a RECORD without a record object")
        chunks = [chunk.flatten() for chunk in records.chunks]
        record = pa.table(
            {
                field.name: pa.chunked_array([fields[i] for fields in chunks], field.type)
                for i, field in enumerate(records.type)
            }
        )
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    raw = _raw_values(buffer, plan) if plan.raw_columns else {}
    for index, column in enumerate(plan.columns):
        values = record.column(column.name) if column.read is not None else raw[column.name]
        arrays[source_name(index)] = values
    for key in plan.keys:
        index = next(i for i, c in enumerate(plan.columns) if c.name == key)
        if arrays[source_name(index)].null_count:
            raise problem(f"key property {key} is missing or null")
    arrays[LINE] = pa.Array.from_buffers(
        pa.int64(), len(buffer), [None, pa.py_buffer(buffer.numbers)]
    )
    if plan.wrapped:
        arrays[VERSION] = parsed.column(wire.MESSAGE_VERSION)
        arrays[EXTRACTED] = parsed.column(wire.MESSAGE_TIME_EXTRACTED)
    return pa.table(arrays)


def _parse(buffer: LineBuffer, schema: pa.Schema) -> pa.Table:
    """Arrow's JSON reader over the lines, a block at a time (a line longer than a block
    gets a block of its own size)."""
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    block = BLOCK_BYTES
    while True:
        try:
            return pj.read_json(
                pa.BufferReader(pa.py_buffer(buffer.data)),
                read_options=pj.ReadOptions(use_threads=False, block_size=block),
                parse_options=options,
            )
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc) or block > len(buffer.data):
                raise
            block = len(buffer.data) + 1


def _raw_values(buffer: LineBuffer, plan: ReadPlan) -> dict[str, pa.Array]:
    """Columns kept as their JSON text (or, `as_text`, their text), from each line."""
    values: dict[str, list[str | None]] = {c.name: [] for c in plan.raw_columns}
    for _, line in buffer.lines():
        record = (_message.decode(line).record or {}) if plan.wrapped else _bare.decode(line)
        for column in plan.raw_columns:
            values[column.name].append(_raw_text(record.get(column.name), as_text=column.as_text))
    return {name: pa.array(texts, pa.string()) for name, texts in values.items()}


def _raw_text(raw: msgspec.Raw | None, *, as_text: bool) -> str | None:
    if raw is None:
        return None
    text = bytes(raw)
    if text == b"null":
        return None
    if as_text and text.startswith(b'"'):
        return _text.decode(text)
    return text.decode("utf-8")
