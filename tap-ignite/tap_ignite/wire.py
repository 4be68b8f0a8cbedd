"""Ignite Export API wire names: paths, body keys, response fields, and what each status means.

Everything the client says to or reads from the API is spelled here, once, as is what the
tap does with each HTTP status (RESPONSE_ACTIONS). Names the vendor docs leave open are
marked ASSUMED (see docs/ignite-api.md, the repository's reading of the API); a correction
against the real API is then a one-line change in this module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

DEFAULT_API_URL: Final = "https://datatable.igniteprocurement.com"

# -- GET /tables/ (documented) ------------------------------------------------------------
TABLES_PATH: Final = "/tables/"
TABLE_ID: Final = "id"
TABLE_NAME: Final = "name"
TABLE_COLUMNS: Final = "columns"
TABLE_ORDER_BY: Final = "orderBy"
COLUMN_NAME: Final = "name"
COLUMN_LABEL: Final = "label"
COLUMN_DATA_TYPE: Final = "dataType"
COLUMN_OPERATORS: Final = "supportedOperators"

# -- POST /tables/{entity}/rows (body documented, path ASSUMED) ---------------------------
ROWS_PATH: Final = "/tables/{entity}/rows"  # ASSUMED
BODY_FIELDS: Final = "fields"
BODY_FILTERS: Final = "filters"
BODY_PAGE_SIZE: Final = "pageSize"
BODY_PAGE_TOKEN: Final = "pageToken"  # noqa: S105 - a field name, not a secret
BODY_KEY_BY: Final = "keyBy"
RESPONSE_DATA: Final = "data"
RESPONSE_NEXT_PAGE_TOKEN: Final = "nextPageToken"  # noqa: S105 - a field name
PAGE_SIZE_MIN: Final = 1
PAGE_SIZE_MAX: Final = 100_000

# -- Errors (shape ASSUMED) ---------------------------------------------------------------
ERROR_CODE: Final = "error"  # ASSUMED
ERROR_MESSAGE: Final = "message"  # ASSUMED
# The documented error code of a 410 for an expired cursor.
PAGE_TOKEN_EXPIRED: Final = "page_token_expired"  # noqa: S105 - an error code
RETRY_AFTER_HEADER: Final = "Retry-After"

# -- Auth (documented) --------------------------------------------------------------------
# Legacy JSON Web Tokens were sent as `Authorization: JWT <token>`; they are no longer accepted.
LEGACY_JWT_PREFIX: Final = "JWT "

# -- Keys (documented) --------------------------------------------------------------------
# Classification result tables are identified by spend_id; every other table by id.
PRIMARY_KEY_CANDIDATES: Final = ("id", "spend_id")
# The column incremental sync uses by default, where a table has it.
DEFAULT_REPLICATION_KEY: Final = "updated_at"

# -- POST /tables/{entity}/exports and GET /exports/{id} ----------------------------------
EXPORTS_PATH: Final = "/tables/{entity}/exports"  # documented
EXPORT_STATUS_PATH: Final = "/exports/{export_id}"  # ASSUMED
BODY_FORMAT: Final = "format"
EXPORT_ID: Final = "id"
EXPORT_STATUS: Final = "status"
EXPORT_ESTIMATED_BYTES: Final = "estimatedBytesProcessed"
EXPORT_QUEUED: Final = "queued"
EXPORT_RUNNING: Final = "running"
EXPORT_SUCCEEDED: Final = "succeeded"
EXPORT_FAILED: Final = "failed"
EXPORT_FILES: Final = "files"  # ASSUMED
FILE_URL: Final = "url"  # ASSUMED
FILE_EXPIRES_AT: Final = "expiresAt"  # ASSUMED
FILE_ROWS: Final = "rows"  # ASSUMED
FILE_BYTES: Final = "bytes"  # ASSUMED
EXPORT_ERROR: Final = "error"  # ASSUMED
EXPORT_ERROR_CODE: Final = "code"  # ASSUMED
EXPORT_ERROR_MESSAGE: Final = "message"  # ASSUMED
EXPORT_FORMATS: Final = ("parquet", "json")

# -- Deprecated data tables (documented, still served) ------------------------------------
DATATABLES_PATH: Final = "/datatables/"  # ASSUMED
DATATABLE_ID: Final = "id"
DATATABLE_NAME: Final = "name"
DATATABLE_COLUMNS: Final = "columns"
DATATABLE_COLUMN_LABEL: Final = "label"
DATATABLE_COLUMN_DATA_TYPE: Final = "dataType"
LEGACY_EXPORT_PATH: Final = "/export/"
LEGACY_DATA_TABLE_PARAM: Final = "dataTableId"
LEGACY_BODY_SIZE: Final = "size"
LEGACY_BODY_COLUMN_FILTER: Final = "columnFilter"
LEGACY_BODY_COLUMN_LABELS: Final = "columnLabels"
LEGACY_BODY_LAST_MODIFIED_FILTER: Final = "lastModifiedDateFilter"
LEGACY_RESPONSE_DATA: Final = "data"
# The Export API page calls the link `next`, the help article `nextUrl`: either is followed.
LEGACY_NEXT_LINKS: Final = ("next", "nextUrl")
LEGACY_PAGE_SIZE_MAX: Final = 10_000
# The columns that key a data table's rows and carry their modification time.
LEGACY_ID_LABEL: Final = "ID"  # ASSUMED
LEGACY_LAST_MODIFIED_LABEL: Final = "Last Modified"  # ASSUMED


# -- What each HTTP status means (in the way dlt's rest_api declares `response_actions`) ---


class Request(enum.Enum):
    """The kinds of request whose answers are classified apart."""

    API = "api"  # any request to api_url (rows, listings, legacy export, export calls)
    EXPORT = "export"  # POST /tables/{entity}/exports and GET /exports/{id}
    DOWNLOAD = "download"  # an export file, at its signed URL (often a storage host)


class Action(enum.Enum):
    """What the tap does with an answer."""

    RETRY = "retry"  # the same request again, after exponential backoff with jitter
    WAIT = "wait"  # the same request again, after the wait Retry-After asks for
    REFRESH = "refresh"  # the signed URL expired: poll the export for fresh URLs
    RESTART = "restart"  # the page token expired: page again from the first page
    NEW_EXPORT = "new export"  # the export or its files are gone: start a new export
    STOP = "stop"  # end the run with the server's message


@dataclass(frozen=True)
class ResponseRule:
    """Answers with `status` (and, if given, the body's `error_code`) to requests of kind
    `request` (any kind if None) lead to `action`."""

    status: int
    action: Action
    request: Request | None = None
    error_code: str | None = None


# The first matching rule wins; any other status from 400 on stops the run. Retry and wait
# both honour a Retry-After when one is sent, and both count against max_retries; the
# statuses they cover are http_rules.RETRIED_STATUSES (shared with target-ignite).
RESPONSE_ACTIONS: Final[tuple[ResponseRule, ...]] = (
    ResponseRule(410, Action.RESTART, error_code=PAGE_TOKEN_EXPIRED),  # documented
    ResponseRule(404, Action.NEW_EXPORT, request=Request.EXPORT),
    ResponseRule(403, Action.REFRESH, request=Request.DOWNLOAD),  # documented: URL expired
    ResponseRule(404, Action.NEW_EXPORT, request=Request.DOWNLOAD),  # documented: files deleted
    ResponseRule(429, Action.WAIT),
    ResponseRule(500, Action.RETRY),
    ResponseRule(502, Action.RETRY),
    ResponseRule(503, Action.RETRY),
    ResponseRule(504, Action.RETRY),
)
FIRST_ERROR_STATUS: Final = 400
RETRIED_ACTIONS: Final = frozenset({Action.RETRY, Action.WAIT})


def response_action(status: int, request: Request, error_code: str | None = None) -> Action | None:
    """What to do with an answer of this status to this kind of request; None for success."""
    if status < FIRST_ERROR_STATUS:
        return None
    for rule in RESPONSE_ACTIONS:
        if (
            rule.status == status
            and rule.request in {None, request}
            and rule.error_code in {None, error_code}
        ):
            return rule.action
    return Action.STOP
