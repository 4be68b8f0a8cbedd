"""tap-ignite: the Tap class, its settings, and discovery of one stream per export table."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import click
import pyarrow as pa
import requests
from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_ignite import (
    batch_storage,
    hints,
    http_rules,
    input_files,
    legacy,
    mode_settings,
    settings,
)
from tap_ignite.bookmarks import bookmark_errors
from tap_ignite.client import TableListing
from tap_ignite.columns import parse_tables
from tap_ignite.snapshot_stream import SnapshotTableStream
from tap_ignite.stopping import STOP, Interrupted
from tap_ignite.streams import RowsStream
from tap_ignite.table_stream import IgniteTableStream
from tap_ignite.writer import IgniteMessageWriter

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

# Failures a user can act on: reported as one line, without a traceback.
REPORTED_ERRORS = (
    FatalAPIError,
    RetriableAPIError,
    requests.RequestException,
    input_files.InputFileError,
)
# What the first SIGTERM or SIGINT does (stopping.py).
ON_SIGNAL = "no request is sent or retried after it; the last STATE written stands"


class TapIgnite(Tap):
    """Singer tap for Ignite Procurement's Export API."""

    name = "tap-ignite"
    config_jsonschema = settings.CONFIG_SCHEMA
    message_writer_class = IgniteMessageWriter
    # The catalog comes from the API, so `--discover` validates the config first.
    dynamic_catalog = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
            # Discover now (if setting up the mapper has not already): settings that depend on
            # the tables' columns are then checked before any row is requested, in every mode.
            _ = self.streams
        except ConfigValidationError as exc:
            raise hints.with_env_hints(exc) from None
        # The state was loaded by now: its bookmarks are checked before any table is read.
        errors = bookmark_errors(self.state, self.table_streams())
        if errors:
            raise input_files.InputFileError(errors[0])

    @cached_property
    def settings(self) -> settings.TapSettings:
        """The settings, typed; built once, from the config the SDK validated."""
        return settings.TapSettings.from_config(self.config)

    def table_streams(self) -> list[IgniteTableStream]:
        """The tap's streams (all of them are table streams)."""
        return [s for s in self.streams.values() if isinstance(s, IgniteTableStream)]

    @override
    def _setup_signal_handlers(self) -> None:
        # singer-sdk (pinned <0.55) installs its SIGINT/SIGTERM handlers here, with no public
        # hook: they would exit 0 and leave the prefetch thread retrying. Ours replace them.
        STOP.install(self.logger, ON_SIGNAL)

    @override
    def discover_streams(self) -> list[Stream]:
        errors = settings.config_errors(self.settings) + batch_storage.config_errors(self.config)
        if errors:
            raise ConfigValidationError(errors[0], errors=errors)
        token = self.settings.api_token
        if http_rules.api_token(token) != token:
            self.logger.warning(
                "api_token has spaces or line breaks around it (a paste?): sent without them"
            )
        tables = parse_tables(TableListing(self).fetch())
        errors = settings.table_errors(self.settings, tables)
        if errors:
            raise ConfigValidationError(errors[0], errors=errors)
        streams: list[Stream] = [
            SnapshotTableStream(self, table)
            if self.settings.table_sync_mode(table.id) == mode_settings.EXPORT
            else RowsStream(self, table)
            for table in tables
        ]
        # Legacy data tables named in data_table_ids, from the deprecated listing.
        streams.extend(legacy.discover(self))
        return streams

    @classmethod
    @override
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        # Everything loaded by now (modules, classes) lives as long as the process: frozen,
        # garbage collections leave it out. A sync makes millions of short-lived containers
        # (records, lists), and each full collection would otherwise walk all of it again: a
        # third of an export's per-row time.
        gc.freeze()
        _prefer_jemalloc()
        STOP.install(cls.logger, ON_SIGNAL)  # until the SDK's are replaced by the same
        with reported_errors(cls):
            kwargs["state"] = input_files.checked_state(kwargs.get("state"))
            kwargs["catalog"] = input_files.checked_catalog(kwargs.get("catalog"))
            super().invoke(*args, **kwargs)

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        with reported_errors(cls, ctx):
            for path in value:
                if path != "ENV":
                    input_files.check_config_file(path)
        return super().cb_config(ctx, param, value)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        with reported_errors(cls, ctx):
            super().cb_discover(ctx, param, value)

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        with reported_errors(cls, ctx):
            super().cb_test(ctx, param, value)


@contextlib.contextmanager
def reported_errors(tap: type[Tap], ctx: click.Context | None = None) -> Iterator[None]:
    """Report API and settings errors as one error line each and exit 1, no traceback."""
    try:
        yield
    except Interrupted as exc:
        STOP.finish(exc)
    except ConfigValidationError as exc:
        for error in exc.errors or [str(exc)]:
            tap.logger.error("Invalid settings: %s", error)
        _exit(ctx)
    except requests.RequestException as exc:
        tap.logger.error("%s", hints.unreachable(exc))
        _exit(ctx)
    except REPORTED_ERRORS as exc:
        tap.logger.error("%s", exc)
        _exit(ctx)


def _prefer_jemalloc() -> None:
    """Arrow's jemalloc pool, unless ARROW_DEFAULT_MEMORY_POOL names one or it is not built.

    Export files are converted on worker threads (snapshot_files.py); Arrow's default pool
    (mimalloc) keeps what each thread freed, which took a 1,000,000-row export's peak RSS
    from about 250 to over 300 MB. jemalloc returns it: about 270 MB, and no slower.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        return
    pa.set_memory_pool(pool)


def _exit(ctx: click.Context | None) -> None:
    if ctx is not None:
        ctx.exit(1)
    raise SystemExit(1)


if __name__ == "__main__":
    TapIgnite.cli()
