"""What one stream's batches do: fill a batch of lines, hand it to the worker to load.

The sink prepares its table when it is made (a new stream, or a new SCHEMA for one): the
table is created, or evolved, before any of the stream's rows under that schema load.
"""

from __future__ import annotations

import datetime
import decimal
import re
import sys
import typing as t

import msgspec
from singer_sdk.sinks import BatchSink

from target_duckdb_typed import columns as cols
from target_duckdb_typed import jobs, wire
from target_duckdb_typed import sql_types as st
from target_duckdb_typed.errors import LoadStopped
from target_duckdb_typed.record_lines import LineBuffer, ReadPlan
from target_duckdb_typed.warehouse import METADATA_COLUMNS

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from singer_sdk.helpers._batch import BaseBatchFileEncoding
    from singer_sdk.sinks.core import BaseJSONSchemaValidator

    from target_duckdb_typed.target import TargetDuckDBTyped


def _iso(value: object) -> object:
    """Values the SDK's record parsing made (dates, date-times) back as JSON text."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return value
    return str(value)


_encode = msgspec.json.Encoder(enc_hook=_iso, decimal_format="number").encode
BATCH_MESSAGES_TOGETHER = 8  # a run of BATCH messages committed in one transaction


class DuckDBSink(BatchSink):
    """One stream's rows into one DuckDB table."""

    def __init__(
        self,
        target: TargetDuckDBTyped,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        self._target = target
        super().__init__(target, stream_name, schema, key_properties)
        self.buffer = LineBuffer()
        self.lines_taken = 0  # RECORD lines taken without the SDK's record steps
        self.version: int | None = None  # the stream's activated version, for rows without one
        self.batch_rows = self.max_size
        self._files: list[tuple[int, list[str]]] = []  # BATCH messages waiting: line, files
        self._files_kind: tuple[str, str | None] = ("", None)
        self._run_ends: dict[bytes, re.Pattern[bytes]] = {}
        # Here rather than in setup(): the SDK logs a second, vaguer error line for any
        # exception from setup(), and these checks stop loads with a message of their own.
        decimals = cols.Decimals(
            int(self.config["decimal_precision"]), int(self.config["decimal_scale"])
        )
        columns = cols.columns_for(self.schema, decimals)
        self._check_names(columns)
        # Stream maps declare what they compute as strings: their numbers are kept as text.
        self._text_columns = [c.name for c in columns if c.type.name == st.VARCHAR and c.read]
        self.target_table = jobs.StreamTable(
            stream_name,
            target.table_for(stream_name),
            ReadPlan(stream_name, tuple(columns), tuple(self.key_properties)),
        )
        wanted = [(column.name, column.type) for column in columns]
        if self.config["add_record_metadata"]:
            wanted += [m for m in METADATA_COLUMNS if m[0] not in {c.name for c in columns}]
        target.worker.run(
            target.line_number,
            lambda: target.warehouse.prepare(stream_name, self.target_table.table, wanted),
        )

    def _check_names(self, columns: Sequence[cols.Column]) -> None:
        seen: dict[str, str] = {}
        for column in columns:
            other = seen.setdefault(column.name.lower(), column.name)
            if other != column.name:
                msg = (
                    f"stream '{self.stream_name}': properties '{other}' and '{column.name}' "
                    "would be the same column (DuckDB names are case-insensitive); rename "
                    "one with a stream map"
                )
                raise LoadStopped(msg)
        for key in self.key_properties:
            if key not in {column.name for column in columns}:
                msg = (
                    f"stream '{self.stream_name}': key property '{key}' is not a property "
                    "of its schema"
                )
                raise LoadStopped(msg)

    def run_end(self, line_start: bytes) -> re.Pattern[bytes]:
        """Finds the end of a run of lines that all start like `line_start` (a RECORD line's
        start up to its stream name): the first newline not followed by such a line."""
        pattern = self._run_ends.get(line_start)
        if pattern is None:
            pattern = re.compile(rb"\n(?!" + re.escape(line_start) + rb'")')
            self._run_ends[line_start] = pattern
        return pattern

    @property
    @override
    def include_sdc_metadata_properties(self) -> bool:
        # The loader writes its own metadata columns (add_record_metadata): the SDK's must
        # neither become columns of the stream's schema nor be loaded from records.
        return False

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        # Every value is checked against its column's type when its batch loads (a string
        # where a number belongs, a decimal its column cannot hold, ...); the same checks
        # apply to RECORD lines the SDK's steps never see, so there is one behaviour.
        return None

    # -- records ----------------------------------------------------------------------

    @override
    def process_record(self, record: dict, context: dict) -> None:
        """A record that went through the SDK's steps (stream maps, flattening)."""
        if self._files:
            self.hand_over_files()  # BATCH files read before this record load first
        for name in self._text_columns:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                record[name] = _encode(value).decode("utf-8")
        message = self._target.record_message
        line = {
            wire.MESSAGE_RECORD: record,
            wire.MESSAGE_VERSION: message.get(wire.MESSAGE_VERSION),
            wire.MESSAGE_TIME_EXTRACTED: message.get(wire.MESSAGE_TIME_EXTRACTED),
        }
        self.buffer.add(_encode(line), self._target.line_number)

    @property
    @override
    def current_size(self) -> int:
        return len(self.buffer) + len(self._files)

    @property
    @override
    def is_full(self) -> bool:
        return len(self.buffer) >= self.batch_rows

    @property
    def first_line(self) -> float:
        """The input line of the oldest row or BATCH message waiting here (infinity when
        none waits)."""
        if self._files:
            return self._files[0][0]
        return self.buffer.numbers[0] if len(self.buffer) else float("inf")

    @override
    def process_batch(self, context: dict) -> None:
        self.hand_over()

    def hand_over(self, before_line: int | None = None) -> None:
        """Give what waits here to the worker: BATCH files, or rows (never both: each is
        handed over before the other kind arrives). Only what was read before `before_line`,
        if given: the load stops there."""
        self.hand_over_files(before_line)
        self._hand_over_rows(before_line)

    def _hand_over_rows(self, before_line: int | None = None) -> None:
        if len(self.buffer):
            # A batch before this one that failed stops the load here, with these rows
            # still in hand (those read before the bad line are then loaded after all).
            self._target.worker.wait()
        buffer, self.buffer = self.buffer, LineBuffer()
        if before_line is not None:
            buffer = buffer.before(before_line)
        if self.lines_taken:
            self.tally_record_read(self.lines_taken)
            self.record_counter_metric.increment(self.lines_taken)
            self.lines_taken = 0
        if not len(buffer):
            return
        warehouse, target, version = self._target.warehouse, self.target_table, self.version
        self._target.worker.submit(
            buffer.numbers[0], lambda: jobs.load_lines(warehouse, target, buffer, version)
        )

    # -- BATCH messages ---------------------------------------------------------------

    @override
    def process_batch_files(self, encoding: BaseBatchFileEncoding, files: t.Sequence[str]) -> None:
        # A run of BATCH messages is committed together (up to BATCH_MESSAGES_TOGETHER):
        # DuckDB then writes their rows once, where a transaction per file had a checkpoint
        # rewrite each file's last rows (benchmarks/PROFILE.md). The run ends with any
        # other message of the stream, a SCHEMA, or the end of the input.
        self._hand_over_rows()  # rows read before the BATCH message load first
        kind = (encoding.format, encoding.compression)
        if self._files and self._files_kind != kind:
            self.hand_over_files()
        self._files_kind = kind
        self._files.append((self._target.line_number, list(files)))
        if len(self._files) >= BATCH_MESSAGES_TOGETHER:
            self.hand_over_files()

    @property
    def files_waiting(self) -> bool:
        """Whether BATCH files wait here to be handed over."""
        return bool(self._files)

    def hand_over_files(self, before_line: int | None = None) -> None:
        """The BATCH files waiting here, as one job (one transaction)."""
        messages, self._files = self._files, []
        if before_line is not None:
            messages = [(line, urls) for line, urls in messages if line < before_line]
        if not messages:
            return
        warehouse, target, version = self._target.warehouse, self.target_table, self.version
        encoding_format, compression = self._files_kind
        urls = [url for _, message_urls in messages for url in message_urls]
        self._target.worker.submit(
            messages[0][0],
            lambda: jobs.load_files(
                warehouse,
                target,
                encoding_format=encoding_format,
                compression=compression,
                urls=urls,
                version=version,
            ),
        )

    # -- versions ---------------------------------------------------------------------

    def retire_older_versions(self, version: int) -> None:
        """Hand over the job retiring rows of versions older than `version`."""
        warehouse, target = self._target.warehouse, self.target_table
        soft = bool(self.config["soft_delete"])
        self._target.worker.submit(
            self._target.line_number,
            lambda: jobs.retire_versions(warehouse, target, version, soft=soft),
        )

    @override
    def activate_version(self, new_version: int) -> None:
        # The target decides when older versions are retired (see target.py); rows from
        # here on that carry no version of their own get this one.
        self.version = new_version
