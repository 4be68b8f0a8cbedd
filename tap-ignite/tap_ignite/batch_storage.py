"""Where BATCH files go: the SDK's `batch_config.storage.root`, local or object storage.

The SDK writes BATCH files through fsspec, so `s3://bucket/prefix` works once s3fs is
installed (`tap-ignite[s3]`); credentials and the endpoint come from s3fs's own sources (the
standard AWS environment variables, `~/.aws`, an instance role), never from the tap's config.
A missing fsspec implementation is a settings error before any data moves, and a storage
failure ends the run with one line that names the stream and the storage root.
"""

from __future__ import annotations

import contextlib
import posixpath
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec
from singer_sdk import Stream
from singer_sdk.exceptions import FatalAPIError

from tap_ignite import aws_logs

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig, StorageTarget
    from singer_sdk.helpers.types import Context

# Part size when a file is copied into object storage: s3fs keeps one part in memory before
# it uploads it, 50 MiB by default, which would hold most export files whole. 8 MiB is above
# S3's 5 MiB minimum part size.
PART_BYTES = 8 << 20
COPY_CHUNK_BYTES = 1 << 20


class BatchStorageError(FatalAPIError):
    """A BATCH file could not be written: the message names the stream and the storage."""


def _storage_errors() -> tuple[type[BaseException], ...]:
    """What fsspec implementations raise: OSError, and botocore's own for S3 (if installed)."""
    errors: list[type[BaseException]] = [OSError]
    with contextlib.suppress(ImportError):
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        errors += [BotoCoreError, ClientError]
    return tuple(errors)


STORAGE_ERRORS = _storage_errors()


def config_errors(config: Mapping[str, Any]) -> list[str]:
    """`batch_config.storage.root` names a protocol fsspec can write here (one line each)."""
    root = ((config.get("batch_config") or {}).get("storage") or {}).get("root")
    if not isinstance(root, str) or not root:
        return []
    protocol, _ = fsspec.core.split_protocol(root)
    try:
        fsspec.get_filesystem_class(protocol or "file")
    except (ImportError, ValueError) as exc:
        hint = " (install tap-ignite[s3])" if protocol in {"s3", "s3a"} else ""
        return [f"batch_config.storage.root '{root}' cannot be written: {exc}{hint}"]
    return []


@contextlib.contextmanager
def storage_errors(stream: str, storage: StorageTarget) -> Iterator[None]:
    """Turn a storage failure into a BatchStorageError (one line, no traceback)."""
    try:
        yield
    except STORAGE_ERRORS as exc:
        # botocore's and s3fs's messages name the bucket and key, never the credentials.
        detail = str(exc) or "no message"
        msg = (
            f"Could not write BATCH files of stream '{stream}' to {storage.root}: "
            f"{type(exc).__name__}: {detail}"
        )
        raise BatchStorageError(msg) from None


def copy_into(storage: StorageTarget, name: str, source: Path) -> str:
    """Copy a local file into the batch storage as `name`, a part at a time; its URL.

    The SDK's `StorageTarget.open` would do the same with the filesystem's default part
    size; here the part size is chosen so that no export file is ever held whole.
    """
    url = storage.get_url(name)
    fs, path = fsspec.core.url_to_fs(url, **storage.params)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    with source.open("rb") as reader, fs.open(path, "wb", block_size=PART_BYTES) as writer:
        shutil.copyfileobj(reader, writer, length=COPY_CHUNK_BYTES)
    return url


class BatchStorageErrors(Stream):
    """Stream mixin: a failure to write a BATCH file is one error line, not a traceback."""

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        with storage_errors(self.name, batch_config.storage):
            yield from super().get_batches(batch_config, context)


aws_logs.install()
