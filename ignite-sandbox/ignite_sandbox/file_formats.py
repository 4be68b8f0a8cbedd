"""Reading an uploaded import file: csv (every fileConfig option), json, ndjson, xlsx; gzip/zip.

CSV values stay strings, exactly as written. JSON and NDJSON numbers are parsed as Decimal so
every digit survives. Every error names the line (or row) and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, cast

from ignite_sandbox.errors import ApiError, bad_request
from ignite_sandbox.jsonbody import decode

FORMATS = {".csv": "csv", ".json": "json", ".ndjson": "ndjson", ".xlsx": "xlsx"}
DELIMITERS = (",", ";", "\t")
QUOTES = {"DOUBLE_QUOTE": '"', "SINGLE_QUOTE": "'", "disabled": None}
ESCAPES = {"BACKSLASH": "\\", "DOUBLE_QUOTE": '"', "VERTICAL_BAR": "|"}
ENCODINGS = {"UTF-8": "utf-8-sig", "ISO-8859-1": "iso-8859-1"}
_CONFIG_KEYS = {"delimiter", "quoteCharacter", "escapeCharacter", "encoding"}
# A decompressed file is copied out before it is parsed, in memory up to this size and on
# disk beyond it: one that expands past the request limit is refused before any row exists.
SPOOL_IN_MEMORY = 64 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CsvConfig:
    """A parsed `fileConfig` (defaults: comma, double quotes doubled to escape, UTF-8)."""

    delimiter: str = ","
    quote: str | None = '"'
    escape: str = '"'
    encoding: str = "utf-8-sig"

    @classmethod
    def parse(cls, text: str | None) -> CsvConfig:
        """The fileConfig form field (a JSON string), 400 for any value not documented."""
        if text is None or not text.strip():
            return cls()
        raw = decode(text.encode(), "fileConfig")
        if not isinstance(raw, dict):
            raise bad_request("fileConfig must be a JSON object")
        unknown = sorted(set(raw) - _CONFIG_KEYS)
        if unknown:
            raise bad_request(f"fileConfig has unknown keys: {', '.join(unknown)}")
        delimiter = raw.get("delimiter", ",")
        if delimiter not in DELIMITERS:
            raise bad_request('fileConfig.delimiter must be ",", ";" or "\\t"')
        quote_name = raw.get("quoteCharacter", "DOUBLE_QUOTE")
        escape_name = raw.get("escapeCharacter", "DOUBLE_QUOTE")
        encoding_name = raw.get("encoding", "UTF-8")
        for key, value, allowed in (
            ("quoteCharacter", quote_name, QUOTES),
            ("escapeCharacter", escape_name, ESCAPES),
            ("encoding", encoding_name, ENCODINGS),
        ):
            if value not in allowed:
                raise bad_request(f"fileConfig.{key} must be one of {', '.join(allowed)}")
        return cls(delimiter, QUOTES[quote_name], ESCAPES[escape_name], ENCODINGS[encoding_name])

    def reader_options(self) -> dict[str, Any]:
        """Python csv options for this configuration."""
        if self.quote is None:
            return {
                "delimiter": self.delimiter,
                "quoting": csv.QUOTE_NONE,
                "escapechar": self.escape,
            }
        # Escaping with the quote character itself is the RFC 4180 doubling ("" inside "...").
        if self.escape == self.quote:
            return {"delimiter": self.delimiter, "quotechar": self.quote, "doublequote": True}
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quote,
            "doublequote": False,
            "escapechar": self.escape,
        }


def parse_compressed_flag(value: str | None) -> bool:
    """The `compressed` form field: "true" / "false" (default false)."""
    if value is None or value.strip() == "":
        return False
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise bad_request(f'compressed must be "true" or "false", got {value!r}')
    return lowered == "true"


def open_payload(
    upload: IO[bytes], filename: str, compressed: bool, max_bytes: int
) -> tuple[IO[bytes], str]:
    """The (decompressed) file stream and its format, from the name and `compressed`.

    gzip is recognised by `compressed=true` or a `.gz` name; a zip (by `.zip` name, or sent
    with `compressed=true`) must hold exactly one file. An .xlsx is itself a zip: left alone.
    A decompressed file larger than `max_bytes` (the request limit) is a 413, as the same
    file sent uncompressed would be.
    """
    name = filename.lower()
    if name.endswith(".gz"):
        compressed, name = True, name[: -len(".gz")]
    if compressed and _is_zip(upload):
        upload, name = _single_zip_member(upload)
        upload = _bounded_copy(upload, max_bytes)
    elif compressed:
        upload = _bounded_copy(_gunzip(upload), max_bytes)
    elif name.endswith(".zip"):
        upload, name = _single_zip_member(upload)
        upload = _bounded_copy(upload, max_bytes)
    for suffix, file_format in FORMATS.items():
        if name.endswith(suffix):
            return upload, file_format
    raise bad_request(
        f"file '{filename}' has an unsupported type; use .csv, .json, .ndjson or .xlsx "
        "(optionally gzip-compressed)"
    )


def _bounded_copy(stream: IO[bytes], max_bytes: int) -> IO[bytes]:
    """The decompressed bytes, copied a chunk at a time; 413 once they pass `max_bytes`."""
    copy = tempfile.SpooledTemporaryFile(max_size=min(max_bytes, SPOOL_IN_MEMORY))  # noqa: SIM115 - handed back open
    size = 0
    try:
        while chunk := stream.read(_COPY_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(
                    413,
                    f"file is larger than {max_bytes} bytes once decompressed; "
                    "split the data into several imports",
                )
            copy.write(chunk)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        copy.close()
        raise bad_request(f"file could not be decompressed: {exc}") from None
    except BaseException:
        copy.close()
        raise
    copy.seek(0)
    return cast(IO[bytes], copy)


def _is_zip(stream: IO[bytes]) -> bool:
    position = stream.tell()
    magic = stream.read(4)
    stream.seek(position)
    return magic == b"PK\x03\x04"


def _gunzip(stream: IO[bytes]) -> IO[bytes]:
    position = stream.tell()
    magic = stream.read(2)
    stream.seek(position)
    if magic != b"\x1f\x8b":
        raise bad_request("compressed is true but the file is not gzip-compressed")
    return cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))


def _single_zip_member(stream: IO[bytes]) -> tuple[IO[bytes], str]:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        raise bad_request("file is not a valid zip archive") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        raise bad_request(f"a zip must hold exactly one file, this one holds {len(members)}")
    return archive.open(members[0]), members[0].filename.lower()


def read_rows(stream: IO[bytes], file_format: str, config: CsvConfig) -> list[dict[str, Any]]:
    """Every row of the file as a dict (not yet checked for flatness)."""
    try:
        if file_format == "csv":
            return list(_csv_rows(stream, config))
        if file_format == "ndjson":
            return list(_ndjson_rows(stream))
        if file_format == "xlsx":
            return list(_xlsx_rows(stream))
        data = decode(stream.read(), "file")
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise bad_request(f"file could not be read: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise bad_request("a .json file must hold a JSON array of row objects")
    return data


def _csv_rows(stream: IO[bytes], config: CsvConfig) -> Iterator[dict[str, Any]]:
    lines = io.TextIOWrapper(stream, encoding=config.encoding, errors="strict", newline="")
    reader = csv.reader(lines, **config.reader_options())
    try:
        header = next(reader, None)
        if header is None:
            return
        if len(set(header)) != len(header):
            raise bad_request("the CSV header names a column more than once")
        for values in reader:
            if not values or values == [""]:
                continue
            if len(values) != len(header):
                raise bad_request(
                    f"CSV line {reader.line_num}: expected {len(header)} values, got {len(values)}"
                )
            yield dict(zip(header, values, strict=True))
    except UnicodeDecodeError as exc:
        raise bad_request(
            f"file is not valid {config.encoding.removesuffix('-sig').upper()} "
            f"({exc.reason}); set fileConfig.encoding"
        ) from None
    except csv.Error as exc:
        raise bad_request(f"CSV line {reader.line_num}: {exc}") from None


def _ndjson_rows(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        row = decode(line, f"ndjson line {number}")
        if not isinstance(row, dict):
            raise bad_request(f"ndjson line {number} must be a JSON object")
        yield row


def _xlsx_rows(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    import openpyxl  # noqa: PLC0415 - only xlsx imports need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(stream.read()), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise bad_request(f"file is not a readable .xlsx workbook: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
        for values in rows:
            if all(v is None for v in values):
                continue
            yield {n: _xlsx_value(v) for n, v in zip(names, values, strict=False)}
    finally:
        workbook.close()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that round-trips, not binary noise
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
