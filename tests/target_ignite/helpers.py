"""Helpers for target-ignite tests: run the real CLI on a `.singer` file, read Ignite back.

Numbers read back from the sandbox are kept exact (`Num`), so a test can tell 1.10 from 1.1
and a number from a string that looks like one.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests
from ignite_sandbox.launcher import RunningSandbox
from singer_sdk.singerlib.json import serialize_json

DATA = Path(__file__).parent / "data"
TARGET_EXECUTABLE = str(Path(sys.executable).with_name("target-ignite"))


class Num:
    """A JSON number, compared by its exact digits and exponent.

    `Num("1.10") != Num("1.1")` (a digit was lost) while `Num("0.0000001") == Num("1E-7")`
    (the same digits and exponent, spelled two ways) - never compared as floats.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.exact = Decimal(text).as_tuple()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Num) and self.exact == other.exact

    def __hash__(self) -> int:
        return hash(self.exact)

    def __repr__(self) -> str:
        return f"Num({self.text!r})"


def loads_exact(text: str) -> Any:
    """JSON with every number kept as its text."""
    return json.loads(text, parse_float=Num, parse_int=Num)


def rows_exact(server: RunningSandbox, repository_id: str) -> list[dict[str, Any]]:
    """A repository's rows, numbers as `Num`."""
    response = requests.get(
        f"{server.url}/_sandbox/repositories/{repository_id}/rows",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    response.raise_for_status()
    rows: list[dict[str, Any]] = loads_exact(response.text)["rows"]
    return rows


def imports_of(server: RunningSandbox, repository_id: str) -> list[dict[str, Any]]:
    """The imports the sandbox accepted into one repository, oldest first."""
    return [i for i in server.admin.imports() if i["dataRepositoryId"] == repository_id]


def singer_records(path: Path, stream: str | None = None) -> list[dict[str, Any]]:
    """The records of a `.singer` file (numbers as `Num`)."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        message = loads_exact(line)
        if message.get("type") == "RECORD" and stream in {None, message["stream"]}:
            records.append(message["record"])
    return records


def config_for(server: RunningSandbox, **settings: Any) -> dict[str, Any]:
    """A target config that talks to this sandbox; retries kept quick for tests."""
    config: dict[str, Any] = {"api_url": server.url, "api_token": server.token}
    config.update(settings)
    return config


@dataclass
class TargetRun:
    """What one run of the `target-ignite` executable did."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def states(self) -> list[Any]:
        """Every STATE value the target emitted, in order."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "| ERROR" in line]


def run_target(
    config: dict[str, Any],
    singer_input: Path | str,
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> TargetRun:
    """Run the real CLI: `target-ignite --config <file> --input <file>`."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    if isinstance(singer_input, str):
        input_path = tmp_path / "input.singer"
        input_path.write_text(singer_input, encoding="utf-8")
    else:
        input_path = singer_input
    process = subprocess.run(
        [TARGET_EXECUTABLE, "--config", str(config_path), "--input", str(input_path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return TargetRun(process.returncode, process.stdout, process.stderr)


def batch_messages(
    source: Path, folder: Path, file_format: str = "jsonl", compression: str | None = "gzip"
) -> str:
    """A `.singer` file's messages with each run of one stream's RECORD messages moved into
    a BATCH file, written as the SDK's batchers write them (`JSONLinesBatcher`: one
    `serialize_json` line per record; `ParquetBatcher`: `pa.Table.from_pylist`). Every other
    message stays where it was."""
    folder.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    run: list[dict[str, Any]] = []
    run_stream: str | None = None

    def flush() -> None:
        if not run:
            return
        path = folder / f"batch-{len(lines) + 1}.{file_format}"
        if file_format == "parquet":
            table = pa.Table.from_pylist(run)
            pq.write_table(table, path, compression=compression or "snappy")
        else:
            text = "".join(serialize_json(record) + "\n" for record in run).encode()
            path.write_bytes(gzip.compress(text) if compression == "gzip" else text)
        message = {
            "type": "BATCH",
            "stream": run_stream,
            "encoding": {"format": file_format, "compression": compression},
            "manifest": [path.as_uri()],
        }
        lines.append(json.dumps(message))
        run.clear()

    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        message = json.loads(line, parse_float=Decimal)
        if message.get("type") == "RECORD" and message["stream"] == run_stream:
            run.append(message["record"])
            continue
        flush()
        if message.get("type") == "RECORD":
            run_stream = message["stream"]
            run.append(message["record"])
        else:
            run_stream = None
            lines.append(line)
    flush()
    return "\n".join(lines) + "\n"
