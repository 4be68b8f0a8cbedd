"""BATCH files, wherever the tap wrote them, read a piece at a time.

A BATCH message lists files by URL: a local path or `file://...`, or any fsspec location
(`s3://bucket/...` with s3fs installed: `target-duckdb-typed[s3]`; credentials and endpoint
from s3fs's own sources, e.g. the standard AWS environment variables, never from settings).
No file is ever held whole in memory: a remote parquet file is copied to a temporary folder
in 8 MiB blocks for DuckDB's `read_parquet` (and deleted once loaded), and a jsonl file is
read a chunk of lines at a time. A file that cannot be read stops the load with one line
naming it.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import shutil
import tempfile
import typing as t
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse
from urllib.request import url2pathname

import fsspec

from target_duckdb_typed import aws_logs, wire
from target_duckdb_typed.errors import LoadStopped
from target_duckdb_typed.record_lines import LineBuffer

# The read-ahead of a remote file (s3fs's default, 50 MiB, would hold most export files
# whole) and what is copied at a time.
READ_BLOCK_BYTES = 8 << 20
COPY_BYTES = 1 << 20


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a file raises when it is missing, unreadable (permissions, a folder, an
    unknown storage scheme, an unreachable store) or not in its encoding (bad gzip)."""
    errors: list[type[BaseException]] = [OSError, EOFError, ImportError, ValueError]
    with contextlib.suppress(ImportError):
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        errors += [BotoCoreError, ClientError]
    return tuple(errors)


READ_ERRORS = _read_errors()


def _reason(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return str(strerror)
    if isinstance(exc, FileNotFoundError):  # s3fs names only the path
        return "No such file or directory"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if text and not isinstance(exc, OSError | ValueError | EOFError):
        return f"{type(exc).__name__}: {text}"  # botocore's: the type says what went wrong
    return text or type(exc).__name__


class BatchFile:
    """One file of a BATCH message."""

    def __init__(self, url: str, encoding_format: str, stream: str) -> None:
        self.url = url
        self.format = encoding_format
        self.stream = stream
        parsed = urlparse(url)
        # A Windows drive letter parses as a one-letter scheme: a local path too.
        self.local = None
        if parsed.scheme in {"", "file"} or len(parsed.scheme) == 1:
            self.local = Path(url2pathname(parsed.path) if parsed.scheme == "file" else url)
        self.name = PurePosixPath(parsed.path).name or url

    def error(self, exc: BaseException) -> LoadStopped:
        msg = (
            f"stream '{self.stream}': BATCH file '{self.url}' cannot be read as "
            f"{self.format}: {_reason(exc)}"
        )
        return LoadStopped(msg)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except READ_ERRORS as exc:
            raise self.error(exc) from None

    @contextlib.contextmanager
    def open(self) -> Iterator[t.IO[bytes]]:
        """The file's bytes, read ahead a block at a time when remote."""
        with self._reading():
            if self.local is not None:
                opened: t.IO[bytes] = self.local.open("rb")
            else:
                fs, path = fsspec.core.url_to_fs(self.url)
                opened = fs.open(path, "rb", block_size=READ_BLOCK_BYTES)
        with opened:
            yield opened

    @contextlib.contextmanager
    def local_path(self, logger: logging.Logger) -> Iterator[Path]:
        """A local path of the file for DuckDB: its own, or a temporary copy of a remote
        file (deleted when the block ends)."""
        if self.local is not None:
            if not self.local.is_file():
                with self._reading():
                    self.local.open("rb").close()  # the operating system's reason
            yield self.local
            return
        with tempfile.TemporaryDirectory(prefix="target-duckdb-typed-") as folder:
            copy = Path(folder) / self.name
            with self.open() as remote, copy.open("wb") as local, self._reading():
                shutil.copyfileobj(remote, local, length=COPY_BYTES)
            logger.info(
                "Copied BATCH file '%s' (%d bytes) to a temporary folder to load it",
                self.url,
                copy.stat().st_size,
            )
            yield copy

    def line_chunks(self, compression: str | None, chunk_bytes: int) -> Iterator[LineBuffer]:
        """The file's non-blank lines, numbered, in buffers of about `chunk_bytes`."""
        with contextlib.ExitStack() as stack:
            lines: t.IO[bytes] = stack.enter_context(self.open())
            buffer = LineBuffer()
            try:  # only reading happens here: the caller's errors never come back in
                if compression == wire.BATCH_GZIP:
                    lines = t.cast("t.IO[bytes]", stack.enter_context(gzip.open(lines, "rb")))
                for number, line in enumerate(lines, start=1):
                    if line.strip():
                        buffer.add(line, number)
                    if len(buffer.data) >= chunk_bytes:
                        yield buffer
                        buffer = LineBuffer()
            except READ_ERRORS as exc:
                raise self.error(exc) from None
            if len(buffer):
                yield buffer


aws_logs.install()
