"""The sandbox's settings, as given on the `serve` command line."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_BODY_BYTES = 200 * 1024 * 1024  # the vendor's documented import body limit


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that shapes one sandbox run; defaults match the CLI's."""

    host: str = "127.0.0.1"
    port: int = 8765
    token: str = "sandbox-token"  # noqa: S105 - the documented demo token
    spend_rows: int = 50_000
    seed: int = 7
    db: str | None = None
    faults: str = ""
    cursor_ttl: float = 86_400
    url_ttl: float = 3_600
    export_file_rows: int = 250_000
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    legacy_rows: int = 25_000
    unknown_data_types: bool = False
    log_level: str = "warning"
