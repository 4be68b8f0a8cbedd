"""What one stream's batches do: become flat rows, fill byte-capped batches, become imports.

Batch boundaries: the SDK drains a sink when `is_full` says so, right after the record that
filled it, and drains every sink before it emits STATE. A batch is sealed when the next row
would take it over `batch_max_bytes` (that row waits in the next batch), when it reaches
`batch_size_rows`, or (csv) when a record brings a field the file's header lacks; a drain for
fullness sends the sealed batch only, any other drain sends everything, so STATE never goes
out while a row of this sink is still in memory.

A drain hands the batches to the import thread (in_flight.py), where each becomes one import,
top to bottom in `import_batch`: the sink builds it (`build_import`, to the byte), the client
sends it (`ImportClient.send`, the one place an import leaves the target), the load records
the result (`Load.record`, or `Load.failed`), all in the repository's turn (its first import
carries the delete query). The load's import log hears of each: receipts (receipts.py), or in
a dry run the plan (plan.py), where the client builds the request and sends nothing.

The records of a BATCH message's files take the very steps a RECORD message's record takes
(stream map and flattening, validation, row, batches), so a tap that switches to BATCH
loads the same rows in the same imports.
"""

from __future__ import annotations

import copy
import functools
import gzip
import re
import sys
import typing as t
from collections.abc import Iterable

from singer_sdk.mapper import SameRecordTransform
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding
    from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum
    from singer_sdk.mapper import StreamMap

from target_ignite.batch_files import batch_records
from target_ignite.batches import Batch
from target_ignite.client import ImportClient, ImportRequest, ImportResult, json_body
from target_ignite.columns import RowShape
from target_ignite.errors import BadRecord, ImportFailed
from target_ignite.fields import FieldCheck
from target_ignite.flattening import LosslessMapper
from target_ignite.records import DateColumns, Flattening, as_read
from target_ignite.rows import CsvRows, codec_for
from target_ignite.validation import RecordValidator

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from target_ignite.in_flight import ImportInFlight
    from target_ignite.loads import Load, RepositoryLoad
    from target_ignite.target import TargetIgnite

GZIP_LEVEL = 6
DELETE_QUERY_ID_ROOM = 64  # characters; delete query ids are 36-character uuids
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class IgniteSink(BatchSink):
    """One stream's rows into one Ignite data repository."""

    def __init__(
        self,
        target: TargetIgnite,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        self._load: Load = target.load
        self._imports: ImportInFlight = target.imports
        self._client: ImportClient = target.client
        mapper = target.mapper
        if not isinstance(mapper, LosslessMapper):  # set up in TargetIgnite.setup_mapper
            msg = "target-ignite's sinks need its own mapper (LosslessMapper)"
            raise TypeError(msg)
        self._target_mapper = mapper
        self._drain_one = target.drain_one
        super().__init__(target, stream_name, schema, key_properties)
        self._open: Batch | None = None
        self._sealed: list[Batch] = []
        self._drain_sealed_only = False
        # Records taken in, and records imported (in arrival order), for the STATE gate.
        self.records_received = 0
        self.records_submitted = 0
        self.records_imported = 0
        # Here rather than in setup(): the SDK logs a second, vaguer error line for any
        # exception from setup(), and these checks stop loads with a message of their own.
        # Joining the repository's load checks the imports it made against this stream's
        # delete query: the import in flight must have counted by then.
        self._imports.wait()
        self._destination: RepositoryLoad = self._load.register(self.stream_name)
        repository = self._destination.repository
        self._fields = FieldCheck(
            self.stream_name,
            repository,
            target.settings.unknown_fields,
            self.schema.get("properties", {}),
            self.logger,
        )
        self._destination.field_checks.append(self._fields)
        self._shape = RowShape(self.schema.get("properties", {}), self._fields)
        self._extras_in_files = 0  # of the shape's extra fields, those the codec writes
        self._codec = codec_for(target.settings.import_format, self._shape.columns)
        self._dates = DateColumns(self.schema)
        self._flattening: Flattening | None = None
        self._max_bytes = target.settings.batch_max_bytes
        target.sinks_made.append(self)
        self.logger.info(
            "Stream '%s' loads repository '%s' (%s) as %s imports of at most %d rows and %d bytes",
            self.stream_name,
            repository.name,
            repository.id,
            self._codec.name,
            self.max_size,
            self._max_bytes,
        )

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        if not self.validate_schema:
            return None
        # Flattening turns a required `info` into `info__name` columns but keeps `required`
        # as it was; a required name that is no longer a column cannot be checked.
        schema = dict(self.schema)
        if "required" in schema:
            columns = schema.get("properties", {})
            schema["required"] = [name for name in schema["required"] if name in columns]
        return RecordValidator(schema)

    # -- records ----------------------------------------------------------------------

    @property
    def stream_map(self) -> StreamMap | None:
        """The stream map whose records this sink takes: its stream's, from the newest SCHEMA."""
        return self._target_mapper.newest.get(self.stream_name)

    def take(self, record: dict, message: dict) -> None:
        """The SDK's steps for one record after its stream map (as in its target's
        `_process_record_message`, but for the record counter), up to `process_record`.
        Its check for key properties is `preprocess_record`'s here. singer-sdk is pinned
        <0.55: these are its private steps, called in its order, for the target's fast path
        and for BATCH files' records, which must become the rows a RECORD message gives."""
        context = self._get_context(record)
        if self.include_sdc_metadata_properties:
            self._add_sdc_metadata_to_record(record, message, context)
        else:
            self._remove_sdc_metadata_from_record(record)
        self._validate_and_parse(record)
        record = self.preprocess_record(record, context)
        self.tally_record_read()
        self.process_record(record, context)
        self._after_process_record(context)

    def _take_file_records(self, records: Iterable[dict[str, t.Any]]) -> None:
        """A BATCH file's records, each as its RECORD message would be taken."""
        stream_map = self.stream_map
        if stream_map is None:
            msg = f"stream '{self.stream_name}' has no stream map for its BATCH records"
            raise AssertionError(msg)
        plain = type(stream_map) is SameRecordTransform
        message = {"type": "RECORD", "stream": self.stream_name}
        for record in records:
            read = as_read(record)
            mapped = (
                self.flattening(stream_map).apply(read)
                if plain
                else stream_map.transform(copy.copy(read))
            )
            if mapped is None:  # a stream map's filter left it out
                continue
            self.take(mapped, message)
            if self.is_full:
                self._drain_one(self)

    def flattening(self, stream_map: StreamMap) -> Flattening:
        """The shortcut for `stream_map`'s flattening (the stream's identity map)."""
        if self._flattening is None or self._flattening.stream_map is not stream_map:
            self._flattening = Flattening(stream_map)
        return self._flattening

    @override
    def _parse_timestamps_in_record(
        self, record: dict, schema: dict, treatment: DatetimeErrorTreatmentEnum
    ) -> None:
        # singer-sdk is pinned <0.55: a private hook of its `_validate_and_parse`. Dates that
        # are valid and already in the form `iso_text` writes stay text; anything else (and
        # every error, with its message) is the SDK's own parse.
        if schema is self.schema and self._dates.keep_text(record):
            return
        super()._parse_timestamps_in_record(record, schema, treatment)

    @override
    def preprocess_record(self, record: dict, context: dict) -> dict:
        # The row has every column, so the SDK's check for key properties, made after this,
        # would always pass: it is made here, on the record as it came.
        self._singer_validate_message(record)
        row = self._shape.row(record)
        if len(self._shape.extras) != self._extras_in_files:
            self._new_columns()
        return row

    def _new_columns(self) -> None:
        """Fields beyond the schema that records began to bring: a CSV file gets them as
        columns from the next file on (a file has one header line), so this seals the
        file being filled, whose rows do not have them."""
        new = self._shape.extras[self._extras_in_files :]
        self._extras_in_files = len(self._shape.extras)
        if not isinstance(self._codec, CsvRows):
            return
        if self._open is not None and self._open.rows:
            self._sealed.append(self._open)
            self._open = None
            self._drain_sealed_only = True
        self._codec.add_columns(new)

    def _new_batch(self) -> Batch:
        number = self._load.next_batch_number(self.stream_name)
        name = self.import_name(number)
        if self._codec.file_extension is None:
            # Room for a delete query id whether or not one is known yet: another stream of
            # the repository may bring one before this batch goes out as its first import.
            delete_query = self._destination.delete_query_id or ""
            placeholder = "x" * max(DELETE_QUERY_ID_ROOM, len(delete_query))
            header = b""
            overhead = len(json_body(self._destination.repository.id, name, placeholder, b""))
        else:
            header = self._codec.header()
            overhead = len(header)
        return Batch(
            number=number,
            import_name=name,
            capacity=self._max_bytes - overhead,
            separator=self._codec.separator,
            header=header,
        )

    def import_name(self, number: int) -> str:
        """The import's name, from `import_name_template`."""
        return self._load.import_names.name(
            self.stream_name, self._destination.repository.name, number
        )

    def _add(self, encoded: bytes) -> bool:
        """Add one encoded row; True when that sealed a batch whose row limit or bytes are full."""
        batch = self._open or self._new_batch()
        self._open = batch
        if batch.fits(encoded):
            batch.add(encoded)
            if batch.rows >= self.max_size:
                self._sealed.append(batch)
                self._open = None
                return True
            return False
        if batch.rows == 0:
            msg = (
                f"a record of stream '{self.stream_name}' is {len(encoded)} bytes as "
                f"{self._codec.name}, more than one import may carry "
                f"(batch_max_bytes {self._max_bytes})"
            )
            raise BadRecord(msg)
        following = self._new_batch()
        if not following.fits(encoded):
            msg = (
                f"a record of stream '{self.stream_name}' is {len(encoded)} bytes as "
                f"{self._codec.name}, more than one import may carry "
                f"(batch_max_bytes {self._max_bytes})"
            )
            raise BadRecord(msg)
        self._sealed.append(batch)
        following.add(encoded)
        self._open = following
        # The row that did not fit waits in `following`: the drain for fullness leaves it.
        self._drain_sealed_only = True
        return True

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self._add(self._codec.encode(record))
        self.records_received += 1

    @property
    @override
    def current_size(self) -> int:
        open_rows = self._open.rows if self._open else 0
        return open_rows + sum(batch.rows for batch in self._sealed)

    @property
    @override
    def is_full(self) -> bool:
        return bool(self._sealed)

    @override
    def activate_version(self, new_version: int) -> None:
        # Imports only add rows: what replaces a repository's rows is a delete query, once
        # per load. Said once per stream and load (an SDK tap sends the message twice).
        if not self._load.first_activate_version(self.stream_name):
            return
        repository = self._destination.repository
        if self._destination.delete_query_id:
            self.logger.info(
                "Stream '%s': ACTIVATE_VERSION %s: delete query %s replaces the rows of "
                "repository '%s' that it matches, once per load, so rows removed at the source "
                "are gone from Ignite when the query matches them",
                self.stream_name,
                new_version,
                self._destination.delete_query_id,
                repository.name,
            )
            return
        self.logger.info(
            "Stream '%s': ACTIVATE_VERSION %s: no delete query applies to repository '%s', "
            "so rows removed at the source stay in Ignite (Ignite imports only add rows; set "
            "delete_query_id or stream_delete_queries to replace them once per load)",
            self.stream_name,
            new_version,
            repository.name,
        )

    # -- imports ----------------------------------------------------------------------

    @override
    def process_batch(self, context: dict) -> None:
        if "records" in context:  # a BATCH message's file, read a piece at a time
            self._take_file_records(context["records"])
            return
        batches = self._batches_to_send()
        if batches:
            # On the import thread while the next rows are read (in_flight.py); the target
            # waits for it before any STATE the SDK writes after draining every sink.
            self.records_submitted += sum(batch.rows for batch in batches)
            self._imports.submit(functools.partial(self._import_in_order, batches))

    @override
    def process_batch_files(self, encoding: BaseBatchFileEncoding, files: t.Sequence[str]) -> None:
        # The SDK's version holds a whole file in memory: read it a piece at a time instead.
        # A file that cannot be read stops the load at its BATCH line (the reader names it)
        # like any bad input, as a BadBatchFile (batch_files.py); import errors are left alone.
        storage = self.batch_config.storage if self.batch_config else None
        for url in files:
            records = batch_records(url, encoding, storage, self.record_counter_metric)
            self.process_batch({"records": records})

    def _batches_to_send(self) -> list[Batch]:
        """The sealed batches, and the open one unless this drain is for fullness only."""
        batches, self._sealed = self._sealed, []
        if not self._drain_sealed_only and self._open is not None and self._open.rows:
            batches.append(self._open)
            self._open = None
        self._drain_sealed_only = False
        return batches

    def _import_in_order(self, batches: list[Batch]) -> None:
        """On the import thread: each batch becomes one import, in the order they filled."""
        for batch in batches:
            self.import_batch(batch)
            self.records_imported += batch.rows

    def import_batch(self, batch: Batch) -> ImportResult:
        """One batch, one import: the sink builds it, the client sends it, the load records
        the result, all in the repository's turn (its first import carries the delete query)."""
        with self._destination.turn() as delete_query_id:
            request = self.build_import(batch, delete_query_id)
            try:
                result = self._client.send(request)
            except ImportFailed as exc:  # its receipt (receipts.py) says what it took
                self._load.failed(self._destination, self.stream_name, request, exc)
                raise
            self._load.record(self._destination, self.stream_name, request, result)
        return result

    def build_import(self, batch: Batch, delete_query_id: str | None) -> ImportRequest:
        """The import `batch` becomes, to the byte, as `ImportClient.send` sends it."""
        repository_id = self._destination.repository.id
        if self._codec.file_extension is None:
            body = json_body(repository_id, batch.import_name, delete_query_id, batch.content)
            return ImportRequest(
                repository_id, batch.import_name, "json", batch.rows, delete_query_id, body
            )
        stem = _UNSAFE_FILE_CHARS.sub("-", batch.import_name).strip("-.") or "import"
        return ImportRequest(
            repository_id,
            batch.import_name,
            self._codec.name,
            batch.rows,
            delete_query_id,
            gzip.compress(batch.header + batch.content, compresslevel=GZIP_LEVEL, mtime=0),
            file_name=f"{stem}{self._codec.file_extension}",
            file_config=self._codec.file_config,
        )
