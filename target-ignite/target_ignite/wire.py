"""Ignite Import API wire names: paths, body keys, form fields and response fields.

Everything target-ignite says to or reads from the Import API is spelled here, once. Names the
vendor docs leave open are marked ASSUMED (see ../shared/ignite-api.md); a correction against
the real API is then a one-line change in this module.
"""

from __future__ import annotations

from typing import Final

DEFAULT_API_URL: Final = "https://data.igniteprocurement.com"

# -- GET /repositories/ (response documented, path ASSUMED) ------------------------------
REPOSITORIES_PATH: Final = "/repositories/"  # ASSUMED
REPOSITORY_ID: Final = "id"
REPOSITORY_NAME: Final = "name"
REPOSITORY_FIELDS: Final = "fields"

# -- POST /import/ (documented) ----------------------------------------------------------
IMPORT_PATH: Final = "/import/"
BODY_REPOSITORY_ID: Final = "dataRepositoryId"
BODY_IMPORT_NAME: Final = "importName"
BODY_DELETE_QUERY_ID: Final = "deleteQueryId"
BODY_DATA: Final = "data"
# The longest importName the API takes: the docs give none; a name is shown in the web app
# and stored like a name field, which is commonly capped at 255 characters.
MAX_IMPORT_NAME_LENGTH: Final = 255  # ASSUMED

# -- POST /import/file/ (form fields documented, path ASSUMED) ---------------------------
IMPORT_FILE_PATH: Final = "/import/file/"  # ASSUMED
FORM_REPOSITORY_ID: Final = "dataRepositoryId"
FORM_FILE: Final = "file"
FORM_COMPRESSED: Final = "compressed"
FORM_DELETE_QUERY_ID: Final = "deleteQueryId"
FORM_FILE_CONFIG: Final = "fileConfig"
# The file import documents no name field; the name travels as the file's name and, ASSUMED,
# as a form field of the same name as the JSON import's.
FORM_IMPORT_NAME: Final = "importName"  # ASSUMED
NDJSON_EXTENSION: Final = ".ndjson"
CSV_EXTENSION: Final = ".csv"
# The documented fileConfig values this target writes its CSV files with.
CSV_FILE_CONFIG: Final = {
    "delimiter": ",",
    "quoteCharacter": "DOUBLE_QUOTE",
    "escapeCharacter": "DOUBLE_QUOTE",
    "encoding": "UTF-8",
}

# -- Import response (ASSUMED: 201 {"importId", "importName", "rows"}) --------------------
RESPONSE_IMPORT_ID: Final = "importId"  # ASSUMED
RESPONSE_IMPORT_NAME: Final = "importName"  # ASSUMED
RESPONSE_ROWS: Final = "rows"  # ASSUMED

# -- Errors (shape ASSUMED: {"error": code, "message": text}) -----------------------------
ERROR_CODE: Final = "error"  # ASSUMED
ERROR_MESSAGE: Final = "message"  # ASSUMED
RETRY_AFTER_HEADER: Final = "Retry-After"

# -- Limits (documented on the vendor's docs page) ----------------------------------------
MAX_REQUEST_BYTES: Final = 200 * 1024 * 1024
# What one import may carry at most: 10 MiB under the limit leaves room for the envelope,
# multipart framing and gzip's worst case on incompressible data.
SAFE_REQUEST_BYTES: Final = 190 * 1024 * 1024

# -- Auth (documented) --------------------------------------------------------------------
# Legacy JSON Web Tokens were sent as `Authorization: JWT <token>`; they are no longer accepted.
LEGACY_JWT_PREFIX: Final = "JWT "
