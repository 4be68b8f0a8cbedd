"""Running the real target-duckdb-typed CLI on Singer files and reading its DuckDB file back."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

DATA = Path(__file__).parent / "data"
TARGET = str(Path(sys.executable).parent / "target-duckdb-typed")


@dataclass
class Run:
    """What one run of the CLI did."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def states(self) -> list[Any]:
        """The STATE values the target wrote, in order."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def errors(self) -> list[str]:
        """The ERROR lines the target logged (message only)."""
        return [
            line.split("| ERROR", 1)[1].split("| ", 2)[-1].strip()
            for line in self.stderr.splitlines()
            if "| ERROR" in line
        ]


def run_target(warehouse: Path, messages: Path | str | bytes, **settings: Any) -> Run:
    """Run the CLI with `filepath` = `warehouse` (and `settings`) on a Singer file or text."""
    config = warehouse.parent / f"{warehouse.stem}-config.json"
    config.write_text(json.dumps({"filepath": str(warehouse), **settings}))
    if isinstance(messages, Path):
        data = messages.read_bytes()
    else:
        data = messages.encode() if isinstance(messages, str) else messages
    result = subprocess.run(
        [TARGET, "--config", str(config)],
        input=data,
        capture_output=True,
        timeout=300,
        check=False,
    )
    return Run(result.returncode, result.stdout.decode(), result.stderr.decode())


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the file, opened read-only (as a user opens it after a load)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def column_types(warehouse: Path, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table (`schema.table`)."""
    return {row[0]: row[1] for row in query(warehouse, f"DESCRIBE {table}")}


def singer_lines(*messages: dict[str, Any]) -> str:
    """Singer messages as the lines of a file."""
    return "".join(json.dumps(message) + "\n" for message in messages)
