"""The private singer-sdk members tap-ignite still relies on, and why.

Everything else goes through the SDK's public hooks. Each entry here has no public route in
singer-sdk 0.54; tests/tap_ignite/test_sdk_canary.py fingerprints the source of every one, so
an SDK upgrade that changes any of them fails that test with the list of what changed (the
`singer-sdk<0.55` pin in pyproject.toml is then lifted deliberately, not by accident).

Keys are `"module:Qualified.name"`; an instance attribute is listed under the member that
sets it, and named in backticks in its reason.
"""

from __future__ import annotations

from typing import Final

PRIVATE_SDK_MEMBERS: Final[dict[str, str]] = {
    # -- the record loop (streams.py, table_stream.py, snapshot_stream.py): a sync's largest
    # per-record costs --------------------------------------------------------------------
    "singer_sdk.streams.core:Stream._increment_stream_state": (
        "called per record by the SDK's loop; rows mode takes each page's highest replication "
        "value once per page instead (a fifth of a sync's time), then calls the SDK's own"
    ),
    "singer_sdk.streams.core:Stream._generate_record_messages": (
        "overridden to skip the per-record selection and type-conformance walks, which change "
        "nothing for rows that already hold exactly the selected columns in their JSON types"
    ),
    "singer_sdk.streams.core:Stream._sync_records": (
        "overridden by the snapshot stream to write whole chunks of records (the same bytes "
        "and STATE messages) when nothing would change a record; falls back to the SDK's loop"
    ),
    "singer_sdk.streams.core:Stream._write_starting_replication_value": (
        "called by the snapshot's chunked loop, as the SDK's loop does before its records"
    ),
    "singer_sdk.streams.core:Stream._write_state_message": (
        "called by the snapshot's chunked loop every STATE_MSG_FREQUENCY records and at its "
        "end, as the SDK's loop does"
    ),
    "singer_sdk.streams.core:Stream._finalize_state": (
        "called by the snapshot's chunked loop when its records end, as the SDK's loop does"
    ),
    "singer_sdk.streams.core:Stream.sync": (
        "sets `_stream_version` (the ACTIVATE_VERSION version), which every RECORD of a "
        "snapshot carries: read by the chunked loop and by `_generate_record_messages`"
    ),
    "singer_sdk.streams._state:StreamStateManager": (
        "`state_manager.is_flushed` is cleared by the snapshot's chunked loop after records, "
        "as the SDK's `_write_record_message` does, so the next STATE is written"
    ),
    # -- requests -------------------------------------------------------------------------
    "singer_sdk.streams.rest:RESTStream._request": (
        "the SDK's send (auth, timeout, request metric, validate_response), called on the "
        "prefetch thread by the rows stream's paging loop (`request_records`)"
    ),
    # -- the process ----------------------------------------------------------------------
    "singer_sdk.plugin_base:PluginBase._setup_signal_handlers": (
        "overridden: the SDK installs SIGINT/SIGTERM handlers that exit 0 and leave the "
        "prefetch thread retrying; stopping.py's replace them"
    ),
    # -- BATCH messages: the types of the public get_batches hook live in a private module --
    "singer_sdk.helpers._batch:BatchConfig": (
        "the argument of the public `get_batches` hook; its `encoding` and `storage` are read"
    ),
    "singer_sdk.helpers._batch:BaseBatchFileEncoding": (
        "`format` and `compression` decide whether a parquet export file is handed over as it is"
    ),
    "singer_sdk.helpers._batch:StorageTarget": (
        "`root`, `prefix`, `params` and `get_url` place a handed-over export file in the "
        "batch storage (batch_storage.py)"
    ),
}
