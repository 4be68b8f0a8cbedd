"""Every private singer-sdk member target-ignite still relies on, and why.

singer-sdk is pinned <0.55. Members with a public route are not used: the reader's own
`process_lines` says what an unknown message type is (no `_process_unknown_message`), the
target's mapper (`LosslessMapper`, set up in the public `setup_mapper`) and each new sink's
`__init__` do what a `_process_schema_message` override did, and sinks are found with
`sink_exists`/`get_sink` and the target's own `sinks_made`, not `_sinks_active`.

tests/target_ignite/test_sdk_canary.py fingerprints the source of each member listed here and
fails, naming it, when a singer-sdk upgrade changes it; it also scans this package for private
singer-sdk imports, `super()._x` calls, `self._x` uses and overrides of the SDK's underscore
methods that are missing from this list. A few public members are listed too: code here copies
them step by step, so a change to them must be copied as well.
"""

from __future__ import annotations

from typing import Final

_COPIED = "the fast path (TargetIgnite._process_record_message, IgniteSink.take) calls it in"
_STEP = f"{_COPIED} the SDK's order, as Target._process_record_message does"

PRIVATE_SDK_MEMBERS: Final[dict[str, str]] = {
    # -- the Target: message handling with no public hook -----------------------------------
    "singer_sdk.target_base:Target._process_record_message": (
        "overridden: the fast path for records of a stream whose only map is the identity map "
        "(most of the target's speed); anything else goes to the SDK's version"
    ),
    "singer_sdk.target_base:Target._process_state_message": (
        "overridden: each STATE waits in the STATE gate until the records before it are "
        "imported (safe_state.py); no public hook sees STATE"
    ),
    "singer_sdk.target_base:Target._handle_max_record_age": (
        "overridden: the SDK's only call after every RECORD and BATCH file, where a finished "
        "import's error is raised and the STATE it confirms goes out"
    ),
    "singer_sdk.target_base:Target._drain_all": (
        "overridden: drains one sink at a time on the main thread, then waits for the import "
        "in flight, because drain_all (final) writes STATE right after it"
    ),
    "singer_sdk.target_base:Target._process_activate_version_message": (
        "overridden: the SDK's version warns about _sdc_deleted_at columns this target never "
        "adds; each sink says what ACTIVATE_VERSION means for Ignite instead"
    ),
    "singer_sdk.target_base:Target._write_state_message": (
        "overridden: a STATE line is written once (drain_all repeats the latest) and whole, "
        "shielded from a signal"
    ),
    "singer_sdk.plugin_base:PluginBase._setup_signal_handlers": (
        "overridden: the SDK's handlers drain every sink inside the signal handler (a deadlock "
        "while an import is in flight) and exit 0; stopping.py's replace them"
    ),
    # -- the Sink: the steps of one record, called by the fast path and for BATCH records ----
    "singer_sdk.sinks.batch:BatchSink._get_context": _STEP,
    "singer_sdk.sinks.core:Sink._add_sdc_metadata_to_record": _STEP,
    "singer_sdk.sinks.core:Sink._remove_sdc_metadata_from_record": _STEP,
    "singer_sdk.sinks.core:Sink._validate_and_parse": _STEP,
    "singer_sdk.sinks.core:Sink._singer_validate_message": (
        f"{_COPIED} preprocess_record, on the record as it came (the row has every column)"
    ),
    "singer_sdk.sinks.core:Sink._after_process_record": _STEP,
    "singer_sdk.sinks.core:Sink._parse_timestamps_in_record": (
        "overridden: dates already in the text iso_text writes skip the SDK's parse (the "
        "same row, faster); every other value and every error is the SDK's own"
    ),
    # -- flattening: the rows must be the SDK's flattening's rows ---------------------------
    "singer_sdk.helpers._flattening:_should_jsondump_value": (
        "imported: the SDK's rule for which values become JSON text, so flatten_record "
        "(flattening.py) gives the SDK's rows"
    ),
    "singer_sdk.helpers._flattening:_flatten_record": (
        "copied by flattening.flatten_record (names never shortened, a collision an error); "
        "any other change must be copied"
    ),
    "singer_sdk.helpers._flattening:_flatten_schema": (
        "copied by flattening.schema_sources to name the two properties behind a column clash"
    ),
    "singer_sdk.helpers._flattening:flatten_key": (
        "records.Flattening skips the SDK only for keys flatten_key leaves as they are"
    ),
    "singer_sdk.helpers._flattening:FlatteningOptions": (
        "imported for type annotations: the options a stream map flattens with"
    ),
    "singer_sdk.helpers._typing:get_datelike_property_type": (
        "imported: the SDK's rule for which properties its timestamp parse touches, so "
        "records.DateColumns skips exactly what the parse would leave as it is"
    ),
    # -- BATCH messages ---------------------------------------------------------------------
    "singer_sdk.helpers._batch:BaseBatchFileEncoding": (
        "imported: a BATCH message's encoding, as process_batch_files receives it"
    ),
    "singer_sdk.helpers._batch:BatchFileFormat": (
        "imported: the format names (jsonl, parquet) a BATCH encoding carries"
    ),
    "singer_sdk.helpers._batch:StorageTarget": (
        "imported: resolves a BATCH file's URL against batch_config.storage as the SDK does"
    ),
    # -- public, but copied step by step ----------------------------------------------------
    "singer_sdk.singerlib.encoding.base:GenericSingerReader.process_lines": (
        "public; NumberedReader.process_lines is its loop with line numbers: copy any change"
    ),
    "singer_sdk.plugin_base:PluginBase.setup_mapper": (
        "public; TargetIgnite.setup_mapper makes the same PluginMapper, as a LosslessMapper"
    ),
}
