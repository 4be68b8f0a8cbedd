"""What every table's stream shares, whichever way its rows are read.

Three siblings derive from `IgniteTableStream`: `RowsStream` (streams.py, pages of
`POST /tables/{entity}/rows`), `SnapshotTableStream` (snapshot_stream.py, the files of an
async export) and `DataTableStream` (legacy.py, the deprecated data-table export). The base
owns only what all three share: the schema from the columns, the property name each column's
values carry, which columns are selected, the key columns, how values of unknown or decimal
dataTypes leave, the HTTP client with its retries (client.py), and the output flushed when
the table's records end. Paging, bookmarks and record sources are each sibling's own.
"""

from __future__ import annotations

import contextlib
import datetime
import sys
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage

from tap_ignite.batch_storage import BatchStorageErrors
from tap_ignite.client import IgniteStream
from tap_ignite.decimal_strings import decimal_keys, stringify_decimals, with_decimal_strings
from tap_ignite.stopping import STOP

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_ignite.columns import Column
    from tap_ignite.tap import TapIgnite


class IgniteTableStream(BatchStorageErrors, IgniteStream):
    """One table's stream: its columns, their property names, and the schema they make.

    `schema` is the columns' schema (settings.py's `use_singer_decimal` is applied here);
    `property_names` maps each column's name to the key its values carry in a record.
    """

    def __init__(
        self,
        tap: TapIgnite,
        *,
        name: str,
        columns: Sequence[Column],
        property_names: Mapping[str, str],
        schema: dict[str, Any],
        key_columns: Sequence[str],
        **kwargs: Any,
    ) -> None:
        self.columns = tuple(columns)
        self.property_names = dict(property_names)
        self.decimal_strings = tap.settings.use_singer_decimal
        # NUMBER and MONETARY_AMOUNT as exact decimal strings, under use_singer_decimal.
        self.decimal_properties = (
            decimal_keys({self.property_names[c.name]: c.data_type for c in self.columns})
            if self.decimal_strings
            else []
        )
        # Columns of a dataType the API does not document: their values become strings.
        self.unknown_type_properties = [
            self.property_names[col.name] for col in self.columns if not col.is_known_type
        ]
        super().__init__(
            tap,
            name=name,
            schema=with_decimal_strings(schema, self.decimal_properties),
            **kwargs,
        )
        self.primary_keys = [self.property_names[column] for column in key_columns]

    def selected_columns(self) -> list[str]:
        """Names of the selected columns, in table order."""
        mask = self.mask
        return [
            col.name for col in self.columns if mask[("properties", self.property_names[col.name])]
        ]

    def replication_data_type(self) -> str | None:
        """The dataType of the replication key's column, where the stream has one."""
        key = self.replication_key
        column = next(
            (col for col in self.columns if key and self.property_names[col.name] == key), None
        )
        return column.data_type if column else None

    def shape_rows(self, rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """Rows as the API sent them, with unknown dataTypes' values as JSON text and
        decimals as strings where the settings ask for them (changed in place)."""
        if self.unknown_type_properties:
            rows = _as_text(rows, self.unknown_type_properties)
        if self.decimal_properties:
            rows = stringify_decimals(rows, self.decimal_properties)
        return rows

    # -- records ----------------------------------------------------------------------------

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        # Table streams have no child streams: skip the SDK's per-record child bookkeeping.
        return ()

    def table_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The table's records: each sibling reads them its own way."""
        raise NotImplementedError

    @override
    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """`table_records`; when they end, the records still buffered go to stdout.

        The SDK's record loop has written each record before it asks for the next, so at
        the end of this generator every record is written: flushing here sends a table's
        last records on, rather than at the next STATE (none, if the state did not change)
        or at exit.
        """
        with self.flushed_at_end():
            yield from self.table_records(context)

    @contextlib.contextmanager
    def flushed_at_end(self) -> Iterator[None]:
        """Flush the output (`flush_output`) when this block ends, however it ends."""
        try:
            yield
        finally:
            self.flush_output()

    def flush_output(self) -> None:
        """Send the records the message writer still buffers (see writer.py) to stdout.

        Not once a signal stopped the tap: no STATE will cover them, so a target would load
        them and the rerun would send them again.
        """
        if STOP.requested:
            return
        flush = getattr(self.ignite_tap.message_writer, "flush", None)
        if flush is not None:
            flush()


class ExactRecordMessages(IgniteTableStream):
    """Records that leave exactly as they were read: no per-record walks.

    For streams whose records already hold exactly the selected columns (the request or the
    export asked only for them) in the types their schema declares (the API's documented
    formats): the SDK's per-record selection and conformance walks would change nothing, and
    they were the largest per-record cost of a sync. `extracted_at` is when the records being
    written were read (a page, an export file).
    """

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    extracted_at: datetime.datetime

    @override
    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        """RECORD messages for a record, through the stream maps only."""
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=self.extracted_at,
                )


def _as_text(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        for key in keys:
            value = row.get(key)
            if value is not None and not isinstance(value, str):
                row[key] = msgspec.json.encode(value).decode()
        yield row
