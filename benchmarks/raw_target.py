"""The raw-client limit for loading: parse Singer lines, build import requests, post them.

No SDK, no validation, one thread: read RECORD lines of one stream from stdin, flatten each
record (arrays and objects JSON-encoded, as the Import API wants flat rows), and every
`--batch-rows` rows send one import in the chosen format:

- `json`: `POST /import/` with `{"dataRepositoryId", "importName", "data": [...]}`;
- `ndjson` / `csv`: `POST /import/file/`, multipart, one gzip-compressed file per batch
  (level `--gzip-level`, 6 like target-ignite; 0 sends the file uncompressed).

Numbers are decoded as Decimal and written back digit for digit.

Usage: python -m benchmarks.raw_target --config cfg.json --format ndjson < data.singer
The config is target-ignite's (api_url, api_token, repository_id). On exit a JSON line of
stats goes to stderr: rows, imports, time waiting for the server, time spent on the rows.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import requests

DEFAULT_BATCH_ROWS = 10_000
CSV_FILE_CONFIG = json.dumps(
    {
        "delimiter": ",",
        "quoteCharacter": "DOUBLE_QUOTE",
        "escapeCharacter": "DOUBLE_QUOTE",
        "encoding": "UTF-8",
    }
)


class Message(msgspec.Struct):
    """The parts of a Singer message this loop reads."""

    type: str
    stream: str | None = None
    record: dict[str, Any] | None = None
    schema: dict[str, Any] | None = None


class Loader:
    """Batches flat rows and posts each batch as one import."""

    def __init__(self, config: dict[str, Any], fmt: str, batch_rows: int, gzip_level: int) -> None:
        self.url = str(config["api_url"]).rstrip("/")
        self.repository_id = str(config["repository_id"])
        self.format = fmt
        self.batch_rows = batch_rows
        self.gzip_level = gzip_level
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {config['api_token']}"
        self.encoder = msgspec.json.Encoder(decimal_format="number")
        self.columns: list[str] = []
        self.batch: list[dict[str, Any]] = []
        self.rows = self.imports = 0
        self.wait_s = 0.0

    def add(self, record: dict[str, Any]) -> None:
        for key, value in record.items():
            if isinstance(value, (list, dict)):
                record[key] = self.encoder.encode(value).decode()
        self.batch.append(record)
        if len(self.batch) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        name = f"raw-target-{self.imports + 1}"
        if self.format == "json":
            body = {"dataRepositoryId": self.repository_id, "importName": name, "data": self.batch}
            payload = self.encoder.encode(body)
            started = time.perf_counter()
            response = self.session.post(
                f"{self.url}/import/",
                data=payload,
                headers={"Content-Type": "application/json"},
                timeout=600,
            )
        else:
            content, file_name, mime = self._file()
            compressed = self.gzip_level > 0
            if compressed:
                content = gzip.compress(content, compresslevel=self.gzip_level, mtime=0)
                file_name, mime = f"{file_name}.gz", "application/gzip"
            fields = {
                "dataRepositoryId": self.repository_id,
                "importName": name,
                "compressed": "true" if compressed else "false",
            }
            if self.format == "csv":
                fields["fileConfig"] = CSV_FILE_CONFIG
            started = time.perf_counter()
            response = self.session.post(
                f"{self.url}/import/file/",
                data=fields,
                files={"file": (file_name, content, mime)},
                timeout=600,
            )
        self.wait_s += time.perf_counter() - started
        if response.status_code >= 400:
            msg = f"import {name} failed: {response.status_code} {response.text[:300]}"
            raise SystemExit(msg)
        self.rows += len(self.batch)
        self.imports += 1
        self.batch = []

    def _file(self) -> tuple[bytes, str, str]:
        if self.format == "ndjson":
            return self.encoder.encode_lines(self.batch), "batch.ndjson", "application/x-ndjson"
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        columns = self.columns or list(self.batch[0])
        writer.writerow(columns)
        for row in self.batch:
            writer.writerow([_csv_value(row.get(column)) for column in columns])
        return text.getvalue().encode(), "batch.csv", "text/csv"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--format", choices=["json", "ndjson", "csv"], default="ndjson")
    parser.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS)
    parser.add_argument("--gzip-level", type=int, default=6, choices=range(10))
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    loader = Loader(config, args.format, args.batch_rows, args.gzip_level)
    decoder = msgspec.json.Decoder(Message, float_hook=Decimal)
    started = time.perf_counter()
    for line in sys.stdin.buffer:
        message = decoder.decode(line)
        if message.type == "RECORD" and message.record is not None:
            loader.add(message.record)
        elif message.type == "SCHEMA" and message.schema is not None and not loader.columns:
            loader.columns = list(message.schema.get("properties") or {})
    loader.flush()
    total = time.perf_counter() - started
    stats = {
        "rows": loader.rows,
        "imports": loader.imports,
        "wait_s": loader.wait_s,
        "work_s": total - loader.wait_s,
    }
    print(json.dumps(stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
