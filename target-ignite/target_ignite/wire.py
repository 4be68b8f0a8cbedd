"""Ignite Import API wire names: paths, body keys, form fields, response fields, and what
each answer means (`RESPONSE_ACTIONS`).

Everything target-ignite says to or reads from the Import API is spelled here, once. Our
reading of the API is docs/ignite-api.md in this repository; names the vendor docs leave open
are marked ASSUMED there and here, so a correction against the real API is a one-line change
in this module.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
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


# -- What an answer means: one table, read by every place that classifies one ----------------


class Action(enum.Enum):
    """What the client does with an answer (or with no answer)."""

    ACCEPT = "accept"  # done: read the body
    RETRY = "retry"  # transient: back off (or wait as Retry-After says), then send again
    WAIT = "wait"  # rate limited: wait as Retry-After says (else back off), then send again
    # The request went out and no answer came back: send again, and report that the import
    # may have been applied twice (the Import API has no idempotency key).
    RETRY_LOST_ANSWER = "retry, answer lost"
    NOT_AUTHORIZED = "stop: api_token refused"  # at start-up, a settings error
    STOP = "stop"  # the request itself is wrong: sending it again changes nothing


# What happened when no answer came (keys beside the status codes).
CONNECT_FAILED: Final = "no connection"  # connect timeout: the request never left
NO_ANSWER_IN_TIME: Final = "no answer in time"  # request_timeout ran out after sending
CONNECTION_BROKEN: Final = "connection broken"  # refused, reset or dropped: maybe after sending

# Status or transport outcome -> action, as dlt's rest_api declares response actions. A status
# not listed is ACCEPT below 400 and STOP from 400 on (a 4xx other than these, 501, 505...).
# The retried statuses are http_rules.RETRIED_STATUSES, shared with tap-ignite (a test holds
# the two together).
RESPONSE_ACTIONS: Final[Mapping[int | str, Action]] = MappingProxyType(
    {
        401: Action.NOT_AUTHORIZED,  # documented: bad or missing token
        429: Action.WAIT,  # documented: rate limited, with Retry-After seconds
        500: Action.RETRY,
        502: Action.RETRY,
        503: Action.RETRY,
        504: Action.RETRY,
        CONNECT_FAILED: Action.RETRY,
        NO_ANSWER_IN_TIME: Action.RETRY_LOST_ANSWER,
        CONNECTION_BROKEN: Action.RETRY_LOST_ANSWER,
    }
)
BAD_REQUEST_FROM: Final = 400


def action_for(outcome: int | str) -> Action:
    """What to do with an HTTP status, or with a transport outcome named above."""
    action = RESPONSE_ACTIONS.get(outcome)
    if action is not None:
        return action
    if isinstance(outcome, int) and outcome < BAD_REQUEST_FROM:
        return Action.ACCEPT
    return Action.STOP
