"""target-ignite settings: the schema users configure (it is the README's table), its checks,
and `Settings`, the typed object the target reads them from.

Defaults live in the schema and nowhere else. Checks that JSON Schema cannot express run
right after the SDK's own validation, before the target talks to the API; then `Settings` is
built once, and no code reads the raw config again (the SDK reads its own settings: stream
maps, flattening, `batch_size_rows`, `add_record_metadata`, `validate_records`, `batch_config`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

from target_ignite import http_rules, wire
from target_ignite.import_names import template_problem

MIB = 1024 * 1024
DEFAULT_BATCH_MAX_BYTES = 50 * MIB
MIN_BATCH_MAX_BYTES = 1024
DEFAULT_BATCH_SIZE_ROWS = 10_000
DEFAULT_IMPORT_NAME_TEMPLATE = "{stream} {load_started} batch {batch}"
IMPORT_FORMATS = ("json", "ndjson", "csv")
UNKNOWN_FIELDS_MODES = ("warn", "error", "drop")
DEFAULT_FLATTENING_MAX_DEPTH = 10

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "api_token",
        th.StringType,
        required=True,
        secret=True,
        description=(
            "Ignite API token, sent as `Authorization: Bearer <token>`. Legacy JWTs "
            "(`JWT ...`) are no longer accepted: generate a new API token in Ignite."
        ),
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=wire.DEFAULT_API_URL,
        description=(
            "Base URL of the Ignite Import API. Must be https://, except for a loopback "
            "host (127.0.0.1, ::1, localhost), e.g. a local ignite-sandbox."
        ),
    ),
    th.Property(
        "repository_id",
        th.StringType,
        description=(
            "Data repository (a data source in the web app) that every stream loads unless "
            "`stream_repositories` names another: its id or its name."
        ),
    ),
    th.Property(
        "stream_repositories",
        th.ObjectType(additional_properties=th.StringType),
        description=(
            'Stream name -> repository id or name, e.g. `{"suppliers": "ExampleRepository2"}`. '
            "A name that matches no repository stops the load before any data moves and "
            "lists the repositories there are."
        ),
    ),
    th.Property(
        "delete_query_id",
        th.StringType,
        description=(
            "Delete query (made in the web app) that every stream applies unless "
            "`stream_delete_queries` names another. It is sent once per repository per "
            "load, with that repository's first import, so the load replaces the matching "
            "rows once and keeps all of its own batches."
        ),
    ),
    th.Property(
        "stream_delete_queries",
        th.ObjectType(additional_properties=th.StringType),
        description=(
            "Stream name -> delete query id. Streams that load one repository must agree on "
            "its delete query."
        ),
    ),
    th.Property(
        "import_format",
        th.StringType(allowed_values=list(IMPORT_FORMATS)),
        default="json",
        description=(
            "`json`: rows in the JSON body of `POST /import/`; `ndjson`: a gzip-compressed "
            "`.ndjson` file upload; `csv`: a gzip-compressed `.csv` file upload (comma, "
            "double quotes, UTF-8) whose columns are the stream's schema properties, then the "
            "fields its records brought beyond them. Every format carries the same rows."
        ),
    ),
    th.Property(
        "batch_size_rows",
        th.IntegerType(minimum=1),
        default=DEFAULT_BATCH_SIZE_ROWS,
        description="Most rows in one import (the SDK's own batch size setting).",
    ),
    th.Property(
        "batch_max_bytes",
        th.IntegerType(minimum=MIN_BATCH_MAX_BYTES, maximum=wire.SAFE_REQUEST_BYTES),
        default=DEFAULT_BATCH_MAX_BYTES,
        description=(
            "Most bytes in one import: the whole JSON body for `json`, the uncompressed "
            "file for `ndjson` and `csv`. An import is closed at `batch_size_rows` or here, "
            "whichever comes first. At most 190 MiB (the API takes 200 MB per request)."
        ),
    ),
    th.Property(
        "import_name_template",
        th.StringType,
        default=DEFAULT_IMPORT_NAME_TEMPLATE,
        description=(
            "Name of each import, as shown in Ignite. Placeholders: `{stream}`, "
            "`{repository}`, `{load_started}` (UTC, when the target started) and `{batch}` "
            "(1, 2, ... per stream)."
        ),
    ),
    th.Property(
        "unknown_fields",
        th.StringType(allowed_values=list(UNKNOWN_FIELDS_MODES)),
        default="warn",
        description=(
            "What to do with fields (after stream maps and flattening) that the repository "
            "does not have: `warn` and send them, `error` and stop before their rows move, "
            "or `drop` them."
        ),
    ),
    th.Property(
        "flattening_enabled",
        th.BooleanType,
        default=True,
        description=(
            "Turn nested objects into `parent__child` columns (the SDK's flattening). The "
            "Import API takes flat rows only: whatever is still nested is sent as a JSON "
            "string."
        ),
    ),
    th.Property(
        "flattening_max_depth",
        th.IntegerType(minimum=0),
        default=DEFAULT_FLATTENING_MAX_DEPTH,
        description=(
            "How many levels of nested objects become columns; deeper ones are JSON strings."
        ),
    ),
    th.Property(
        "flattening_separator",
        th.StringType,
        default="__",
        description="What joins a parent and a child name in a flattened column name.",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description=(
            "Read all input with every check a real load makes and build every import as it "
            "would be sent, but send none: only repositories are read, no delete query is "
            "applied and no STATE is written. A plan (per repository: the delete query and "
            "the import that would carry it, the imports with rows, bytes and format, the "
            "columns against the repository's fields) goes to stderr; the exit code is the "
            "real load's (1, with the same error line, where it would stop)."
        ),
    ),
    th.Property(
        "dry_run_plan_path",
        th.StringType,
        description=(
            "With `dry_run`: also write the plan as JSON to this file (e.g. for review in CI)."
        ),
    ),
    th.Property(
        "receipts_path",
        th.StringType,
        description=(
            "Write a receipt per import, as JSON Lines: a file (appended to) or a folder (an "
            "existing one, or a path ending with `/`: one file per load). Each line has the "
            "repository id and name, import name, importId, rows, bytes, SHA-256 of the body "
            "or file sent, delete query id, start and end (UTC), attempts, and "
            "`possible_duplicate` (an answer was lost). Written as each import is answered, "
            "so a load that stops has receipts for all it sent. Never holds the token."
        ),
    ),
    # request_timeout, max_retries, max_retry_after: the same in tap-ignite.
    *http_rules.PROPERTIES,
).to_dict()


@dataclass(frozen=True)
class Settings:
    """The settings target-ignite itself reads, typed, each with one meaning (see the schema)."""

    api_token: str
    api_url: str
    repository_id: str | None
    stream_repositories: Mapping[str, str]
    delete_query_id: str | None
    stream_delete_queries: Mapping[str, str]
    import_format: str
    batch_max_bytes: int
    import_name_template: str
    unknown_fields: str
    request_timeout: float
    max_retries: int  # retries of one request, nothing else
    max_retry_after: float
    dry_run: bool
    dry_run_plan_path: str | None
    receipts_path: str | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """From a config the SDK validated (and filled with the schema's defaults) and
        `check` found nothing wrong with."""
        return cls(
            api_token=str(config["api_token"]),
            api_url=str(config["api_url"]),
            repository_id=_optional(config.get("repository_id")),
            stream_repositories=_names(config.get("stream_repositories")),
            delete_query_id=_optional(config.get("delete_query_id")),
            stream_delete_queries=_names(config.get("stream_delete_queries")),
            import_format=str(config["import_format"]),
            batch_max_bytes=int(config["batch_max_bytes"]),
            import_name_template=str(config["import_name_template"]),
            unknown_fields=str(config["unknown_fields"]),
            request_timeout=float(config["request_timeout"]),
            max_retries=int(config["max_retries"]),
            max_retry_after=float(config["max_retry_after"]),
            dry_run=bool(config["dry_run"]),
            dry_run_plan_path=_optional(config.get("dry_run_plan_path")),
            receipts_path=_optional(config.get("receipts_path")),
        )


def _optional(value: Any) -> str | None:
    """An optional text setting; unset and empty are the same."""
    return str(value) if value else None


def _names(value: Any) -> dict[str, str]:
    """A stream name -> text mapping setting (unset: none)."""
    return {str(key): str(item) for key, item in (value or {}).items()}


def check(config: Mapping[str, Any]) -> list[str]:
    """What is wrong with the settings beyond their JSON Schema, one line per problem."""
    problems = []
    if config.get("flattening_max_key_length") is not None:
        problems.append(
            "flattening_max_key_length is not a target-ignite setting: column names are sent "
            "as long as they are, never shortened (remove the setting)"
        )
    for problem in (
        http_rules.token_problem(str(config.get("api_token") or ""), wire.LEGACY_JWT_PREFIX),
        http_rules.api_url_problem(str(config.get("api_url") or "")),
        template_problem(str(config.get("import_name_template") or "")),
    ):
        if problem:
            problems.append(problem)
    return problems


def config_file_problem(path: str) -> str | None:
    """What keeps a --config file from being read as settings (the SDK would answer with a
    traceback): missing, unreadable, empty, not JSON, or not a JSON object."""
    what = f"--config file '{path}'"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"{what} cannot be read: {getattr(exc, 'strerror', None) or exc}"
    if not text.strip():
        return f"{what} is empty"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"{what} is not JSON ({exc})"
    if not isinstance(data, dict):
        return f"{what} holds a JSON {type(data).__name__}, not an object"
    return None
