"""Records of BATCH files, read a piece at a time from wherever the tap wrote them.

A BATCH message lists files by URL: `file://...`, or `s3://bucket/...` with s3fs installed
(`target-ignite[s3]`; credentials and endpoint from s3fs's own sources, e.g. the standard AWS
environment variables). The SDK's reader holds a whole file in memory (a parquet file as one
table, then a list of every record); here a parquet file is read one record batch at a time
and a JSONL file one line at a time, so a file of any size costs one import's worth of rows.
A file that cannot be read stops the load with one line naming it.
"""

from __future__ import annotations

import contextlib
import gzip
import typing as t
from collections.abc import Iterator

import fsspec
from singer_sdk.helpers._batch import BatchFileFormat, StorageTarget
from singer_sdk.singerlib.json import deserialize_json

from target_ignite import aws_logs
from target_ignite.errors import BadBatchFile

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding
    from singer_sdk.metrics import Counter

# Records per chunk (a parquet record batch, or JSONL lines), and the read-ahead of a remote
# file (s3fs's default, 50 MiB, would hold most export files whole).
CHUNK_ROWS = 10_000
READ_BLOCK_BYTES = 8 << 20


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a file raises when it is missing, unreadable (permissions, a folder, an
    unknown storage scheme, an unreachable store) or not in its encoding (bad gzip, JSON or
    parquet: pyarrow's errors are ValueErrors)."""
    errors: list[type[BaseException]] = [OSError, EOFError, ValueError, ImportError]
    with contextlib.suppress(ImportError):
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        errors += [BotoCoreError, ClientError]
    return tuple(errors)


READ_ERRORS = _read_errors()


def batch_records(
    url: str,
    encoding: BaseBatchFileEncoding,
    storage: StorageTarget | None,
    counter: Counter,
) -> Iterator[dict[str, t.Any]]:
    """The records of one BATCH file, counted as they are read.

    As the SDK does: the file is `url`'s name under the target's own `batch_config.storage`
    when it has one, else `url` itself. A failure to read it is a BadBatchFile, whether it
    comes before the first record or after some were imported (those stay imported); what
    the caller does with the records raises its own errors.
    """
    try:
        head, tail = StorageTarget.split_url(url)
        storage = storage or StorageTarget.from_url(head)
        fs, path = fsspec.core.url_to_fs(storage.get_url(tail), **storage.params)
        with fs.open(path, "rb", block_size=READ_BLOCK_BYTES) as file:
            for chunk in _chunks(file, encoding):
                counter.increment(len(chunk))
                yield from chunk
    except READ_ERRORS as exc:
        msg = f"BATCH file '{url}' cannot be read as {encoding.format}: {_reason(exc)}"
        raise BadBatchFile(msg) from None


def _reason(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return str(strerror)
    if isinstance(exc, FileNotFoundError):  # s3fs names only the path
        return "No such file or directory"
    text = str(exc)
    if text and not isinstance(exc, OSError | ValueError | EOFError):
        return f"{type(exc).__name__}: {text}"  # botocore's: the type says what went wrong
    return text or type(exc).__name__


def _chunks(file: t.IO[bytes], encoding: BaseBatchFileEncoding) -> Iterator[list[dict[str, t.Any]]]:
    if encoding.format == BatchFileFormat.JSONL:
        if encoding.compression == "gzip":
            with gzip.open(file) as lines:
                yield from _json_chunks(lines)
        else:
            yield from _json_chunks(file)
    elif encoding.format == BatchFileFormat.PARQUET:
        try:
            import pyarrow.parquet as pq  # noqa: PLC0415 - only parquet batches need it
        except ImportError:
            msg = "pyarrow is not installed (install target-ignite[parquet])"
            raise ImportError(msg) from None
        with pq.ParquetFile(file) as parquet:
            for batch in parquet.iter_batches(batch_size=CHUNK_ROWS):
                yield batch.to_pylist()
    else:
        msg = "the format is not jsonl or parquet"
        raise ValueError(msg)


def _json_chunks(lines: t.Iterable[bytes]) -> Iterator[list[dict[str, t.Any]]]:
    chunk: list[dict[str, t.Any]] = []
    for line in lines:
        if line.strip():
            chunk.append(deserialize_json(line))
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


aws_logs.install()
