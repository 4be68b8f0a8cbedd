"""Ignite Export API wire names: paths, body keys and response fields.

Everything the client says to or reads from the API is spelled here, once. Names the vendor
docs leave open are marked ASSUMED (see ../shared/ignite-api.md); a correction against the
real API is then a one-line change in this module.
"""

from __future__ import annotations

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
