"""Request bodies as pydantic models: validation (400 on mismatch) and the OpenAPI document.

Bodies are parsed with exact decimals first (jsonbody.py) and then validated here, so a
filter value such as 12345678901234567.89 never passes through a float.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_PAGE_SIZE = 100_000
DEFAULT_PAGE_SIZE = 1000

Filters = dict[str, dict[str, Any]]


class RowsRequest(BaseModel):
    """Body of `POST /tables/{entity}/rows`."""

    model_config = ConfigDict(extra="forbid")

    fields: list[str] | None = Field(
        None, description="Column names; omitted: every scalar column."
    )
    filters: Filters | None = Field(None, description="Conjunctive filters keyed by column name.")
    pageSize: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, strict=True)  # noqa: N815 - wire name
    pageToken: str | None = Field(None, description="nextPageToken of the previous page.")  # noqa: N815
    keyBy: Literal["name", "label"] = "name"  # noqa: N815 - wire name

    def fingerprint_body(self) -> dict[str, Any]:
        """The parts a page token is bound to (everything except pageToken)."""
        return {
            "fields": self.fields,
            "filters": self.filters,
            "pageSize": self.pageSize,
            "keyBy": self.keyBy,
        }


class ExportRequest(BaseModel):
    """Body of `POST /tables/{entity}/exports`."""

    model_config = ConfigDict(extra="forbid")

    fields: list[str] | None = None
    filters: Filters | None = None
    format: str = Field("json", description="json or parquet, any casing.")


class ImportRequest(BaseModel):
    """Body of `POST /import/` (rows must be flat objects)."""

    model_config = ConfigDict(extra="forbid")

    dataRepositoryId: str  # noqa: N815 - wire name
    importName: str | None = None  # noqa: N815 - wire name
    data: list[dict[str, Any]]
    deleteQueryId: str | None = None  # noqa: N815 - wire name


class ColumnFilter(BaseModel):
    """Which columns a deprecated data-table export returns."""

    dataTypes: list[str] | None = None  # noqa: N815 - wire name
    columnLabels: list[str] | None = None  # noqa: N815 - wire name


class LastModifiedFilter(BaseModel):
    """Rows modified at or after `gte` (YYYY-MM-DD, RFC 3339 or now-<n><unit>)."""

    gte: str


class LegacyExportRequest(BaseModel):
    """Optional body of the deprecated `GET /export/`."""

    size: int = Field(10_000, ge=1, le=10_000, strict=True)
    columnFilter: ColumnFilter | None = None  # noqa: N815 - wire name
    lastModifiedDateFilter: LastModifiedFilter | None = None  # noqa: N815 - wire name


class NewRepository(BaseModel):
    """Body of `POST /_sandbox/repositories`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    fields: list[str] = Field(default_factory=list)


class NewDeleteQuery(BaseModel):
    """Body of `POST /_sandbox/delete-queries` (export filter syntax, by repository field)."""

    model_config = ConfigDict(extra="forbid")

    dataRepositoryId: str  # noqa: N815 - wire name
    filters: Filters


class TouchRequest(BaseModel):
    """Body of the admin touch endpoints."""

    count: int = Field(1, ge=0, le=10_000_000, strict=True)


class FaultsRequest(BaseModel):
    """Body of `POST /_sandbox/faults`."""

    spec: str = ""


class ExportBehaviour(BaseModel):
    """Body of `POST /_sandbox/exports/behaviour`."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["succeed", "fail", "stall"] = "succeed"
    delaySeconds: float = Field(0.0, ge=0, le=3600)  # noqa: N815 - wire name
