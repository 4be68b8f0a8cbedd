"""The raw-client limit for reading rows: a minimal loop, no SDK.

Pages through `POST /tables/{entity}/rows` with the same body and page size as tap-ignite and
writes one Singer RECORD line per row to stdout. Two modes:

- `decode` (the limit the tap is compared with): every row is decoded to Python objects
  (numbers with a fraction as Decimal, so money keeps every digit) and encoded back with
  msgspec, which is the least work a tap that hands records to code can do;
- `passthrough`: each row's JSON bytes are copied into the RECORD line untouched (msgspec.Raw),
  which keeps every digit trivially and shows what the wire alone allows.

Usage: python -m benchmarks.raw_tap --config cfg.json [--entity spend] [--mode decode]
The config is tap-ignite's (api_url, api_token, page_size). On exit a JSON line of timing
stats goes to stderr: time waiting for the server versus time spent on the rows.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import requests

DEFAULT_PAGE_SIZE = 10_000


class DecodedPage(msgspec.Struct):
    """A rows response with every row decoded."""

    data: list[dict[str, Any]]
    nextPageToken: str | None = None  # noqa: N815 - the API's field name


class RawPage(msgspec.Struct):
    """A rows response with each row kept as its JSON bytes."""

    data: list[msgspec.Raw]
    nextPageToken: str | None = None  # noqa: N815 - the API's field name


class Record(msgspec.Struct):
    """A Singer RECORD message."""

    stream: str
    record: dict[str, Any]
    time_extracted: str
    type: str = "RECORD"


# dataType -> JSON Schema, so that the output is a Singer file a target can load.
TYPES: dict[str, dict[str, Any]] = {
    "NUMBER": {"type": ["number", "null"]},
    "MONETARY_AMOUNT": {"type": ["number", "null"]},
    "BOOL": {"type": ["boolean", "null"]},
    "DATE": {"type": ["string", "null"], "format": "date"},
    "TIMESTAMP": {"type": ["string", "null"], "format": "date-time"},
    "STRING_ARRAY": {"type": ["array", "null"], "items": {"type": "string"}},
}
STRING: dict[str, Any] = {"type": ["string", "null"]}


def table_schema(session: requests.Session, url: str, entity: str) -> dict[str, Any]:
    """JSON Schema of every column of the table, arrays included (they come only when named)."""
    response = session.get(f"{url}/tables/", timeout=300)
    response.raise_for_status()
    for table in response.json():
        if table["id"] == entity:
            properties = {c["name"]: TYPES.get(c["dataType"], STRING) for c in table["columns"]}
            return {"type": "object", "properties": properties}
    msg = f"table '{entity}' is not in GET /tables/"
    raise SystemExit(msg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--entity", default="spend")
    parser.add_argument("--mode", choices=["decode", "passthrough"], default="decode")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    url = str(config["api_url"]).rstrip("/")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {config['api_token']}"
    session.headers["Content-Type"] = "application/json"

    schema = table_schema(session, url, args.entity)
    body: dict[str, Any] = {
        "fields": list(schema["properties"]),
        "filters": {},
        "pageSize": int(config.get("page_size", DEFAULT_PAGE_SIZE)),
        "keyBy": "name",
    }
    out = sys.stdout.buffer
    message = {"type": "SCHEMA", "stream": args.entity, "key_properties": ["id"], "schema": schema}
    out.write(msgspec.json.encode(message) + b"\n")

    encoder = msgspec.json.Encoder(decimal_format="number")
    page_type: type[DecodedPage | RawPage] = DecodedPage if args.mode == "decode" else RawPage
    decoder = msgspec.json.Decoder(page_type, float_hook=Decimal)
    head = b'{"type":"RECORD","stream":' + msgspec.json.encode(args.entity) + b',"record":'

    rows = pages = 0
    wait_s = work_s = 0.0
    token: str | None = None
    while True:
        started = time.perf_counter()
        payload = body if token is None else {**body, "pageToken": token}
        response = session.post(f"{url}/tables/{args.entity}/rows", data=encoder.encode(payload))
        response.raise_for_status()
        content = response.content
        received = time.perf_counter()
        page = decoder.decode(content)
        extracted = datetime.datetime.now(datetime.UTC).isoformat()
        if isinstance(page, DecodedPage):
            out.write(
                encoder.encode_lines([Record(args.entity, row, extracted) for row in page.data])
            )
        else:
            tail = b',"time_extracted":"' + extracted.encode() + b'"}\n'
            out.write(b"".join(head + bytes(row) + tail for row in page.data))
        rows += len(page.data)
        pages += 1
        wait_s += received - started
        work_s += time.perf_counter() - received
        token = page.nextPageToken
        if not token:
            break
    out.write(b'{"type":"STATE","value":{}}\n')
    out.flush()
    stats = {"rows": rows, "pages": pages, "wait_s": wait_s, "work_s": work_s}
    print(json.dumps(stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
