"""target-ignite: the Target class, its settings, and the checks made before data moves."""

from __future__ import annotations

import copy
import datetime
import sys
import typing as t

from singer_sdk.exceptions import ConfigValidationError, RecordsWithoutSchemaException
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.target_base import Target

from target_ignite import hints, http_rules, plan, settings, wire
from target_ignite.client import ApiError, ImportClient
from target_ignite.errors import ImportFailed, LoadStopped
from target_ignite.flattening import LosslessMapper
from target_ignite.import_names import ImportNames
from target_ignite.in_flight import ImportInFlight
from target_ignite.loads import Load, RepositoryDirectory, StreamSettings
from target_ignite.reader import INPUT_ERRORS, NumberedReader, is_input_error
from target_ignite.receipts import Receipts, receipts_file
from target_ignite.safe_state import RecordProgress, StateGate
from target_ignite.sinks import IgniteSink
from target_ignite.stopping import STOP, Interrupted

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import PurePath

    import click
    from singer_sdk.singerlib.encoding.base import GenericSingerReader
    from singer_sdk.sinks import Sink

    from target_ignite.records import Flattening

# Failures that end a load with one line and exit code 1, never a traceback.
STOPPING_ERRORS: tuple[type[Exception], ...] = (LoadStopped, *INPUT_ERRORS)
# What the first SIGTERM or SIGINT does (stopping.py).
ON_SIGNAL = (
    "no import is started or retried after it; the import in flight finishes and the STATE "
    "it confirms is written"
)


def _submitted(sink: RecordProgress) -> int:
    """How far a sink's records are imported or handed over to be."""
    return sink.records_submitted if isinstance(sink, IgniteSink) else sink.records_imported


class TargetIgnite(Target):
    """Singer target for Ignite Procurement's Import API."""

    name = "target-ignite"
    package_name = "target-ignite"
    config_jsonschema = settings.CONFIG_SCHEMA
    default_sink_class = IgniteSink
    message_reader_class = NumberedReader
    capabilities: t.ClassVar[list] = [
        *Target.capabilities,
        PluginCapabilities.BATCH,
    ]

    def __init__(
        self,
        *,
        config: dict | PurePath | str | list[PurePath | str] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        setup_mapper: bool = True,
        message_reader: GenericSingerReader | None = None,
    ) -> None:
        try:
            super().__init__(
                config=config,
                parse_env_config=parse_env_config,
                validate_config=validate_config,
                setup_mapper=setup_mapper,
                message_reader=message_reader,
            )
        except ConfigValidationError as exc:
            raise hints.with_env_hints(exc) from None
        problems = settings.check(self.config)
        if problems:
            msg = "target-ignite settings are not valid"
            raise ConfigValidationError(msg, errors=problems)
        self.settings = settings.Settings.from_config(self.config)
        token = self.settings.api_token
        if http_rules.api_token(token) != token:
            self.logger.warning(
                "api_token has spaces or line breaks around it (a paste?): sent without them"
            )
        self.client = ImportClient(
            self.settings.api_url,
            token,
            timeout=self.settings.request_timeout,
            max_retries=self.settings.max_retries,
            max_retry_after=self.settings.max_retry_after,
            logger=self.logger,
            dry_run=self.settings.dry_run,
        )
        self.imports = ImportInFlight()
        self.plan, self.receipts = self._import_log()
        self.sinks_made: list[IgniteSink] = []  # each sink adds itself (for the STATE gate)
        self.load = Load(
            self._start_up_checks(),
            StreamSettings(
                default_repository=self.settings.repository_id,
                stream_repositories=self.settings.stream_repositories,
                default_delete_query=self.settings.delete_query_id,
                stream_delete_queries=self.settings.stream_delete_queries,
            ),
            self.logger,
            self._load_started,
            self.settings.import_name_template,
            import_log=self.plan or self.receipts,
        )
        if isinstance(self.message_reader, NumberedReader):
            self.message_reader.on_stop = self._stopping_at
        self._state_gate = StateGate()
        self._state_written: dict | None = None
        STOP.on_interrupt(self._stop_after)

    @property
    def _load_started(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.initialized_at / 1000, tz=datetime.UTC)

    def _import_log(self) -> tuple[plan.Plan | None, Receipts | None]:
        """A dry run's plan, or the receipts file, as the settings ask (checked now)."""
        if self.settings.dry_run_plan_path and not self.settings.dry_run:
            self.logger.warning(
                "dry_run_plan_path is set but dry_run is not: this load is real, and no plan "
                "is written"
            )
        if self.settings.dry_run:
            self.logger.info(
                "Dry run: every import is built as it would be sent, and none is sent%s",
                " (so no receipts are written)" if self.settings.receipts_path else "",
            )
            dry = plan.Plan(
                self.client.api_url,
                self._load_started,
                self.settings.dry_run_plan_path,
                self.logger,
            )
            found: tuple[plan.Plan | None, Receipts | None] = (dry, None)
            problem = dry.check()
        elif self.settings.receipts_path:
            path = receipts_file(self.settings.receipts_path, self._load_started)
            receipts = Receipts(path, self._load_started, self.client.api_url, self.logger)
            found = (None, receipts)
            problem = receipts.check()
        else:
            return None, None
        if problem:
            raise ConfigValidationError(problem, errors=[problem])
        return found

    @override
    def _setup_signal_handlers(self) -> None:
        # singer-sdk (pinned <0.55) installs its SIGINT/SIGTERM handlers here, with no public
        # hook: they drain every sink inside the handler, which deadlocks while the main thread
        # waits for the import in flight, and exit 0. Ours replace them (stopping.py).
        STOP.install(self.logger, ON_SIGNAL)

    def _stop_after(self, signal: Interrupted) -> None:
        """A signal stopped the load: the import in flight finishes (without retries), the
        newest STATE whose records are all imported goes out, then the summary."""
        if self.plan is not None:
            self.plan.stopped(None, signal, signal.exit_code)
        failed = self.imports.settle()
        if failed is not None:
            self.logger.warning("%s", failed)
        self._write_safe_state()
        self._log_summary()
        self.logger.warning(
            "Stopped by %s: every record before the last STATE written is imported; records "
            "after it are not, and a rerun from that STATE sends them again. Exit code %d",
            signal,
            signal.exit_code,
        )

    def _start_up_checks(self) -> RepositoryDirectory:
        """Before any data moves: the token works, configured repositories exist."""
        try:
            directory = RepositoryDirectory(self.client.list_repositories())
        except ApiError as exc:
            if wire.action_for(exc.status) is wire.Action.NOT_AUTHORIZED:
                msg = f"api_token was refused by {self.client.api_url}: {exc.server_message}"
            else:
                msg = f"could not list repositories at {self.client.api_url}: {exc}"
            raise ConfigValidationError(msg, errors=[msg]) from None
        except ImportFailed as exc:
            msg = hints.unreachable(self.client.api_url, str(exc))
            raise ConfigValidationError(msg, errors=[msg]) from None
        references: dict[str, str | None] = {"repository_id": self.settings.repository_id}
        for stream_name, named in self.settings.stream_repositories.items():
            references[f"stream_repositories.{stream_name}"] = named
        errors = []
        names = ImportNames(self.settings.import_name_template, datetime.datetime.now(datetime.UTC))
        for where, reference in references.items():
            if reference:
                try:
                    repository = directory.resolve(reference, where)
                except LoadStopped as exc:
                    errors.append(str(exc))
                    continue
                stream = where.partition(".")[2] or None
                too_long = names.length_problem("import_name_template", stream, repository.name)
                if too_long:
                    errors.append(too_long)
        if errors:
            raise ConfigValidationError(errors[0], errors=errors)
        self.logger.info(
            "Connected to %s: %d repositories visible",
            self.client.api_url,
            len(directory.repositories),
        )
        return directory

    def _stopping_at(self, line_number: int, error: Exception) -> None:
        """The load stops at `line_number`. Bad input: import what was accepted before it.
        Either way, the summary says what is in Ignite now."""
        if self.plan is not None:
            self.plan.stopped(line_number, error)
        if not is_input_error(error):
            failed = self.imports.settle()  # the summary counts the import still running
            if failed is not None and failed is not error:
                self.logger.error("%s", failed)
            self._log_summary()
            return
        self.logger.info("Importing the records read before line %d, then stopping", line_number)
        try:
            self.drain_all(is_endofpipe=True)
        except Exception as exc:  # the input error that brought us here stays the one raised
            self.logger.error(
                "Could not import the records read before line %d: %s", line_number, exc
            )
        finally:
            self._log_summary()

    # -- RECORD ---------------------------------------------------------------------------

    @override
    def _process_record_message(self, message_dict: dict) -> None:
        # singer-sdk is pinned <0.55: this overrides a private method. It is the SDK's own
        # version for the common case (the stream's only map is the SDK's identity map, no
        # record metadata), step by step, with the flattening done by `Flattening`, which
        # gives the same record without the SDK's per-key work. Anything else is the SDK's.
        route = self._plain_route(message_dict)
        if route is None:
            super()._process_record_message(message_dict)
            return
        sink, plain_flattening = route
        sink.take(plain_flattening.apply(message_dict["record"]), message_dict)
        sink.record_counter_metric.increment()
        if sink.is_full:
            self.logger.info(
                "Target sink for '%s' is full. Current size is '%s'. Draining...",
                sink.stream_name,
                sink.current_size,
            )
            self.drain_one(sink)
        self._handle_max_record_age()

    def _plain_route(self, message_dict: dict) -> tuple[IgniteSink, Flattening] | None:
        """The sink and flattening of a RECORD the fast path may take, or None."""
        stream_name = message_dict.get("stream")
        if type(stream_name) is not str or type(message_dict.get("record")) is not dict:
            return None
        stream_maps = self.mapper.stream_maps.get(stream_name)
        if not stream_maps or len(stream_maps) != 1:
            return None
        (stream_map,) = stream_maps
        if type(stream_map) is not SameRecordTransform:  # a stream map, a filter, or a drop
            return None
        if not self.sink_exists(stream_name):
            return None
        sink = self.get_sink(stream_name)
        if not isinstance(sink, IgniteSink) or sink.include_sdc_metadata_properties:
            return None
        return sink, sink.flattening(stream_map)

    # -- STATE as soon as the records before it are imported (see safe_state.py) -----------

    def _sinks_with_progress(self) -> list[RecordProgress]:
        # Every sink of the load, those a new SCHEMA retired too: the gate looks only at
        # sinks with records not yet imported.
        return list(self.sinks_made)

    @override
    def _process_state_message(self, message_dict: dict) -> None:
        super()._process_state_message(message_dict)
        self._state_gate.arrived(copy.deepcopy(message_dict["value"]), self._sinks_with_progress())
        self.imports.check()
        self._write_safe_state()

    @override
    def _handle_max_record_age(self) -> None:
        # The SDK calls this after every RECORD message and every BATCH file, and nothing
        # else there: an import may just have finished, or a drain may just have handed
        # batches over, so the STATE settles here too.
        self.imports.check()
        super()._handle_max_record_age()
        self._settle_state_after_records()

    def _settle_state_after_records(self) -> None:
        """The newest STATE that the batches already handed to the import thread make safe
        goes out the moment they are imported, as it would after importing them right here."""
        if self._state_gate.waiting:
            state = self._state_gate.safe(_submitted)
            if state is not None:
                self.imports.after(lambda: self._write_state_message(state))

    @override
    def _drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        # singer-sdk is pinned <0.55 (a private method): `drain_all` writes the latest STATE
        # right after this, so every import handed to the worker thread must be done.
        # One sink after another, on this thread: imports run one at a time anyway
        # (ImportInFlight), and a drain on the SDK's thread pool would wait for the import in
        # flight where a SIGTERM cannot interrupt it.
        super()._drain_all(sink_list, 1)
        self.imports.wait()

    @override
    def setup_mapper(self) -> None:
        # The SDK's setup_mapper makes a PluginMapper from the settings, and only that: this
        # one flattens without losing a value (flattening.py). A SCHEMA's checks then run in
        # the SDK's own SCHEMA handling and in each new sink's __init__.
        self.mapper = LosslessMapper(plugin_config=dict(self.config), logger=self.logger)

    @override
    def _process_activate_version_message(self, message_dict: dict) -> None:
        # The SDK's version warns that it adds `_sdc_deleted_at` columns, which this target
        # never does: each sink says what the message means for Ignite (see its
        # `activate_version`).
        self.message_reader.assert_line_requires(message_dict, requires={"stream", "version"})
        stream_name = message_dict["stream"]
        if stream_name not in self.mapper.stream_maps:
            msg = (
                f"An ACTIVATE_VERSION message for stream '{stream_name}' was encountered "
                "before a corresponding schema"
            )
            raise RecordsWithoutSchemaException(msg)
        for stream_map in self.mapper.stream_maps[stream_name]:
            self.get_sink(stream_map.stream_alias).activate_version(message_dict["version"])

    def _write_safe_state(self) -> None:
        state = self._state_gate.safe()
        if state is not None:
            self._write_state_message(state)

    @override
    def _write_state_message(self, state: dict) -> None:
        # The SDK's drain of every sink writes the latest STATE again: once is enough.
        # A dry run imports nothing, so no STATE is true: none is written (plan.py).
        if state != self._state_written and self.plan is None:
            with STOP.shielded():  # a whole line or none: a signal waits for the write
                super()._write_state_message(state)
                self._state_written = state

    def _log_summary(self) -> None:
        if self.plan is not None:  # a dry run says what the real load would do instead
            plan.emit(self.plan, self.load)
            return
        for line in self.load.summary():
            self.logger.info("%s", line)
        if self.receipts is not None:
            self.logger.info("%s", self.receipts.summary())

    @override
    def process_endofpipe(self) -> None:
        try:
            super().process_endofpipe()
        except STOPPING_ERRORS as exc:
            if self.plan is not None:
                self.plan.stopped(None, exc)
            raise
        finally:
            self._log_summary()

    @classmethod
    @override
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        super().append_builtin_config(config_jsonschema)
        # Imports only ever append (a delete query is how rows are replaced): a load_method
        # setting would promise upsert/overwrite that the Import API does not offer.
        config_jsonschema["properties"].pop("load_method", None)
        # Column names are never shortened (flattening.py): no setting to shorten them.
        config_jsonschema["properties"].pop("flattening_max_key_length", None)

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        for path in value:
            problem = settings.config_file_problem(path) if path != "ENV" else None
            if problem:
                cls.logger.error("%s", problem)
                ctx.exit(1)
        return super().cb_config(ctx, param, value)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """Run the CLI; a load that cannot go on ends with one line and exit code 1."""
        STOP.install(cls.logger, ON_SIGNAL)  # until the SDK's are replaced by the same
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except Interrupted as exc:
            STOP.finish(exc)
        except STOPPING_ERRORS as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except ConfigValidationError as exc:
            # One line per problem; the SDK would add a generic "Config validation failed".
            for error in exc.errors or [str(exc)]:
                cls.logger.error("%s", error)
            sys.exit(1)


if __name__ == "__main__":
    TargetIgnite.cli()
