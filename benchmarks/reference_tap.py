"""A reference tap for the spend rows, written the Meltano SDK's default way.

What a typical SDK tap for this endpoint looks like: a RESTStream with `records_jsonpath`,
the JSONPath paginator on `$.nextPageToken` (via `next_page_token_jsonpath`), the default
type conformance and the default message writer, `updated_at` as replication key. Nothing
here is tuned; it is the yardstick tap-ignite is meant to beat by a wide margin.

Usage: python -m benchmarks.reference_tap --config cfg.json  (same config as tap-ignite)
"""

from __future__ import annotations

from typing import Any

import requests
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.streams import RESTStream

TYPES: dict[str, dict[str, Any]] = {
    "STRING": {"type": ["string", "null"]},
    "NUMBER": {"type": ["number", "null"]},
    "MONETARY_AMOUNT": {"type": ["number", "null"]},
    "BOOL": {"type": ["boolean", "null"]},
    "DATE": {"type": ["string", "null"], "format": "date"},
    "TIMESTAMP": {"type": ["string", "null"], "format": "date-time"},
    "STRING_ARRAY": {"type": ["array", "null"], "items": {"type": "string"}},
}


class SpendRows(RESTStream[Any]):
    """`POST /tables/spend/rows`, every column."""

    name = "spend"
    path = "/tables/spend/rows"
    rest_method = "POST"
    primary_keys = ("id",)
    replication_key = "updated_at"
    records_jsonpath = "$.data[*]"
    next_page_token_jsonpath = "$.nextPageToken"

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["api_token"])

    def prepare_request_payload(self, context: Any, next_page_token: Any) -> dict[str, Any] | None:
        body: dict[str, Any] = {
            "fields": list(self.schema["properties"]),
            "filters": {},
            "pageSize": self.config.get("page_size", 10_000),
            "keyBy": "name",
        }
        if next_page_token:
            body["pageToken"] = next_page_token
        return body


class ReferenceTap(Tap):
    """The reference tap: one stream, schema from `GET /tables/`."""

    name = "reference-tap"
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True),
        th.Property("api_token", th.StringType, required=True, secret=True),
        th.Property("page_size", th.IntegerType, default=10_000),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        response = requests.get(
            f"{str(self.config['api_url']).rstrip('/')}/tables/",
            headers={"Authorization": f"Bearer {self.config['api_token']}"},
            timeout=300,
        )
        response.raise_for_status()
        table = next(t for t in response.json() if t["id"] == "spend")
        properties = {
            column["name"]: TYPES.get(column["dataType"], {"type": ["string", "null"]})
            for column in table["columns"]
        }
        schema = {"type": "object", "properties": properties}
        return [SpendRows(tap=self, schema=schema)]


if __name__ == "__main__":
    ReferenceTap.cli()
