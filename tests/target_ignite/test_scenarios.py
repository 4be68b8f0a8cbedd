"""Scenario files: one exact repository row per record, whatever the route and the format.

Each `data/<scenario>.singer` with a `data/<scenario>.rows.json` beside it is run through the
real CLI in every `import_format`, and the repository's rows are read back from the sandbox
and compared with the expected ones exactly (numbers by their digits). The expected file
holds `rows` (as json and ndjson imports give them) and optionally:
- `csv_rows`: as a csv import gives them, when that is more than `rows` with every value as
  its CSV text (CSV has strings only, and cannot tell a null from an empty string);
- `fields`: the repository's fields (default: every column of `rows`);
- `config`: settings beyond `unknown_fields: error` (the README's recommendation);
- `error`: the one ERROR line the load stops with (exit code 1), after importing `rows`;
- `log`: texts that the target's log has exactly once each;
- `absent`: texts that the target's log does not have.

Then the same input goes in again as BATCH messages (each run of RECORD messages in a
gzip JSONL file, as the SDK's batcher writes it), into the same repository: the imports must
carry the very same bytes (the sandbox keeps each import's SHA-256). For one scenario every
BATCH encoding is tried: jsonl and parquet, gzip or not.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tests.target_ignite.helpers import (
    DATA,
    Num,
    batch_messages,
    config_for,
    imports_of,
    loads_exact,
    rows_exact,
    run_target,
)

if t.TYPE_CHECKING:
    from ignite_sandbox.launcher import RunningSandbox

FORMATS = ["json", "ndjson", "csv"]
SCENARIOS = sorted(
    path for path in DATA.glob("*.singer") if path.with_suffix(".rows.json").exists()
)
# Import names without the load's start time, so two loads send the same bodies.
SAME_NAMES = "{stream} batch {batch}"


def csv_text(value: t.Any) -> str:
    """What a CSV cell holds for a JSON value (CSV has strings only)."""
    if isinstance(value, Num):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Expected:
    """A scenario's `.rows.json`."""

    def __init__(self, scenario: Path) -> None:
        spec = loads_exact(scenario.with_suffix(".rows.json").read_text(encoding="utf-8"))
        self.rows: list[dict[str, t.Any]] = spec["rows"]
        self.csv_rows: list[dict[str, t.Any]] = spec.get("csv_rows") or [
            {key: csv_text(value) for key, value in row.items()} for row in self.rows
        ]
        self.fields: list[str] = spec.get("fields") or list(
            dict.fromkeys(key for row in self.rows for key in row)
        )
        self.config: dict[str, t.Any] = spec.get("config") or {}
        self.error: str | None = spec.get("error")
        self.log: list[str] = spec.get("log") or []
        self.absent: list[str] = spec.get("absent") or []

    def rows_for(self, import_format: str) -> list[dict[str, t.Any]]:
        return self.csv_rows if import_format == "csv" else self.rows


def _config(server: RunningSandbox, repository_id: str, import_format: str, expected: Expected):
    settings = {"unknown_fields": "error", "import_name_template": SAME_NAMES, **expected.config}
    return config_for(server, repository_id=repository_id, import_format=import_format, **settings)


def _sent(server: RunningSandbox, repository_id: str) -> list[tuple[str, int, str]]:
    """Each import of a repository: its name, rows and the SHA-256 of what it carried."""
    return [
        (i["importName"], i["rows"], i["payloadSha256"]) for i in imports_of(server, repository_id)
    ]


@pytest.mark.parametrize("import_format", FORMATS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.stem)
def test_scenario_rows_are_exact_and_batch_sends_the_same_bytes(
    ignite, new_repository, tmp_path, scenario, import_format
):
    expected = Expected(scenario)
    repository = new_repository(expected.fields)
    config = _config(ignite, repository["id"], import_format, expected)

    run = run_target(config, scenario, tmp_path)

    if expected.error:
        assert run.returncode == 1, run.stderr
        (line,) = run.error_lines
        assert expected.error in line
    else:
        assert run.returncode == 0, run.stderr
        assert run.error_lines == []
    rows = rows_exact(ignite, repository["id"])
    assert rows == expected.rows_for(import_format)
    for text in expected.log:
        assert run.stderr.count(text) == 1, text
    for text in expected.absent:
        assert text not in run.stderr
    if expected.error:
        return

    # The same records as BATCH files: the same imports, byte for byte.
    by_record = _sent(ignite, repository["id"])
    batch_input = batch_messages(scenario, tmp_path / "batch")
    batch_run = run_target(config, batch_input, tmp_path / "batch")

    assert batch_run.returncode == 0, batch_run.stderr
    assert by_record
    assert _sent(ignite, repository["id"]) == by_record + by_record
    assert rows_exact(ignite, repository["id"]) == rows + rows
    assert batch_run.states == run.states


ENCODINGS = [("jsonl", None), ("jsonl", "gzip"), ("parquet", None), ("parquet", "gzip")]


@pytest.mark.parametrize("import_format", FORMATS)
def test_every_batch_encoding_sends_the_bytes_a_record_sends(
    ignite, new_repository, tmp_path, import_format
):
    scenario = DATA / "same_rows_every_route.singer"
    expected = Expected(scenario)
    repository = new_repository(expected.fields)
    config = _config(ignite, repository["id"], import_format, expected)
    assert run_target(config, scenario, tmp_path).returncode == 0
    by_record = _sent(ignite, repository["id"])
    assert rows_exact(ignite, repository["id"]) == expected.rows_for(import_format)

    for file_format, compression in ENCODINGS:
        folder = tmp_path / f"{file_format}-{compression}"
        before = len(_sent(ignite, repository["id"]))
        run = run_target(config, batch_messages(scenario, folder, file_format, compression), folder)

        assert run.returncode == 0, run.stderr
        assert _sent(ignite, repository["id"])[before:] == by_record, (file_format, compression)
    rows = rows_exact(ignite, repository["id"])
    assert rows == expected.rows_for(import_format) * (1 + len(ENCODINGS))
