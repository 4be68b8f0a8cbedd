"""Export files: streaming downloads, and records decoded exactly as rows mode returns them.

Downloads go to a file chunk by chunk (never a whole file in memory), without the API token:
the URL carries its own signature and may point at a storage host. Parquet is read one record
batch at a time, JSON one array item at a time. Values are shaped like the rows endpoint's:
DATE `YYYY-MM-DD`, TIMESTAMP `YYYY-MM-DDTHH:MM:SSZ`, money as Decimal with the file's digits
(or decimal strings under use_singer_decimal), arrays as lists, keys as the stream's property
names.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_ignite import wire
from tap_ignite.arrow_lines import LineBuilder, is_string, time_text
from tap_ignite.decimal_strings import DECIMAL_DATA_TYPES, decimal_string
from tap_ignite.http_rules import DeadlineSession, whole_request
from tap_ignite.json_array import JSONArrayError, iter_json_array

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_ignite.client import IgniteStream
    from tap_ignite.columns import Column
    from tap_ignite.export import Export, ExportFile

DOWNLOAD_CHUNK_BYTES = 1 << 20
_T = TypeVar("_T")
_UNSAFE_KEY = re.compile(r'[\\"\x00-\x1f]')
# Rows per parquet record batch, and per list of records written at once.
CHUNK_ROWS = 10_000
# Worker threads converting parquet batches to RECORD lines (see `_parquet_chunks`).
CONVERT_THREADS = 2


class DownloadUrlExpiredError(Exception):
    """The signed URL answered 403: poll the export again for a fresh one."""


class ExportFilesGoneError(FatalAPIError):
    """A download answered 404: the export's files were deleted."""


class _SignedUrlFilter(logging.Filter):
    """Cuts the query (the signature) off URLs that urllib3 logs at DEBUG level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.split("?", 1)[0] + "?..." if isinstance(arg, str) and "?" in arg else arg
                for arg in record.args
            )
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_SignedUrlFilter())


class Downloader:
    """Downloads export files for one stream, with its timeout and retries."""

    def __init__(self, stream: IgniteStream) -> None:
        self.stream = stream
        # A session of its own, without the stream's authenticator: the token must not
        # travel to wherever a signed URL points.
        self.session = DeadlineSession(stream.timeout)

    def close(self) -> None:
        """Release the session's connections."""
        self.session.close()

    def download(self, export: Export, file: ExportFile, destination: Path) -> int:
        """Write one file to `destination`; returns its size in bytes.

        Raises DownloadUrlExpiredError on 403 and ExportFilesGoneError on 404; other failures
        are retried like API requests, and their messages never include the URL.
        """
        what = f"file {file.number} of {len(export.files)} of {export.describe()}"
        size = 0

        def fetch(request: requests.PreparedRequest, _: Context | None) -> requests.Response:
            nonlocal size
            try:
                response, size = self._fetch(request, file, destination, what)
            except requests.RequestException as exc:
                # requests puts the URL (with its signature) in its messages: leave it out.
                msg = f"Download of {what} failed: {type(exc).__name__}"
                raise RetriableAPIError(msg) from None
            return response

        request = requests.Request("GET", file.url).prepare()
        self.stream.request_decorator(fetch)(request, None)
        return size

    def _fetch(
        self, request: requests.PreparedRequest, file: ExportFile, destination: Path, what: str
    ) -> tuple[requests.Response, int]:
        # request_timeout bounds the whole download, body included (http_rules.py).
        with (
            whole_request(self.session.request_timeout),
            self.session.send(request, stream=True) as response,
        ):
            status = response.status_code
            # What each status means: wire.RESPONSE_ACTIONS.
            action = wire.response_action(status, wire.Request.DOWNLOAD)
            if action is wire.Action.REFRESH:
                raise DownloadUrlExpiredError(what)
            if action is wire.Action.NEW_EXPORT:
                msg = f"Download of {what} answered {status}: the export's files are gone"
                raise ExportFilesGoneError(msg)
            if action in wire.RETRIED_ACTIONS:
                msg = f"Download of {what} answered {status} {response.reason}"
                raise self.stream.retry_error(msg, response)
            if action is not None:
                msg = f"Download of {what} answered {status} {response.reason}"
                raise FatalAPIError(msg)
            size = 0
            with destination.open("wb") as out:
                for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK_BYTES):
                    out.write(chunk)
                    size += len(chunk)
        if file.bytes is not None and size != file.bytes:
            msg = f"Download of {what} is {size} bytes, the export said {file.bytes}"
            raise RetriableAPIError(msg)
        return response, size


# -- records ------------------------------------------------------------------------------


class RecordShaper:
    """Turns export rows (keyed by column name) into the stream's records."""

    def __init__(
        self,
        columns: Sequence[Column],
        property_names: Mapping[str, str],
        *,
        decimal_strings: bool,
    ) -> None:
        self.columns = {col.name: col for col in columns}
        self.property_names = dict(property_names)
        self.decimal_strings = decimal_strings
        self._renames = {name: key for name, key in self.property_names.items() if name != key}
        self._unknown = [col.name for col in columns if not col.is_known_type]
        self._decimals = (
            [col.name for col in columns if col.data_type in DECIMAL_DATA_TYPES]
            if decimal_strings
            else []
        )

    # -- JSON files: rows are JSON objects with the rows endpoint's value formats ---------

    def json_records(self, path: Path) -> Iterator[dict[str, Any]]:
        """The records of a JSON export file (an array of row objects)."""
        with path.open("rb") as stream:
            try:
                for row in iter_json_array(stream):
                    if not isinstance(row, dict):
                        msg = f"an item is a {type(row).__name__}, not a row object"
                        raise JSONArrayError(msg)
                    yield self._shape_json_row(row)
            except JSONArrayError as exc:
                msg = f"Export file {path.name} is not a JSON array of rows: {exc}"
                raise FatalAPIError(msg) from exc

    def _shape_json_row(self, row: dict[str, Any]) -> dict[str, Any]:
        for name in self._unknown:
            value = row.get(name)
            if value is not None and not isinstance(value, str):
                row[name] = msgspec.json.encode(value).decode()
        for name in self._decimals:
            if name in row:
                row[name] = decimal_string(row[name])
        if self._renames:
            return {self._renames.get(key, key): value for key, value in row.items()}
        return row

    def json_chunks(self, path: Path) -> Iterator[list[dict[str, Any]]]:
        """The records of a JSON export file, in lists of up to CHUNK_ROWS."""
        chunk: list[dict[str, Any]] = []
        for record in self.json_records(path):
            chunk.append(record)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    # -- parquet files: typed columns, converted to the rows endpoint's formats -----------

    def parquet_records(self, path: Path) -> Iterator[dict[str, Any]]:
        """The records of a parquet export file, one record batch at a time."""

        def convert(batch: pa.RecordBatch) -> tuple[list[str], list[list[Any]]]:
            return self._property_names(batch), self._batch_values(batch)

        for names, values in self._parquet_chunks(path, convert):
            # Every list has the batch's length and one name each: `strict` only costs time.
            yield from (dict(zip(names, row)) for row in zip(*values))  # noqa: B905

    def parquet_lines(
        self, path: Path, lines: LineBuilder
    ) -> Iterator[tuple[int, bytes | list[Any]]]:
        """A parquet export file's records for writing as they are, one record batch at a time.

        Per batch: its row count, and its RECORD lines made in Arrow (arrow_lines.py), or,
        for a batch that needs Python for some value, its records for `write_records`:
        structs (see `record_struct`) with decimals as raw JSON numbers, else dicts.
        """
        row_types: dict[tuple[str, ...], type[msgspec.Struct] | None] = {}

        def convert(batch: pa.RecordBatch) -> tuple[int, bytes | list[Any]]:
            columns = [self.columns.get(name) for name in batch.schema.names]
            names = self._property_names(batch)
            text = lines.lines(columns, names, batch)
            if text is not None:
                return batch.num_rows, text
            values = self._batch_values(batch, raw_numbers=True)
            key = tuple(names)
            if key not in row_types:
                row_types[key] = record_struct(names)
            row_type = row_types[key]
            if row_type is None:  # a key msgspec cannot rename to: dicts
                return batch.num_rows, [dict(zip(names, row)) for row in zip(*values)]  # noqa: B905
            return batch.num_rows, list(map(row_type, *values))

        yield from self._parquet_chunks(path, convert, threads=CONVERT_THREADS)

    def _parquet_chunks(
        self, path: Path, convert: Callable[[pa.RecordBatch], _T], *, threads: int = 0
    ) -> Iterator[_T]:
        """`convert` of each record batch of a parquet file, in order, Arrow's errors named.

        With `threads`, batches are converted that many at a time on worker threads while
        the caller writes the previous ones: Arrow's compute functions release the GIL, so
        a conversion done in Arrow runs on another core. At most `threads + 1` converted
        batches wait in memory.
        """
        try:
            parquet = pq.ParquetFile(path)
            try:
                batches = parquet.iter_batches(batch_size=CHUNK_ROWS, use_threads=not threads)
                if threads:
                    yield from _in_order(convert, batches, threads)
                else:
                    yield from map(convert, batches)
            finally:
                parquet.close()
        except (pa.ArrowException, OSError) as exc:
            msg = f"Export file {path.name} is not a readable parquet file: {exc}"
            raise FatalAPIError(msg) from exc

    def _property_names(self, batch: pa.RecordBatch) -> list[str]:
        """The stream's property names of a record batch's columns, in their order."""
        return [self.property_names.get(name, name) for name in batch.schema.names]

    def _batch_values(self, batch: pa.RecordBatch, *, raw_numbers: bool = False) -> list[list[Any]]:
        """Each column's values of a record batch, converted.

        Turning a whole batch into Python at once (`to_pylist`) makes a datetime with a
        time zone per timestamp and a Decimal per decimal128 value, only to format them
        again; column by column, dates and timestamps become their text inside Arrow.
        """
        values = []
        for field, array in zip(batch.schema, batch.columns, strict=True):
            column = self.columns.get(field.name)
            values.append(
                self._column_values(column, array, raw_numbers=raw_numbers)
                if column
                else array.to_pylist()
            )
        return values

    def _column_values(self, column: Column, array: pa.Array, *, raw_numbers: bool) -> list[Any]:
        if column.data_type in DECIMAL_DATA_TYPES:
            return _numbers(array, as_strings=self.decimal_strings, raw=raw_numbers)
        text = time_text(column.data_type, array)
        if text is not None:
            return text.to_pylist()
        if not column.is_known_type and not is_string(array.type):
            return [None if value is None else _json_text(value) for value in array.to_pylist()]
        return array.to_pylist()


def _in_order(
    convert: Callable[[pa.RecordBatch], _T], batches: Iterator[pa.RecordBatch], threads: int
) -> Iterator[_T]:
    """`convert` of each batch on `threads` worker threads; results in the batches' order."""
    pending: collections.deque[concurrent.futures.Future[_T]] = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(threads, "tap-ignite-parquet") as pool:
        try:
            for batch in batches:
                pending.append(pool.submit(convert, batch))
                if len(pending) > threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # the caller stopped early, or a conversion failed
                future.cancel()


def record_struct(names: Sequence[str]) -> type[msgspec.Struct] | None:
    """A struct type whose instances encode as a JSON object with these keys, in order.

    Field names are positional (`f0`, `f1`, ...) and renamed to the property names, which
    need not be identifiers. Not tracked by the garbage collector: a row refers only to
    its values. None where msgspec cannot use a name as it is (one with a quote, a
    backslash or a control character), since it does not escape renamed fields.
    """
    if any(_UNSAFE_KEY.search(name) for name in names):
        return None
    fields = [(f"f{i}", object) for i in range(len(names))]
    rename = {f"f{i}": name for i, name in enumerate(names)}
    return msgspec.defstruct("Record", fields, rename=rename, gc=False)


def _numbers(array: pa.Array, *, as_strings: bool, raw: bool = False) -> list[Any]:
    """NUMBER/MONETARY_AMOUNT: decimals and integers keep every digit; text is parsed.

    A decimal128 column is read through its text (Arrow writes every digit of the scale):
    that and `Decimal(text)` cost a fraction of Arrow making each Decimal itself. With
    `raw`, the text itself is the JSON number (`msgspec.Raw`), cheaper still to make and
    to encode.
    """
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        if as_strings:
            return pc.cast(array, pa.string()).to_pylist()
        if pa.types.is_integer(kind):
            return array.to_pylist()
        texts = pc.cast(array, pa.string())
        if raw:
            raw_texts = pc.cast(texts, pa.binary()).to_pylist()
            return [None if text is None else msgspec.Raw(text) for text in raw_texts]
        return [None if text is None else Decimal(text) for text in texts.to_pylist()]
    convert = decimal_string if as_strings else _decimal
    return [None if value is None else convert(value) for value in array.to_pylist()]


def _decimal(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value) if isinstance(value, str) else value


def _json_text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else msgspec.json.encode(value).decode()
