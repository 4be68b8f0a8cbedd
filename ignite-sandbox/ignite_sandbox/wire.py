"""Every path and field name that ignite-api.md marks as *assumed*, in one place.

The vendor's OpenAPI files are not public. Where the sandbox had to guess a path or a field
name, the guess lives here so that a correction against the real API is a one-line change.
Documented names are used literally where they are needed.
"""

from __future__ import annotations

# --- Export API ------------------------------------------------------------------------------
TABLES_PATH = "/tables/"  # documented
ROWS_PATH = "/tables/{entity}/rows"  # assumed
EXPORTS_PATH = "/tables/{entity}/exports"  # documented
EXPORT_STATUS_PATH = "/exports/{export_id}"  # assumed
DOWNLOAD_PATH = "/downloads/{export_id}/{file_name}"  # assumed (signed, time-limited URL)
DOWNLOAD_EXPIRES_PARAM = "expires"  # assumed
DOWNLOAD_SIGNATURE_PARAM = "signature"  # assumed

EXPORT_FILES_FIELD = "files"  # assumed
EXPORT_FILE_URL_FIELD = "url"  # assumed
EXPORT_FILE_EXPIRES_FIELD = "expiresAt"  # assumed
EXPORT_FILE_ROWS_FIELD = "rows"  # assumed
EXPORT_FILE_BYTES_FIELD = "bytes"  # assumed
EXPORT_ERROR_FIELD = "error"  # assumed

# --- Deprecated data tables ------------------------------------------------------------------
DATATABLES_PATH = "/datatables/"  # assumed
LEGACY_EXPORT_PATH = "/export/"  # documented
LEGACY_NEXT_FIELD = "next"  # documented in the Export API page; the help article says nextUrl
LEGACY_CURSOR_PARAM = "cursor"  # assumed (query parameter inside the `next` link)

# --- Import API ------------------------------------------------------------------------------
REPOSITORIES_PATH = "/repositories/"  # assumed
IMPORT_PATH = "/import/"  # documented
IMPORT_FILE_PATH = "/import/file/"  # assumed
IMPORT_ID_FIELD = "importId"  # assumed
IMPORT_NAME_FIELD = "importName"  # documented (request)
IMPORT_ROWS_FIELD = "rows"  # assumed
# The longest importName accepted: the docs give no limit; 255 characters is assumed (the
# same constant as target-ignite's wire.MAX_IMPORT_NAME_LENGTH).
MAX_IMPORT_NAME_LENGTH = 255  # assumed

# --- Errors (assumed shape: {"error": code, "message": text}) --------------------------------
ERROR_CODE_FIELD = "error"
ERROR_MESSAGE_FIELD = "message"
PAGE_TOKEN_EXPIRED = "page_token_expired"  # noqa: S105 - a documented error code
