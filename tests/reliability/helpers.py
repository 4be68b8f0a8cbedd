"""Running the real plugins as a user does, and reading the truth from the sandbox.

Every plugin run goes through `run_tap` / `run_target` / `Pipeline`, which keep what the
process printed in `CAPTURED`: the folder's conftest greps all of it for the API token after
each test. Every sandbox here is started with `SECRET` as its token, so a leak cannot hide
behind a token that also appears in harmless text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import requests
from ignite_sandbox.launcher import RunningSandbox
from tap_ignite.tap import TapIgnite

# Distinctive enough that finding it anywhere in an output can only mean a leak.
SECRET = "ign-Rel1abil1ty-s3cret-7C1E9A-token"
BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-ignite")
TARGET = str(BIN / "target-ignite")
DECODER = msgspec.json.Decoder(float_hook=Decimal)
ENCODER = msgspec.json.Encoder(decimal_format="number")

# (what ran, what it printed) for every process started by this module during one test.
CAPTURED: list[tuple[str, str]] = []


def remember(label: str, *texts: str | bytes) -> None:
    """Keep output for the folder's token check."""
    for text in texts:
        CAPTURED.append(
            (label, text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
        )


def figure(name: str, **values: Any) -> None:
    """Print a figure for docs/reliability.md (shown with `pytest -s` or `-rP`)."""
    print(f"FIGURE {name}: {json.dumps(values, default=str)}")


def plugin_env(**extra: str) -> dict[str, str]:
    """The environment plugins run in: this one, minus any Meltano/plugin settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
    env.update(extra)
    return env


@dataclass
class Run:
    """One finished run of a plugin executable."""

    label: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [DECODER.decode(line) for line in self.stdout.splitlines() if line.strip()]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def states(self) -> list[Any]:
        """STATE values: the tap's STATE messages, or what the target printed."""
        values = []
        for message in self.messages:
            if message.get("type") == "STATE":
                values.append(message["value"])
            elif "type" not in message:  # a target prints bare state values
                values.append(message)
        return values

    @property
    def error_lines(self) -> list[str]:
        """Lines the plugin logged at ERROR level (or that are a traceback's last line)."""
        return [line for line in self.stderr.splitlines() if "ERROR" in line]

    def the_error(self) -> str:
        """The one error line the run ended with (fails the test unless there is exactly one)."""
        lines = self.error_lines
        assert len(lines) == 1, f"expected one ERROR line, got {len(lines)}:\n{self.stderr}"
        return lines[0]


def _write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def tap_argv(
    workdir: Path,
    config: dict[str, Any],
    *args: str,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> list[str]:
    """`tap-ignite --config ... [--state ...] [--catalog ...] args` with files in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [TAP, "--config", _write_json(workdir / "tap-config.json", config), *args]
    if state is not None:
        argv += ["--state", _write_json(workdir / "tap-state.json", state)]
    if catalog is not None:
        argv += ["--catalog", _write_json(workdir / "tap-catalog.json", catalog)]
    return argv


def target_argv(workdir: Path, config: dict[str, Any]) -> list[str]:
    """`target-ignite --config ...`, reading Singer messages from stdin."""
    workdir.mkdir(parents=True, exist_ok=True)
    return [TARGET, "--config", _write_json(workdir / "target-config.json", config)]


def run(
    label: str,
    argv: list[str],
    *,
    stdin: bytes | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> Run:
    """Run a plugin to the end and keep its output."""
    completed = subprocess.run(
        argv,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        env=env or plugin_env(),
        check=False,
    )
    stdout = completed.stdout.decode("utf-8", "replace")
    stderr = completed.stderr.decode("utf-8", "replace")
    remember(label, stdout, stderr)
    return Run(label, completed.returncode, stdout, stderr)


def run_tap(
    workdir: Path,
    config: dict[str, Any],
    *args: str,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> Run:
    """Run the real `tap-ignite` executable."""
    argv = tap_argv(workdir, config, *args, state=state, catalog=catalog)
    return run("tap-ignite", argv, timeout=timeout, env=env)


def run_target(
    workdir: Path,
    config: dict[str, Any],
    singer_input: bytes,
    *,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> Run:
    """Run the real `target-ignite` executable with `singer_input` on its stdin."""
    return run(
        "target-ignite", target_argv(workdir, config), stdin=singer_input, timeout=timeout, env=env
    )


def catalog_of(config: dict[str, Any], streams: Iterable[str]) -> dict[str, Any]:
    """The tap's discovered catalog (in-process discovery) with only `streams` selected."""
    catalog = TapIgnite(config=config).catalog_dict
    wanted = set(streams)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


# -- the truth, read straight from the sandbox's APIs --------------------------------------


def _auth(server: RunningSandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"}


def tables(server: RunningSandbox) -> list[dict[str, Any]]:
    """`GET /tables/` as the API answers it."""
    response = requests.get(f"{server.url}/tables/", headers=_auth(server), timeout=60)
    response.raise_for_status()
    result: list[dict[str, Any]] = DECODER.decode(response.content)
    return result


def key_of(table: dict[str, Any]) -> str:
    """The column that identifies a row of this table."""
    names = [column["name"] for column in table["columns"]]
    return "id" if "id" in names else "spend_id"


def api_rows(server: RunningSandbox, table: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of a table with every column (arrays asked for by name), through the rows
    API, numbers as Decimal. Call it with faults off: it does not retry."""
    body: dict[str, Any] = {
        "fields": [column["name"] for column in table["columns"]],
        "pageSize": 100_000,
    }
    rows: list[dict[str, Any]] = []
    while True:
        response = requests.post(
            f"{server.url}/tables/{table['id']}/rows",
            headers=_auth(server),
            json=body,
            timeout=120,
        )
        response.raise_for_status()
        page = DECODER.decode(response.content)
        rows.extend(page["data"])
        if not page.get("nextPageToken"):
            return rows
        body["pageToken"] = page["nextPageToken"]


# -- Singer input for the target ------------------------------------------------------------

SPEND_FIELDS = ["Id", "Period", "SupplierName", "Amount"]
SPEND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "Id": {"type": "integer"},
        "Period": {"type": "string"},
        "SupplierName": {"type": "string"},
        "Amount": {"type": "number"},
    },
}


def line(message: dict[str, Any]) -> bytes:
    """One Singer message as a line (Decimals as exact JSON numbers)."""
    return ENCODER.encode(message) + b"\n"


def schema_line(stream: str = "spend", schema: dict[str, Any] | None = None) -> bytes:
    return line(
        {
            "type": "SCHEMA",
            "stream": stream,
            "schema": schema or SPEND_SCHEMA,
            "key_properties": ["Id"],
        }
    )


def spend_record(i: int, period: str = "2026-03") -> dict[str, Any]:
    """Record number `i`: a unique Id and an amount with cents that a float would blur."""
    return {
        "Id": i,
        "Period": period,
        "SupplierName": f"Supplier {i % 997}",
        "Amount": Decimal(f"{i}123456789.{i % 100:02d}"),
    }


def record_line(record: dict[str, Any], stream: str = "spend") -> bytes:
    return line({"type": "RECORD", "stream": stream, "record": record})


def state_line(value: Any) -> bytes:
    return line({"type": "STATE", "value": value})


def spend_input(ids: Iterable[int], *, state_every: int = 0, period: str = "2026-03") -> bytes:
    """SCHEMA, then a RECORD per id, with STATE {"position": id} after every `state_every`."""
    parts = [schema_line()]
    for i in ids:
        parts.append(record_line(spend_record(i, period)))
        if state_every and i % state_every == 0:
            parts.append(state_line({"position": i}))
    return b"".join(parts)


def repository_ids(server: RunningSandbox, repository_id: str) -> list[int]:
    """The `Id` of every row in a repository, in import order."""
    return [int(row["Id"]) for row in server.admin.repository_rows(repository_id)]


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
