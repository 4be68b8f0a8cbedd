"""target-duckdb-typed: the Target class, how messages reach the worker, and when STATE goes.

ACTIVATE_VERSION: rows are stamped with their version (the RECORD's own, or the one the
stream activated last, for BATCH rows). Rows of older versions are retired (deleted, or
marked with `_sdc_deleted_at` under `soft_delete`) once the new version is complete: when
the same version is activated again (taps that send it before and after their records),
or at the end of the input (the SDK's taps send it once, before their records). A load
that stops half-way retires nothing, so a broken snapshot never empties a table.
"""

from __future__ import annotations

import copy
import sys
import typing as t

from singer_sdk.exceptions import (
    ConfigValidationError,
    InvalidJSONSchema,
    InvalidRecord,
    MappingError,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.helpers.capabilities import PluginCapabilities, TargetCapabilities
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.exceptions import SingerReadError
from singer_sdk.target_base import Target

from target_duckdb_typed import settings, wire
from target_duckdb_typed.errors import BadInput, LoadStopped
from target_duckdb_typed.names import TableName, conform
from target_duckdb_typed.reader import LineReader
from target_duckdb_typed.sinks import DuckDBSink
from target_duckdb_typed.warehouse import Warehouse
from target_duckdb_typed.worker import StateGate, Worker

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import PurePath

    from singer_sdk.singerlib.encoding.base import GenericSingerReader
    from singer_sdk.sinks import Sink

# Problems with the input or settings: the rows read before them are good to commit.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    LoadStopped,
    SingerReadError,
    RecordsWithoutSchemaException,
    MissingKeyPropertiesError,
    InvalidRecord,
    InvalidJSONSchema,
    MappingError,
    ValueError,  # the SDK's message for a date it cannot parse (stream maps, flattening)
)
MAX_AGE_CHECK_LINES = 10_000  # RECORD lines between checks of the SDK's max record age


def _plain(stream: str) -> bool:
    """Whether a stream name is written the same way by every JSON encoder."""
    return stream.isascii() and stream.isprintable() and not set(stream) & {'"', "\\"}


class TargetDuckDBTyped(Target):
    """Singer target for DuckDB: typed, exact columns, merged on keys."""

    name = "target-duckdb-typed"
    package_name = "target-duckdb-typed"
    config_jsonschema = settings.CONFIG_SCHEMA
    default_sink_class = DuckDBSink
    message_reader_class = LineReader
    capabilities: t.ClassVar[list] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
        PluginCapabilities.BATCH,
        PluginCapabilities.ACTIVATE_VERSION,
        TargetCapabilities.TARGET_SCHEMA,
        TargetCapabilities.HARD_DELETE,
        TargetCapabilities.SOFT_DELETE,
    ]

    def __init__(
        self,
        *,
        config: dict | PurePath | str | list[PurePath | str] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        setup_mapper: bool = True,
        message_reader: GenericSingerReader | None = None,
    ) -> None:
        super().__init__(
            config=config,
            parse_env_config=parse_env_config,
            validate_config=validate_config,
            setup_mapper=setup_mapper,
            message_reader=message_reader,
        )
        problems = settings.check(self.config)
        if problems:
            msg = "target-duckdb-typed settings are not valid"
            raise ConfigValidationError(msg, errors=problems)
        self.warehouse = Warehouse(
            str(self.config["filepath"]), str(self.config["memory_limit"]), self.logger
        )
        self.schema_name = conform(str(self.config["default_target_schema"]))
        if self.schema_name == self.warehouse.catalog.lower():
            self.warehouse.close()
            msg = (
                f"default_target_schema '{self.schema_name}' is the name DuckDB gives the file "
                f"{self.warehouse.path.name}: `{self.schema_name}.<table>` would be ambiguous "
                "(catalog or schema). Choose another schema or file name"
            )
            raise ConfigValidationError(msg, errors=[msg])
        self.worker = Worker()
        self._gate = StateGate()
        self._state_written: dict | None = None
        self.record_message: dict = {}  # the RECORD message the SDK's steps are handling
        self._tables: dict[TableName, str] = {}
        self._activations: dict[TableName, tuple[int, DuckDBSink]] = {}
        self._line_sinks: dict[bytes, DuckDBSink] = {}
        self._taken = 0
        self._closed = False
        if isinstance(self.message_reader, LineReader):
            self.message_reader.take_records = self._take_records
            self.message_reader.on_stop = self._stopping_at
        self.logger.info(
            "Loading %s (catalog %s), schema %s",
            self.warehouse.path,
            self.warehouse.catalog,
            self.schema_name,
        )

    @property
    def line_number(self) -> int:
        """The input line being handled."""
        reader = self.message_reader
        return reader.line_number if isinstance(reader, LineReader) else 0

    def table_for(self, stream: str) -> TableName:
        """The table a stream loads; two streams may not share one."""
        table = self.warehouse.table(self.schema_name, conform(stream))
        other = self._tables.setdefault(table, stream)
        if other != stream:
            msg = (
                f"streams '{other}' and '{stream}' would both load table {table}; rename one "
                "with a stream map"
            )
            raise LoadStopped(msg)
        return table

    def _files_waiting(self) -> bool:
        return any(
            isinstance(sink, DuckDBSink) and sink.files_waiting
            for sink in self._sinks_active.values()
        )

    def _hand_over_files(self) -> None:
        for sink in self._sinks():
            sink.hand_over_files()

    def _sinks(self) -> list[DuckDBSink]:
        sinks = [*self._sinks_to_clear, *self._sinks_active.values()]
        return [sink for sink in sinks if isinstance(sink, DuckDBSink)]

    # -- RECORD -----------------------------------------------------------------------------

    def _take_records(
        self, region: bytes, pos: int, limit: int, prefix: int, number: int
    ) -> tuple[int, int]:
        """The run of RECORD lines of one stream from `pos` (up to `limit`) into its batch as
        they are (if its stream is loaded as it is), up to the batch's size: (where they
        end, how many)."""
        start = pos + prefix
        quote = region.find(b'"', start, limit)
        sink = self._line_sinks.get(region[start:quote]) if quote >= 0 else None
        if sink is None:
            return pos, 0
        name = region[start:quote]
        found = sink.run_end(region[pos:start] + name).search(region, pos, limit)
        end = found.end() if found else limit
        count = region.count(b"\n", pos, end) + (not region.endswith(b"\n", pos, end))
        room = sink.batch_rows - len(sink.buffer)
        if count > room:  # the batch is full before the run ends: the rest starts the next
            end = pos
            for _ in range(room):
                end = region.index(b"\n", end) + 1
            count = room
        sink.buffer.add_run(region, pos, end, number, count)
        sink.lines_taken += count
        if len(sink.buffer) >= sink.batch_rows:
            self.drain_one(sink)
            self._release()
        self._taken += count
        if self._taken >= MAX_AGE_CHECK_LINES:
            self._taken = 0
            self._handle_max_record_age()
            self._release()
        return end, count

    def _refresh_line_sinks(self) -> None:
        """Streams whose RECORD lines load as they are: the identity map, no flattening."""
        self._line_sinks = {}
        for stream, stream_maps in self.mapper.stream_maps.items():
            if len(stream_maps) != 1:
                continue
            (stream_map,) = stream_maps
            sink = self._sinks_active.get(stream)
            if (
                type(stream_map) is SameRecordTransform
                and not stream_map.flattening_enabled
                and stream_map.stream_alias == stream
                and isinstance(sink, DuckDBSink)
                and _plain(stream)
            ):
                self._line_sinks[stream.encode()] = sink

    @override
    def _process_record_message(self, message_dict: dict) -> None:
        # The SDK's steps (stream maps, flattening) for a RECORD the line shortcut did not
        # take; the sink reads the message's version and time_extracted from here.
        self.record_message = message_dict
        super()._process_record_message(message_dict)

    # -- SCHEMA -----------------------------------------------------------------------------

    @override
    def _process_schema_message(self, message_dict: dict) -> None:
        self._hand_over_files()  # a run of BATCH messages ended
        # Rows read under the old schema load first, before the table changes for the new.
        stream = message_dict.get(wire.MESSAGE_STREAM)
        stream_maps = self.mapper.stream_maps.get(stream) if isinstance(stream, str) else None
        if stream_maps and (
            stream_maps[0].raw_schema != message_dict.get("schema")
            or stream_maps[0].raw_key_properties != message_dict.get("key_properties")
        ):
            for stream_map in stream_maps:
                sink = self._sinks_active.get(stream_map.stream_alias)
                if sink is not None:
                    self.drain_one(sink)
        super()._process_schema_message(message_dict)
        self._refresh_line_sinks()

    # -- ACTIVATE_VERSION (see the module docstring) ----------------------------------------

    @override
    def _process_activate_version_message(self, message_dict: dict) -> None:
        stream = message_dict[wire.MESSAGE_STREAM]
        version = int(message_dict[wire.MESSAGE_VERSION])
        if not self.config.get("process_activate_version_messages", True):
            self.logger.info("ACTIVATE_VERSION for '%s' ignored (setting)", stream)
            return
        for stream_map in self.mapper.stream_maps[stream]:
            sink = self.get_sink(stream_map.stream_alias)
            if not isinstance(sink, DuckDBSink):
                continue
            self.drain_one(sink)  # rows before it keep the version they came with
            table = sink.target_table.table
            pending = self._activations.pop(table, None)
            if pending is not None and pending[0] == version:
                sink.retire_older_versions(version)
            else:
                self._activations[table] = (version, sink)
            sink.activate_version(version)
        self._release()

    # -- STATE: once every row read before it is committed ----------------------------------

    @override
    def _process_state_message(self, message_dict: dict) -> None:
        super()._process_state_message(message_dict)
        self._gate.arrived(self.line_number, copy.deepcopy(message_dict["value"]))
        self._release()

    def _release(self) -> None:
        """Write the newest STATE whose rows are all committed, if one waits."""
        self.worker.check()
        committed_before = min(
            [self.worker.busy_from, *(sink.first_line for sink in self._sinks())]
        )
        state = self._gate.safe(committed_before)
        if state is not None:
            self._write_state_message(state)

    @override
    def _write_state_message(self, state: dict) -> None:
        # The SDK's drain of every sink writes the latest STATE again: once is enough.
        if state != self._state_written:
            self._state_written = state
            super()._write_state_message(state)

    @override
    def _drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        # singer-sdk is pinned <0.55 (a private method): sinks hand their rows to the one
        # worker in turn (there is nothing to parallelize), and `drain_all` writes the
        # latest STATE right after this, so every row must be committed by then.
        for sink in sink_list:
            self.drain_one(sink)
        self.worker.wait()
        self._release()

    @override
    def process_endofpipe(self) -> None:
        try:
            for sink in self._sinks():
                self.drain_one(sink)
            for version, sink in self._activations.values():
                sink.retire_older_versions(version)
            self._activations.clear()
            self.worker.wait()
            super().process_endofpipe()
        except Exception as exc:
            self._stopping_at(self.line_number + 1, exc)
            raise
        finally:
            self.close()

    # -- stopping ---------------------------------------------------------------------------

    def _stopping_at(self, line_number: int, error: Exception) -> None:
        """The load stops at `line_number`, or at the earlier line a batch named. For bad
        input, the rows read before that line are committed and their STATE written."""
        if not isinstance(error, INPUT_ERRORS):
            self.close()
            return
        if isinstance(error, BadInput) and error.line:
            stop = error.line  # the batch committed its lines before this one
        elif self.worker.failed_from is not None:
            stop = self.worker.failed_from  # nothing of the failed batch is committed
        else:
            stop = line_number
        self.logger.info("Loading the rows read before line %d, then stopping", stop)
        try:
            for sink in self._sinks():
                sink.hand_over(before_line=stop)
            self.worker.wait()
            state = self._gate.safe(stop)
            if state is not None:
                self._write_state_message(state)
        except Exception as exc:  # the error that brought us here stays the one raised
            self.logger.error("Could not load the rows read before line %d: %s", stop, exc)
        finally:
            self.close()

    def close(self) -> None:
        """Wait for the worker and close the database file (checkpointed: safe to open)."""
        if self._closed:
            return
        self._closed = True
        failed = self.worker.settle()
        if failed is not None:
            self.logger.debug("Worker stopped with: %s", failed)
        self.worker.close()
        self.warehouse.close()

    @classmethod
    @override
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        super().append_builtin_config(config_jsonschema)
        # Keyed streams merge and the others append, always: a load_method setting would
        # promise modes this loader does not have.
        config_jsonschema["properties"].pop("load_method", None)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """Run the CLI; a load that cannot go on ends with one line and exit code 1."""
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except INPUT_ERRORS as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except ConfigValidationError as exc:
            for error in exc.errors or [str(exc)]:
                cls.logger.error("%s", error)
            sys.exit(1)


if __name__ == "__main__":
    TargetDuckDBTyped.cli()
