"""Export files: streaming downloads, and records decoded exactly as rows mode returns them.

Downloads go to a file chunk by chunk (never a whole file in memory), without the API token:
the URL carries its own signature and may point at a storage host. Parquet is read one record
batch at a time, JSON one array item at a time. Values are shaped like the rows endpoint's:
DATE `YYYY-MM-DD`, TIMESTAMP `YYYY-MM-DDTHH:MM:SSZ`, money as Decimal with the file's digits
(or decimal strings under use_singer_decimal), arrays as lists, keys as the stream's property
names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_ignite.decimal_strings import DECIMAL_DATA_TYPES, decimal_string
from tap_ignite.json_array import JSONArrayError, iter_json_array

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_ignite.client import IgniteStream
    from tap_ignite.columns import Column
    from tap_ignite.export import Export, ExportFile

DOWNLOAD_CHUNK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 10_000


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
        self.session = requests.Session()

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
        with self.session.send(request, stream=True, timeout=self.stream.timeout) as response:
            status = response.status_code
            if status == HTTPStatus.FORBIDDEN:
                raise DownloadUrlExpiredError(what)
            if status == HTTPStatus.NOT_FOUND:
                msg = f"Download of {what} answered 404: the export's files are gone"
                raise ExportFilesGoneError(msg)
            if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                msg = f"Download of {what} answered {status} {response.reason}"
                raise RetriableAPIError(msg, response)
            if status >= HTTPStatus.BAD_REQUEST:
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

Converter = Callable[[pa.Array], pa.Array]


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

    # -- parquet files: typed columns, converted to the rows endpoint's formats -----------

    def parquet_records(self, path: Path) -> Iterator[dict[str, Any]]:
        """The records of a parquet export file, one record batch at a time."""
        try:
            parquet = pq.ParquetFile(path)
            try:
                for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                    yield from self._shape_batch(batch).to_pylist()
            finally:
                parquet.close()
        except (pa.ArrowException, OSError) as exc:
            msg = f"Export file {path.name} is not a readable parquet file: {exc}"
            raise FatalAPIError(msg) from exc

    def _shape_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = []
        names = []
        for field, array in zip(batch.schema, batch.columns, strict=True):
            column = self.columns.get(field.name)
            arrays.append(self._convert(column, array) if column else array)
            names.append(self.property_names.get(field.name, field.name))
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def _convert(self, column: Column, array: pa.Array) -> pa.Array:
        kind = array.type
        if column.data_type in DECIMAL_DATA_TYPES:
            return _numbers(array, as_strings=self.decimal_strings)
        if column.data_type == "DATE" and (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
            return pc.strftime(_utc(array), format="%Y-%m-%d")
        if column.data_type == "TIMESTAMP" and pa.types.is_timestamp(kind):
            return _rfc3339(array)
        if column.data_type == "TIMESTAMP" and pa.types.is_date(kind):
            return pc.strftime(array, format="%Y-%m-%dT00:00:00Z")
        if not column.is_known_type and not _is_string(kind):
            return _python_values(array, _json_text)
        return array


def _is_string(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _numbers(array: pa.Array, *, as_strings: bool) -> pa.Array:
    """NUMBER/MONETARY_AMOUNT: decimals and integers keep every digit; text is parsed."""
    kind = array.type
    if pa.types.is_decimal(kind) or pa.types.is_integer(kind):
        return pc.cast(array, pa.string()) if as_strings else array
    if as_strings:
        return _python_values(array, decimal_string)
    if pa.types.is_floating(kind) or _is_string(kind):
        return _python_values(array, _decimal)
    return array


def _decimal(value: Any) -> Any:
    from decimal import Decimal  # noqa: PLC0415 - only for the rare non-decimal column

    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value) if isinstance(value, str) else value


def _utc(array: pa.Array) -> pa.Array:
    kind = array.type
    if pa.types.is_timestamp(kind) and kind.tz not in {None, "UTC", "+00:00", "Z"}:
        return pc.cast(array, pa.timestamp(kind.unit, tz="UTC"))
    return array


def _rfc3339(array: pa.Array) -> pa.Array:
    """Timestamps as the rows endpoint writes them: whole seconds unless a value has more."""
    array = _utc(array)
    try:
        whole = pc.cast(array, pa.timestamp("s", tz=array.type.tz), safe=True)
    except pa.ArrowInvalid:
        # Some value has a fraction of a second: keep it (digits as the file's unit).
        return pc.strftime(array, format="%Y-%m-%dT%H:%M:%SZ")
    return pc.strftime(whole, format="%Y-%m-%dT%H:%M:%SZ")


def _json_text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else msgspec.json.encode(value).decode()


def _python_values(array: pa.Array, convert: Callable[[Any], Any]) -> pa.Array:
    """A column converted value by value in Python (only for unusual column types)."""
    values = [None if value is None else convert(value) for value in array.to_pylist()]
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(values, type=pa.string())
