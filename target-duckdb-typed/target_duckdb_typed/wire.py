"""Names the loader relies on: Singer message fields, JSON Schema keywords, metadata columns.

Every name assumed about the input or written into the warehouse lives here, once.
"""

from __future__ import annotations

# Singer messages (https://hub.meltano.com/singer/spec).
MESSAGE_TYPE = "type"
MESSAGE_STREAM = "stream"
MESSAGE_RECORD = "record"
MESSAGE_VERSION = "version"
MESSAGE_TIME_EXTRACTED = "time_extracted"
RECORD = "RECORD"

# RECORD lines as the SDK's msgspec writer and Python's json module write them. A line that
# starts with one of these goes to DuckDB without being decoded in Python; any other RECORD
# line is decoded the SDK's way (same rows either way).
RECORD_LINE_PREFIXES = (b'{"type":"RECORD","stream":"', b'{"type": "RECORD", "stream": "')

# JSON Schema: the SDK's exact-decimal strings, and where their digits may be declared.
SINGER_DECIMAL_FORMAT = "x-singer.decimal"
DECIMAL_PRECISION_KEY = "precision"
DECIMAL_SCALE_KEY = "scale"

# Metadata columns the loader writes (the SDK's names for the same facts).
EXTRACTED_AT = "_sdc_extracted_at"  # the RECORD's time_extracted
BATCHED_AT = "_sdc_batched_at"  # when the batch holding the row was committed
TABLE_VERSION = "_sdc_table_version"  # the RECORD's version, or the stream's activated one
DELETED_AT = "_sdc_deleted_at"  # set when a newer version retires the row (soft_delete)

# The SDK's record metadata properties: never loaded from a record (the loader writes its own).
SDK_METADATA_PROPERTIES = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_deleted_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_sync_started_at",
    }
)

# BATCH message encodings the SDK writes.
BATCH_PARQUET = "parquet"
BATCH_JSONL = "jsonl"
BATCH_GZIP = "gzip"
