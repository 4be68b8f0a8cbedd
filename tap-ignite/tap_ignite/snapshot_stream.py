"""A table in export mode: a full point-in-time snapshot through the async Export API.

A sibling of the rows stream (streams.py) over `IgniteTableStream` (table_stream.py): the same
name, schema, property names and record values; its own record source, with no paging,
prefetch or bookmarks to switch off. Snapshots are full table and send ACTIVATE_VERSION, so
targets that support it can remove rows that vanished from Ignite. The export's id is kept in
state while it is in flight, so a run that dies resumes polling the same export instead of
starting anew.
"""

from __future__ import annotations

import copy
import datetime
import sys
import tempfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from singer_sdk import Stream
from singer_sdk.batch import Batcher
from singer_sdk.contrib.msgspec import encoder
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE

from tap_ignite import wire
from tap_ignite.arrow_lines import LineBuilder, is_string
from tap_ignite.batch_storage import copy_into, storage_errors
from tap_ignite.export import (
    STATE_EXPORT,
    Export,
    ExportClient,
    ExportNotFoundError,
    export_mismatch,
    saved_export_mismatch,
)
from tap_ignite.snapshot_files import (
    Downloader,
    DownloadUrlExpiredError,
    ExportFilesGoneError,
    RecordShaper,
)
from tap_ignite.table_stream import ExactRecordMessages
from tap_ignite.writer import IgniteMessageWriter

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_ignite.columns import Column, KeyBy, Table
    from tap_ignite.tap import TapIgnite

PARQUET = "parquet"


class SnapshotTableStream(ExactRecordMessages):
    """An export table read in full through `POST /tables/{entity}/exports`."""

    def __init__(self, tap: TapIgnite, table: Table) -> None:
        self.table = table
        self.key_by: KeyBy = tap.settings.key_by
        super().__init__(
            tap,
            name=table.id,
            columns=table.columns,
            property_names=table.property_names(self.key_by),
            schema=table.json_schema(self.key_by),
            key_columns=table.primary_keys,
        )
        # Shown in the catalog's metadata; replication_method stays FULL_TABLE regardless.
        self.forced_replication_method = REPLICATION_FULL_TABLE
        self.extracted_at = datetime.datetime.now(datetime.UTC)

    # -- full table, whatever a catalog says ------------------------------------------------

    @property
    @override
    def replication_key(self) -> None:
        return None

    @replication_key.setter
    def replication_key(self, value: str | None) -> None:
        # A catalog from a rows-mode discovery may name one; a snapshot has none.
        del value

    @property
    @override
    def replication_method(self) -> str:
        return REPLICATION_FULL_TABLE

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        return True

    # -- the export -------------------------------------------------------------------------

    @property
    def export_format(self) -> str:
        """`parquet` or `json`, as configured."""
        return self.settings.export_format

    def export_request(self) -> dict[str, Any]:
        """The `POST /tables/{entity}/exports` body: selected columns, configured filters."""
        return {
            wire.BODY_FIELDS: self.selected_columns(),
            wire.BODY_FILTERS: copy.deepcopy(self.settings.filters.get(self.table.id) or {}),
            wire.BODY_FORMAT: self.export_format,
        }

    def _selected(self) -> list[Column]:
        selected = set(self.selected_columns())
        return [col for col in self.columns if col.name in selected]

    def _shaper(self) -> RecordShaper:
        return RecordShaper(
            self._selected(), self.property_names, decimal_strings=self.decimal_strings
        )

    # -- records ----------------------------------------------------------------------------

    @override
    def table_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        shaper = self._shaper()
        for path in self._export_files():
            if self.export_format == PARQUET:
                yield from shaper.parquet_records(path)
            else:
                yield from shaper.json_records(path)

    def _record_chunks(self, alias: str) -> Iterator[tuple[int, bytes | Sequence[Any]]]:
        """`get_records` a chunk at a time: (rows, their RECORD lines or the records).

        Parquet batches become lines in Arrow where they can (arrow_lines.py); records are
        for `IgniteMessageWriter.write_records`.
        """
        shaper = self._shaper()
        for path in self._export_files():
            if self.export_format == PARQUET:
                lines = LineBuilder(
                    alias,
                    self._stream_version,
                    self.extracted_at,
                    encoder.encode,
                    decimal_strings=shaper.decimal_strings,
                )
                yield from shaper.parquet_lines(path, lines)
            else:
                for chunk in shaper.json_chunks(path):
                    yield len(chunk), chunk

    def _export_files(self) -> Iterator[Path]:
        """The export's files for records, each with its extraction time; then the export
        is done, and no longer in state."""
        for path, _, _ in self._snapshot_files():
            self.extracted_at = datetime.datetime.now(datetime.UTC)
            yield path
        self.stream_state.pop(STATE_EXPORT, None)

    # -- records written a chunk at a time --------------------------------------------------

    @override
    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict, Any, Any]:
        """The SDK's record loop, or a chunk at a time where it would only copy records out.

        A snapshot has no bookmark to move per record, so when the records leave exactly as
        they are read (no stream maps, flattening, child streams, partitions, post_process
        or dry-run record limit), lists of records are encoded at once, with the same bytes
        and STATE messages as the SDK's loop. A private SDK method, listed with the private
        members this loop calls in sdk_private.py (their canary test guards SDK upgrades).
        """
        bulk = self._bulk_output() if write_messages and context is None else None
        if bulk is None:
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        writer, alias = bulk
        record_counter = self.get_record_counter()
        timer = self.get_sync_timer()
        with record_counter, timer, self.flushed_at_end():
            record_counter.with_context({})
            timer.with_context({})
            self._write_starting_replication_value(None)
            written = 0
            every = self.STATE_MSG_FREQUENCY
            for rows, chunk in self._record_chunks(alias):
                if isinstance(chunk, bytes):
                    writer.write_lines(chunk)
                else:
                    writer.write_records(alias, chunk, self._stream_version, self.extracted_at)
                record_counter.increment(rows)
                self.state_manager.is_flushed = False
                # As the SDK's loop: a STATE after every STATE_MSG_FREQUENCY-th record.
                if (written + rows) // every > written // every:
                    self._write_state_message()
                written += rows
            self._finalize_state(self.stream_state)
        self._write_state_message()

    def _bulk_output(self) -> tuple[IgniteMessageWriter, str] | None:
        """The writer and stream name for records written a chunk at a time; None if not."""
        maps = self.stream_maps
        writer = self.ignite_tap.message_writer
        if not (
            self.selected
            and isinstance(writer, IgniteMessageWriter)
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.child_streams
            and not self.partitions
            and type(self).post_process is Stream.post_process
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
        ):
            return None
        return writer, maps[0].stream_alias

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """BATCH files; a parquet export file is handed over as it is where it can be."""
        if not self._may_hand_over(batch_config.encoding):
            yield from super().get_batches(batch_config, context)
            return
        with storage_errors(self.name, batch_config.storage):
            yield from self._snapshot_batches(batch_config)

    def _snapshot_batches(
        self, batch_config: BatchConfig
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        encoding = batch_config.encoding
        shaper = self._shaper()
        for path, export, number in self._snapshot_files():
            mismatch = self._mismatch(path, encoding)
            if mismatch is None:
                yield encoding, [self._hand_over(batch_config, path, export, number)]
                continue
            self.logger.info(
                "File %d of %s is re-encoded for the batch: %s",
                number,
                export.describe(),
                mismatch,
            )
            batcher = Batcher(self.tap_name, self.name, batch_config)
            for manifest in batcher.get_batches(records=iter(shaper.parquet_records(path))):
                yield encoding, manifest
        self.stream_state.pop(STATE_EXPORT, None)
        self.finalize_state_progress_markers()

    def _may_hand_over(self, encoding: BaseBatchFileEncoding) -> bool:
        """Whether export files can be BATCH files as they are, by the settings alone."""
        return (
            encoding.format == PARQUET
            and self.export_format == PARQUET
            and not self.decimal_strings
            and all(self.property_names[col.name] == col.name for col in self._selected())
        )

    def _mismatch(self, path: Path, encoding: BaseBatchFileEncoding) -> str | None:
        """Why a parquet file cannot be a BATCH file as it is; None if it can.

        It must hold exactly the selected columns, each in the parquet type native to its
        dataType, and be compressed as configured (any codec when compression is not set).
        """
        schema = pq.read_schema(path)
        columns = {col.name: col for col in self._selected()}
        if sorted(schema.names) != sorted(columns):
            return f"its columns are {', '.join(schema.names)}"
        for field in schema:
            if not _native_type(columns[field.name], field.type):
                return f"column '{field.name}' is {field.type}"
        if encoding.compression == "gzip":
            metadata = pq.read_metadata(path)
            codecs = {
                metadata.row_group(i).column(j).compression
                for i in range(metadata.num_row_groups)
                for j in range(metadata.num_columns)
            }
            if codecs - {"GZIP"}:
                return f"it is compressed with {', '.join(sorted(codecs))}, not gzip"
        return None

    def _hand_over(self, batch_config: BatchConfig, path: Path, export: Export, number: int) -> str:
        """Copy the file into the batch storage as it is; returns its URL for the manifest."""
        storage = batch_config.storage
        name = f"{storage.prefix or ''}{self.tap_name}--{self.name}-{export.id}-{number}.parquet"
        if batch_config.encoding.compression == "gzip":
            name += ".gz"  # the SDK's own name for gzip-compressed parquet batches
        url = copy_into(storage, name, path)
        file = export.files[number - 1]
        self.logger.info(
            "File %d of %s handed over as a BATCH file as it is (%s rows)",
            number,
            export.describe(),
            file.rows if file.rows is not None else "?",
        )
        return url

    # -- export lifecycle -------------------------------------------------------------------

    def _snapshot_files(self) -> Iterator[tuple[Path, Export, int]]:
        """Each file of the finished export, downloaded; deleted once the caller moves on.

        Files that are gone (404) start one new export: rows already sent are sent again.
        """
        client = ExportClient(self)
        downloader = Downloader(self)
        request = self.export_request()
        new_exports_left = 1
        try:
            with tempfile.TemporaryDirectory(prefix="tap-ignite-export-") as folder:
                export = self._start_or_resume(client, request)
                while True:
                    export = client.wait(export)
                    try:
                        for number in range(1, len(export.files) + 1):
                            path = Path(folder) / f"{export.id}-{number}.{self.export_format}"
                            export = self._download(client, downloader, export, number, path)
                            yield path, export, number
                            path.unlink(missing_ok=True)
                    except ExportFilesGoneError as exc:
                        if new_exports_left <= 0:
                            raise
                        new_exports_left -= 1
                        self.logger.warning(
                            "%s; starting a new export (rows already sent, if any, will be "
                            "sent again)",
                            exc,
                        )
                        export = self._create(client, request)
                        continue
                    return
        finally:
            downloader.close()

    def _start_or_resume(self, client: ExportClient, request: dict[str, Any]) -> Export:
        """The export in state, if it is one of this table with this request; else a new one.

        State may come from elsewhere (another table's, an older run's, edited by hand): an
        export of another table, columns, filters or format is never read as this stream.
        """
        saved = self.stream_state.get(STATE_EXPORT)
        if saved is None:
            return self._create(client, request)
        mismatch = saved_export_mismatch(saved, self.table.id, request)
        if mismatch is None:
            export_id = str(saved["id"])
            try:
                export = client.get(export_id, self.table.id)
            except ExportNotFoundError:
                mismatch = f"Export {export_id} in state is unknown to Ignite (404)"
            else:
                mismatch = export_mismatch(export, self.table.id, self.export_format)
                if mismatch is None:
                    self.logger.info(
                        "Resuming %s from state (status %s)", export.describe(), export.status
                    )
                    return export
        self.logger.warning("%s; starting a new export", mismatch)
        return self._create(client, request)

    def _create(self, client: ExportClient, request: dict[str, Any]) -> Export:
        export = client.create(self.table.id, request)
        self.logger.info(
            "Started %s (%s, %d columns)",
            export.describe(),
            request[wire.BODY_FORMAT],
            len(request[wire.BODY_FIELDS]),
        )
        # In state before the first poll: a run that dies while it runs resumes it.
        self.stream_state[STATE_EXPORT] = {
            "id": export.id,
            "entity": self.table.id,
            "request": request,
        }
        self.finalize_state_progress_markers()
        return export

    def _download(
        self,
        client: ExportClient,
        downloader: Downloader,
        export: Export,
        number: int,
        path: Path,
    ) -> Export:
        """Download file `number`; an expired URL (403) is replaced by polling again."""
        fresh_urls_left = self.settings.max_url_refreshes
        while True:
            file = export.files[number - 1]
            try:
                size = downloader.download(export, file, path)
            except DownloadUrlExpiredError:
                if fresh_urls_left <= 0:
                    msg = (
                        f"Download of file {number} of {export.describe()} still answers "
                        "403 with a fresh URL"
                    )
                    raise FatalAPIError(msg) from None
                fresh_urls_left -= 1
                self.logger.info(
                    "Download URL of file %d of %s expired (403); polling it for fresh URLs",
                    number,
                    export.describe(),
                )
                export = client.get(export.id, export.entity)
                if export.status != wire.EXPORT_SUCCEEDED or len(export.files) < number:
                    msg = (
                        f"Ignite {export.describe()} no longer lists file {number} "
                        f"(status {export.status}, {len(export.files)} files)"
                    )
                    raise FatalAPIError(msg) from None
                continue
            self.logger.info(
                "Downloaded file %d of %d of %s (%s rows, %d bytes)",
                number,
                len(export.files),
                export.describe(),
                file.rows if file.rows is not None else "?",
                size,
            )
            return export


def _native_type(column: Column, kind: pa.DataType) -> bool:
    """Whether a parquet column's type holds a dataType's values without conversion."""
    data_type = column.data_type
    if data_type in {"NUMBER", "MONETARY_AMOUNT"}:
        return bool(pa.types.is_decimal(kind) or pa.types.is_integer(kind))
    if data_type == "BOOL":
        return bool(pa.types.is_boolean(kind))
    if data_type == "DATE":
        return bool(pa.types.is_date(kind))
    if data_type == "TIMESTAMP":
        return bool(pa.types.is_timestamp(kind))
    if data_type == "STRING_ARRAY":
        return bool(
            (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and is_string(kind.value_type)
        )
    return is_string(kind)
